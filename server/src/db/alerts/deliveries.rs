//! `alert_delivery`: taking a destination's due alerts as one batch (a
//! digest when several fired together) and recording how its delivery went.
//! A batch keeps its id across retries, so a retried webhook carries the
//! same delivery id and a retried email the same idempotency key.
use super::super::entities::{alert_delivery, alert_destination};
use super::{from_row, Alerts, Destination, StoreError};
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};

pub(super) const PENDING: &str = "pending";
const DELIVERED: &str = "delivered";
const FAILED: &str = "failed";
/// Alerts in one digest at most.
const BATCH_MAX: u64 = 50;
/// Tries before a delivery is given up (the backoff reaches an hour, so
/// about half a day).
const MAX_ATTEMPTS: i32 = 16;

/// Alerts taken for one destination.
#[derive(Debug, Clone)]
pub struct Batch {
    pub id: String,
    pub destination: Destination,
    /// The alerts, as JSON, oldest first.
    pub events: Vec<String>,
    /// Tries so far (0 on the first).
    pub attempts: i32,
}

/// How a batch's delivery went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Delivered(String),
    /// Try again later (after a backoff), with what went wrong.
    Retry(String),
}

/// After `attempts` tries: 30 s, 1 min, 2 min, … up to an hour.
fn backoff(attempts: i32) -> Duration {
    let exp = u32::try_from((attempts - 1).clamp(0, 7)).unwrap_or(7);
    Duration::seconds((30_i64 << exp).min(3600))
}

