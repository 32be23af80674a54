//! Sign-in throttling, in two layers.
//!
//! - **Per address, in memory** (`governor`): every attempt counts. It guards
//!   this instance's CPU and memory (each attempt costs an argon2id hash of
//!   19 MiB) before any database work, so it is naturally per instance.
//! - **Per username, in the database** (GCRA, one row per bucket): shared by
//!   every instance, so N instances do not allow N times the guessing rate.
//!   Only failed attempts count: an attempt is charged before the password is
//!   checked (parallel guesses cannot slip through) and refunded when it
//!   succeeds. Two buckets: one per (username, address), strict, and one per
//!   username across all addresses, looser but refilling faster than a single
//!   address can drain it — so one hostile address cannot lock an admin out;
//!   it takes several addresses guessing at full speed.
use crate::hashing::sha256_hex;
use chrono::{DateTime, Utc};
use governor::clock::DefaultClock;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement, Value};
use std::num::NonZeroU32;
use std::time::Duration;

type Keyed = RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock>;

/// How many attempts a bucket allows at once, and how fast one more becomes
/// allowed.
#[derive(Debug, Clone, Copy)]
pub struct Bucket {
    pub burst: u32,
    pub every: Duration,
}

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Every attempt from one address (memory, per instance).
    pub ip: Bucket,
    /// Failed attempts for one username from one address (shared).
    pub user_at_ip: Bucket,
    /// Failed attempts for one username from anywhere (shared).
    pub user: Bucket,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            // An office behind one NAT address: generous per address.
            ip: Bucket {
                burst: 30,
                every: Duration::from_secs(2),
            },
            user_at_ip: Bucket {
                burst: 5,
                every: Duration::from_secs(12),
            },
            // Refills twice as fast as one address may fail: a single
            // address never empties it.
            user: Bucket {
                burst: 10,
                every: Duration::from_secs(6),
            },
        }
    }
}

/// What an attempt took from the shared buckets; handed back on success.
#[derive(Debug)]
#[must_use]
pub struct Charge {
    taken: Vec<(String, i64)>,
}

/// The answer to an attempt.
#[derive(Debug)]
pub enum Verdict {
    Go(Charge),
    /// Refused: seconds until the next attempt is allowed.
    Wait(u64),
}

pub struct SignInThrottle {
    per_ip: Keyed,
    db: DatabaseConnection,
    limits: Limits,
}

fn quota(b: Bucket) -> Quota {
    let burst = NonZeroU32::new(b.burst.max(1)).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(b.every.max(Duration::from_millis(1)))
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
        .allow_burst(burst)
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX).max(1)
}

/// Statements are written for PostgreSQL; SQLite spells `GREATEST` as the
/// two-argument `MAX` and numbers its parameters with `?`.
fn statement(backend: DbBackend, pg: &str, values: Vec<Value>) -> Statement {
    let sql = match backend {
        DbBackend::Postgres => pg.to_string(),
        _ => pg.replace("GREATEST(", "MAX(").replace('$', "?"),
    };
    Statement::from_sql_and_values(backend, sql, values)
}

impl SignInThrottle {
    pub fn new(db: DatabaseConnection, limits: Limits) -> Self {
        Self {
            per_ip: RateLimiter::keyed(quota(limits.ip)),
            db,
            limits,
        }
    }

