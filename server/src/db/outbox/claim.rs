//! Claiming due messages under a lease, and every state change a worker
//! makes while it holds one.
use super::{from_row, Outbox, OutboxMessage};
use crate::db::entities::outbox_message;
use crate::db::StoreError;
use app::model::mail::OutboxState;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, Statement,
};

/// How many times `limit` of the oldest due messages a claim shares out
/// between mailboxes (bounded, so a huge backlog does not make every claim
/// rank all of it).
const CLAIM_WINDOW: i64 = 16;

/// The most messages of one mailbox under a live lease at once, across
/// instances. Leasing more only lets leases run out while messages wait for
/// one of the mailbox's four Graph request slots: a burst of 1,000 for one
/// mailbox, all claimed at once, had its leases expire before their turn
/// came, and the same messages were claimed again and again (found by the
/// long chaos run). 64 wait at most 16 rounds of a slot (seconds, against a
/// lease of minutes), and keep a fast Graph busy between claims.
pub const PER_MAILBOX: i64 = 64;

/// Where a leased message goes when its worker lets go of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Release<'a> {
    /// Back to the queue, due then, with the reason shown meanwhile.
    Retry { at: DateTime<Utc>, why: &'a str },
    /// Failed for good, or held until the mailbox is re-authenticated.
    Finish { state: OutboxState, why: &'a str },
    /// The draft vanished: failed, and the draft forgotten so that an
    /// admin's Retry makes a new one instead of looking for it forever.
    DraftVanished { why: &'a str },
}

impl Outbox<'_> {
    /// Takes up to `limit` due messages (queued and due, or sending with an
    /// expired lease: a worker that died) and leases them to `owner` until
    /// `now + lease`.
    ///
    /// Mailboxes take turns: among the oldest due messages (a window of
    /// `CLAIM_WINDOW` × `limit`), each mailbox's first message comes before
    /// any mailbox's second (counting the messages it already has in
    /// flight), and no mailbox gets more than `PER_MAILBOX` in flight. A burst queued for one mailbox then does not
    /// keep the others waiting for later claims while its own four Graph
    /// slots are the bottleneck.
    pub async fn claim(
        &self,
        owner: &str,
        lease: chrono::Duration,
        limit: u64,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        let db = &self.0.conn;
        let now = self.0.now();
        let backend = db.get_database_backend();
        // PostgreSQL: several instances claim at once; SKIP LOCKED lets each
        // take different rows without waiting. It locks rows in turn order as
        // it goes (the ranking is computed in a CTE, since a query level with
        // a window function cannot lock), and re-checks that a locked row is
        // still due. SQLite has one writer at a time anyway.
        let sql = match backend {
            DbBackend::Postgres => {
                "WITH busy AS (SELECT tenant_email_id, COUNT(*) AS n FROM outbox_message \
                     WHERE state = 'sending' AND lease_until >= $3 GROUP BY tenant_email_id), \
                 ranked AS (SELECT c.id, c.next_attempt_at, ROW_NUMBER() OVER \
                     (PARTITION BY c.tenant_email_id ORDER BY c.next_attempt_at, c.id) \
                     + COALESCE(b.n, 0) AS turn \
                   FROM (SELECT id, tenant_email_id, next_attempt_at FROM outbox_message \
                     WHERE (state = 'queued' AND next_attempt_at <= $3) \
                        OR (state = 'sending' AND lease_until < $3) \
                     ORDER BY next_attempt_at LIMIT $5) AS c \
                   LEFT JOIN busy b ON b.tenant_email_id = c.tenant_email_id) \
                 UPDATE outbox_message SET state = 'sending', lease_owner = $1, lease_until = $2, \
                 attempts = attempts + 1, updated_at = $3 \
                 WHERE id IN (SELECT o.id FROM outbox_message o JOIN ranked r ON r.id = o.id \
                   WHERE r.turn <= $6 AND ((o.state = 'queued' AND o.next_attempt_at <= $3) \
                      OR (o.state = 'sending' AND o.lease_until < $3)) \
                   ORDER BY r.turn, r.next_attempt_at LIMIT $4 FOR UPDATE OF o SKIP LOCKED) \
                 RETURNING *"
            }
            _ => {
                "UPDATE outbox_message SET state = 'sending', lease_owner = ?1, lease_until = ?2, \
                 attempts = attempts + 1, updated_at = ?3 \
                 WHERE id IN (SELECT id FROM ( \
                     SELECT c.id, c.next_attempt_at, ROW_NUMBER() OVER \
                       (PARTITION BY c.tenant_email_id ORDER BY c.next_attempt_at, c.id) \
                       + COALESCE(b.n, 0) AS turn \
                     FROM (SELECT id, tenant_email_id, next_attempt_at FROM outbox_message \
                       WHERE (state = 'queued' AND next_attempt_at <= ?3) \
                          OR (state = 'sending' AND lease_until < ?3) \
                       ORDER BY next_attempt_at LIMIT ?5) AS c \
                     LEFT JOIN (SELECT tenant_email_id, COUNT(*) AS n FROM outbox_message \
                       WHERE state = 'sending' AND lease_until >= ?3 GROUP BY tenant_email_id) AS b \
                       ON b.tenant_email_id = c.tenant_email_id \
                   ) WHERE turn <= ?6 ORDER BY turn, next_attempt_at LIMIT ?4) \
                 RETURNING *"
            }
        };
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        Ok(outbox_message::Entity::find()
            .from_raw_sql(Statement::from_sql_and_values(
                backend,
                sql,
                [
                    owner.into(),
                    (now + lease).into(),
                    now.into(),
                    limit.into(),
                    limit.saturating_mul(CLAIM_WINDOW).into(),
                    PER_MAILBOX.into(),
                ],
            ))
            .all(db)
            .await?
            .into_iter()
            .map(from_row)
            .collect())
    }

    /// Lets go of a leased message; false when the lease is no longer ours.
    pub async fn release(&self, m: &OutboxMessage, to: Release<'_>) -> Result<bool, StoreError> {
        let now = self.0.now();
        let (state, why) = match &to {
            Release::Retry { why, .. } => (OutboxState::Queued, *why),
            Release::Finish { state, why } => (*state, *why),
            Release::DraftVanished { why } => (OutboxState::Failed, *why),
        };
        let mut columns = release_columns(state, now);
        columns.push((
            outbox_message::Column::LastError,
            Expr::value(Some(why.to_string())),
        ));
        match to {
            Release::Retry { at, .. } => {
                columns.push((outbox_message::Column::NextAttemptAt, Expr::value(at)));
            }
            Release::DraftVanished { .. } => columns.push((
                outbox_message::Column::GraphMessageId,
                Expr::value(Option::<String>::None),
            )),
            Release::Finish { .. } => {}
        }
        Ok(update_leased(&self.0.conn, &m.id, m.lease(), columns).await?)
    }
}

/// Updates a message only while `owner` still holds its lease.
async fn update_leased<C: ConnectionTrait>(
    db: &C,
    id: &str,
    owner: &str,
    columns: Vec<(outbox_message::Column, Expr)>,
) -> Result<bool, DbErr> {
    let mut update = outbox_message::Entity::update_many();
    for (column, value) in columns {
        update = update.col_expr(column, value);
    }
    Ok(update
        .filter(outbox_message::Column::Id.eq(id))
        .filter(outbox_message::Column::LeaseOwner.eq(owner))
        .filter(outbox_message::Column::State.eq(OutboxState::Sending.code()))
        .exec(db)
        .await?
        .rows_affected
        == 1)
}

fn release_columns(state: OutboxState, now: DateTime<Utc>) -> Vec<(outbox_message::Column, Expr)> {
    vec![
        (outbox_message::Column::State, Expr::value(state.code())),
        (
            outbox_message::Column::LeaseOwner,
            Expr::value(Option::<String>::None),
        ),
        (
            outbox_message::Column::LeaseUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        ),
        (outbox_message::Column::UpdatedAt, Expr::value(now)),
    ]
}

/// The draft exists: remember its id before anything else happens.
pub(super) async fn record_draft<C: ConnectionTrait>(
    db: &C,
    id: &str,
    owner: &str,
    graph_id: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    update_leased(
        db,
        id,
        owner,
        vec![
            (
                outbox_message::Column::GraphMessageId,
                Expr::value(Some(graph_id.to_string())),
            ),
            (outbox_message::Column::UpdatedAt, Expr::value(now)),
        ],
    )
    .await
}

pub(super) async fn mark_sent<C: ConnectionTrait>(
    db: &C,
    id: &str,
    owner: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let mut columns = release_columns(OutboxState::Sent, now);
    columns.push((outbox_message::Column::SentAt, Expr::value(Some(now))));
    columns.push((
        outbox_message::Column::LastError,
        Expr::value(Option::<String>::None),
    ));
    update_leased(db, id, owner, columns).await
}