impl Alerts<'_> {
    /// Leases a destination with due alerts to `owner` and returns its batch:
    /// an unfinished batch again, else up to [`BATCH_MAX`] new alerts.
    pub async fn claim(&self, owner: &str, lease: Duration) -> Result<Option<Batch>, StoreError> {
        let db = &self.0.conn;
        let now = self.0.now();
        let due: Vec<String> = alert_delivery::Entity::find()
            .select_only()
            .column(alert_delivery::Column::DestinationId)
            .distinct()
            .filter(alert_delivery::Column::State.eq(PENDING))
            .filter(alert_delivery::Column::NextAttemptAt.lte(now))
            .into_tuple()
            .all(db)
            .await?;
        for destination_id in due {
            if !self.lease(&destination_id, owner, now, lease).await? {
                continue;
            }
            match self.take_batch(&destination_id, now).await? {
                Some(batch) => return Ok(Some(batch)),
                None => self.release(&destination_id, owner).await?,
            }
        }
        Ok(None)
    }

    async fn lease(
        &self,
        destination_id: &str,
        owner: &str,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<bool, StoreError> {
        use alert_destination::Column;
        let taken = alert_destination::Entity::update_many()
            .col_expr(Column::LeaseOwner, Expr::value(owner))
            .col_expr(Column::LeaseUntil, Expr::value(now + lease))
            .filter(Column::Id.eq(destination_id))
            .filter(
                Condition::any()
                    .add(Column::LeaseUntil.is_null())
                    .add(Column::LeaseUntil.lt(now)),
            )
            .exec(&self.0.conn)
            .await?;
        Ok(taken.rows_affected == 1)
    }

    async fn release(&self, destination_id: &str, owner: &str) -> Result<(), StoreError> {
        use alert_destination::Column;
        alert_destination::Entity::update_many()
            .col_expr(Column::LeaseOwner, Expr::value(Option::<String>::None))
            .col_expr(
                Column::LeaseUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(Column::Id.eq(destination_id))
            .filter(Column::LeaseOwner.eq(owner))
            .exec(&self.0.conn)
            .await?;
        Ok(())
    }

    /// Under the destination's lease: the batch to (re)try now, if any. A
    /// batch waiting for its retry holds back newer alerts, so a destination
    /// gets its alerts in order.
    async fn take_batch(
        &self,
        destination_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Batch>, StoreError> {
        use alert_delivery::Column;
        let txn = self.0.conn.begin().await?;
        let Some(destination) = alert_destination::Entity::find_by_id(destination_id.to_string())
            .one(&txn)
            .await?
        else {
            return Ok(None);
        };
        let pending = alert_delivery::Entity::find()
            .filter(Column::DestinationId.eq(destination_id))
            .filter(Column::State.eq(PENDING));
        let open = pending
            .clone()
            .filter(Column::BatchId.is_not_null())
            .order_by_asc(Column::CreatedAt)
            .one(&txn)
            .await?;
        let rows = match open {
            Some(first) if first.next_attempt_at > now => return Ok(None),
            Some(first) => {
                pending
                    .filter(Column::BatchId.eq(first.batch_id.clone()))
                    .order_by_asc(Column::CreatedAt)
                    .order_by_asc(Column::Id)
                    .all(&txn)
                    .await?
            }
            None => {
                let rows = pending
                    .filter(Column::NextAttemptAt.lte(now))
                    .order_by_asc(Column::CreatedAt)
                    .order_by_asc(Column::Id)
                    .limit(BATCH_MAX)
                    .all(&txn)
                    .await?;
                if rows.is_empty() {
                    return Ok(None);
                }
                let batch_id = uuid::Uuid::new_v4().to_string();
                alert_delivery::Entity::update_many()
                    .col_expr(Column::BatchId, Expr::value(batch_id.clone()))
                    .filter(Column::Id.is_in(rows.iter().map(|r| r.id.clone())))
                    .exec(&txn)
                    .await?;
                rows.into_iter()
                    .map(|mut r| {
                        r.batch_id = Some(batch_id.clone());
                        r
                    })
                    .collect()
            }
        };
        txn.commit().await?;
        let Some(first) = rows.first() else {
            return Ok(None);
        };
        Ok(Some(Batch {
            id: first.batch_id.clone().unwrap_or_default(),
            attempts: first.attempts,
            destination: from_row(destination)?,
            events: rows.into_iter().map(|r| r.event).collect(),
        }))
    }

    /// Records the outcome and releases the destination.
    pub async fn finish(
        &self,
        owner: &str,
        batch: &Batch,
        outcome: &Outcome,
    ) -> Result<(), StoreError> {
        use alert_delivery::Column;
        let now = self.0.now();
        let txn = self.0.conn.begin().await?;
        let rows = alert_delivery::Entity::update_many()
            .filter(Column::BatchId.eq(batch.id.as_str()))
            .filter(Column::State.eq(PENDING));
        let (ok, detail) = match outcome {
            Outcome::Delivered(detail) => {
                rows.col_expr(Column::State, Expr::value(DELIVERED))
                    .col_expr(Column::DeliveredAt, Expr::value(now))
                    .col_expr(Column::Attempts, Expr::value(batch.attempts + 1))
                    .exec(&txn)
                    .await?;
                (true, detail.clone())
            }
            Outcome::Retry(error) => {
                let attempts = batch.attempts + 1;
                let error: String = error.chars().take(500).collect();
                let rows = rows
                    .col_expr(Column::Attempts, Expr::value(attempts))
                    .col_expr(Column::LastError, Expr::value(error.clone()));
                let detail = if attempts >= MAX_ATTEMPTS {
                    rows.col_expr(Column::State, Expr::value(FAILED))
                        .exec(&txn)
                        .await?;
                    format!("{error} (gave up after {attempts} tries)")
                } else {
                    let next = now + backoff(attempts);
                    rows.col_expr(Column::NextAttemptAt, Expr::value(next))
                        .exec(&txn)
                        .await?;
                    format!(
                        "{error} (try {attempts}; next at {})",
                        next.format("%H:%M:%S UTC")
                    )
                };
                (false, detail)
            }
        };
        use alert_destination::Column as D;
        alert_destination::Entity::update_many()
            .col_expr(D::LastDeliveryAt, Expr::value(now))
            .col_expr(D::LastDeliveryOk, Expr::value(ok))
            .col_expr(
                D::LastDeliveryDetail,
                Expr::value(detail.chars().take(500).collect::<String>()),
            )
            .col_expr(D::LeaseOwner, Expr::value(Option::<String>::None))
            .col_expr(D::LeaseUntil, Expr::value(Option::<DateTime<Utc>>::None))
            .filter(D::Id.eq(batch.destination.id.as_str()))
            .filter(D::LeaseOwner.eq(owner))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Alerts still to deliver, per destination id (shown on the Alerts page).
    pub async fn pending_counts(
        &self,
    ) -> Result<std::collections::HashMap<String, u64>, StoreError> {
        let rows: Vec<(String, i64)> = alert_delivery::Entity::find()
            .select_only()
            .column(alert_delivery::Column::DestinationId)
            .column_as(alert_delivery::Column::Id.count(), "n")
            .filter(alert_delivery::Column::State.eq(PENDING))
            .group_by(alert_delivery::Column::DestinationId)
            .into_tuple()
            .all(&self.0.conn)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(id, n)| (id, u64::try_from(n).unwrap_or(0)))
            .collect())
    }
}