    /// Takes one attempt for `username` from `ip`: first from this instance's
    /// per-address budget, then from the shared per-username buckets.
    pub async fn attempt(
        &self,
        ip: &str,
        username: &str,
        now: DateTime<Utc>,
    ) -> Result<Verdict, DbErr> {
        let ip = crate::web_security::client_ip::throttle_key(ip);
        if let Err(not_until) = self.per_ip.check_key(&ip) {
            use governor::clock::{Clock, DefaultClock};
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            return Ok(Verdict::Wait(wait.as_secs().max(1)));
        }
        let now_ms = now.timestamp_millis();
        let buckets = [
            (
                sha256_hex(format!("user-at-ip\n{username}\n{ip}")),
                self.limits.user_at_ip,
            ),
            (sha256_hex(format!("user\n{username}")), self.limits.user),
        ];
        let mut charge = Charge { taken: Vec::new() };
        for (key, bucket) in buckets {
            let period = millis(bucket.every);
            match self.take(&key, bucket.burst, period, now_ms).await {
                Ok(None) => charge.taken.push((key, period)),
                Ok(Some(wait)) => {
                    self.refund(charge).await;
                    return Ok(Verdict::Wait(wait));
                }
                Err(e) => {
                    self.refund(charge).await;
                    return Err(e);
                }
            }
        }
        Ok(Verdict::Go(charge))
    }

    /// The attempt succeeded: it does not count against the username.
    pub async fn succeeded(&self, charge: Charge) {
        self.refund(charge).await;
    }

    async fn refund(&self, charge: Charge) {
        let backend = self.db.get_database_backend();
        for (key, period) in charge.taken {
            let st = statement(
                backend,
                "UPDATE sign_in_throttle SET tat_ms = tat_ms - $1 WHERE key = $2",
                vec![period.into(), key.into()],
            );
            if let Err(e) = self.db.execute_raw(st).await {
                tracing::warn!(error = %e, "cannot refund a sign-in throttle charge");
            }
        }
    }

    /// One GCRA step, atomic on both databases: allowed while the bucket's
    /// arrival time is at most `burst - 1` periods ahead of now. `Some(secs)`
    /// when refused.
    async fn take(
        &self,
        key: &str,
        burst: u32,
        period: i64,
        now: i64,
    ) -> Result<Option<u64>, DbErr> {
        let backend = self.db.get_database_backend();
        let limit = now.saturating_add(period.saturating_mul(i64::from(burst.max(1)) - 1));
        // Twice: a first attempt racing another instance's insert retries the update.
        for _ in 0..2 {
            let updated = self
                .db
                .execute_raw(statement(
                    backend,
                    "UPDATE sign_in_throttle SET tat_ms = GREATEST(tat_ms, $1) + $2 \
                     WHERE key = $3 AND tat_ms <= $4",
                    vec![now.into(), period.into(), key.into(), limit.into()],
                ))
                .await?;
            if updated.rows_affected() == 1 {
                return Ok(None);
            }
            let inserted = self
                .db
                .execute_raw(statement(
                    backend,
                    "INSERT INTO sign_in_throttle (key, tat_ms) VALUES ($1, $2) \
                     ON CONFLICT (key) DO NOTHING",
                    vec![key.into(), now.saturating_add(period).into()],
                ))
                .await?;
            if inserted.rows_affected() == 1 {
                return Ok(None);
            }
            let row = self
                .db
                .query_one_raw(statement(
                    backend,
                    "SELECT tat_ms FROM sign_in_throttle WHERE key = $1",
                    vec![key.into()],
                ))
                .await?;
            let tat: i64 = match row {
                Some(r) => r.try_get("", "tat_ms")?,
                None => continue,
            };
            if tat > limit {
                let wait_ms = u64::try_from(tat - limit).unwrap_or(u64::MAX);
                return Ok(Some(wait_ms.div_ceil(1000).max(1)));
            }
        }
        // Lost two races in a row: refuse briefly rather than skip the charge.
        Ok(Some(1))
    }

    /// Drops buckets that have refilled completely, and idle address entries.
    pub async fn purge(&self, now: DateTime<Utc>) -> Result<u64, DbErr> {
        self.per_ip.retain_recent();
        self.per_ip.shrink_to_fit();
        let backend = self.db.get_database_backend();
        let done = self
            .db
            .execute_raw(statement(
                backend,
                "DELETE FROM sign_in_throttle WHERE tat_ms < $1",
                vec![now.timestamp_millis().into()],
            ))
            .await?;
        Ok(done.rows_affected())
    }
}
