//! `sign_in_throttle`: GCRA buckets shared by every instance, one row per
//! bucket holding its theoretical arrival time in milliseconds. Each step is
//! one atomic statement on both databases; `auth::throttle` decides which
//! buckets an attempt takes from.
use super::{Store, StoreError};
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};

/// Statements are written for PostgreSQL; SQLite spells `GREATEST` as the
/// two-argument `MAX` and numbers its parameters with `?`.
fn statement(backend: DbBackend, pg: &str, values: Vec<Value>) -> Statement {
    let sql = match backend {
        DbBackend::Postgres => pg.to_string(),
        _ => pg.replace("GREATEST(", "MAX(").replace('$', "?"),
    };
    Statement::from_sql_and_values(backend, sql, values)
}

pub struct Throttle<'a>(&'a Store);

impl Store {
    pub fn throttle(&self) -> Throttle<'_> {
        Throttle(self)
    }
}

impl Throttle<'_> {
    /// One GCRA step: allowed while the bucket's arrival time is at most
    /// `burst - 1` periods ahead of `now_ms`. `Some(seconds to wait)` when
    /// refused.
    pub async fn take(
        &self,
        key: &str,
        burst: u32,
        period_ms: i64,
        now_ms: i64,
    ) -> Result<Option<u64>, StoreError> {
        let db = &self.0.conn;
        let backend = db.get_database_backend();
        let limit = now_ms.saturating_add(period_ms.saturating_mul(i64::from(burst.max(1)) - 1));
        // Twice: a first attempt racing another instance's insert retries the update.
        for _ in 0..2 {
            let updated = db
                .execute_raw(statement(
                    backend,
                    "UPDATE sign_in_throttle SET tat_ms = GREATEST(tat_ms, $1) + $2 \
                     WHERE key = $3 AND tat_ms <= $4",
                    vec![now_ms.into(), period_ms.into(), key.into(), limit.into()],
                ))
                .await?;
            if updated.rows_affected() == 1 {
                return Ok(None);
            }
            let inserted = db
                .execute_raw(statement(
                    backend,
                    "INSERT INTO sign_in_throttle (key, tat_ms) VALUES ($1, $2) \
                     ON CONFLICT (key) DO NOTHING",
                    vec![key.into(), now_ms.saturating_add(period_ms).into()],
                ))
                .await?;
            if inserted.rows_affected() == 1 {
                return Ok(None);
            }
            let row = db
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

    /// Hands back one period taken from the bucket.
    pub async fn refund(&self, key: &str, period_ms: i64) -> Result<(), StoreError> {
        let db = &self.0.conn;
        db.execute_raw(statement(
            db.get_database_backend(),
            "UPDATE sign_in_throttle SET tat_ms = tat_ms - $1 WHERE key = $2",
            vec![period_ms.into(), key.into()],
        ))
        .await?;
        Ok(())
    }

    /// Drops buckets that have refilled completely; returns how many.
    pub async fn purge(&self) -> Result<u64, StoreError> {
        let db = &self.0.conn;
        let done = db
            .execute_raw(statement(
                db.get_database_backend(),
                "DELETE FROM sign_in_throttle WHERE tat_ms < $1",
                vec![self.0.now().timestamp_millis().into()],
            ))
            .await?;
        Ok(done.rows_affected())
    }
}
