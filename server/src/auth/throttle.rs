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
use crate::db::{Store, StoreError};
use crate::hashing::sha256_hex;
use governor::clock::DefaultClock;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
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
    store: Store,
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

impl SignInThrottle {
    pub fn new(store: Store, limits: Limits) -> Self {
        Self {
            per_ip: RateLimiter::keyed(quota(limits.ip)),
            store,
            limits,
        }
    }

    /// Takes one attempt from this instance's per-address budget only: for
    /// anonymous requests with no account to count against (setup). `Err`:
    /// seconds to wait.
    pub fn address(&self, ip: &str) -> Result<(), u64> {
        let ip = crate::web_security::client_ip::throttle_key(ip);
        self.per_ip.check_key(&ip).map_err(|not_until| {
            use governor::clock::{Clock, DefaultClock};
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            wait.as_secs().max(1)
        })
    }

    /// Takes one attempt for `username` from `ip`: first from this instance's
    /// per-address budget, then from the shared per-username buckets.
    pub async fn attempt(&self, ip: &str, username: &str) -> Result<Verdict, StoreError> {
        if let Err(wait) = self.address(ip) {
            return Ok(Verdict::Wait(wait));
        }
        let ip = crate::web_security::client_ip::throttle_key(ip);
        let now_ms = self.store.now().timestamp_millis();
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
            match self
                .store
                .throttle()
                .take(&key, bucket.burst, period, now_ms)
                .await
            {
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
        for (key, period) in charge.taken {
            if let Err(e) = self.store.throttle().refund(&key, period).await {
                tracing::warn!(error = %e, "cannot refund a sign-in throttle charge");
            }
        }
    }

    /// Drops buckets that have refilled completely, and idle address entries.
    pub async fn purge(&self) -> Result<u64, StoreError> {
        self.per_ip.retain_recent();
        self.per_ip.shrink_to_fit();
        self.store.throttle().purge().await
    }
}
