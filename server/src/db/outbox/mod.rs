//! `outbox_message` and `outbox_attachment`: the durable queue of outgoing
//! mail. A message is committed before anyone is told "queued"; workers
//! claim messages under a lease, and every state change names the lease, so
//! a worker whose lease expired (and was taken over) cannot overwrite the new
//! owner. [`GroupCommit`] batches the two writes every sent message makes.
mod claim;
mod enqueue;
mod group_commit;

pub use claim::{Release, PER_MAILBOX};
pub use enqueue::{Enqueued, NewAttachment, NewMessage};
pub use group_commit::GroupCommit;

use super::entities::{outbox_attachment, outbox_message};
use super::{Store, StoreError};
use app::model::mail::{OutboxState, OutgoingMessage};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

/// A queued (or finished) message, without its attachments' bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    pub id: String,
    pub tenant_email_id: String,
    pub state: OutboxState,
    pub subject: String,
    /// The To addresses (for lists; the whole message is [`Self::message`]).
    pub to: Vec<String>,
    /// The draft's immutable id once it exists.
    pub graph_message_id: Option<String>,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    /// The claim this message is leased to while it is being sent.
    pub lease_owner: Option<String>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    message_json: String,
}

impl OutboxMessage {
    /// The message as queued (attachments named, their bytes are stored apart).
    pub fn message(&self) -> Result<OutgoingMessage, StoreError> {
        serde_json::from_str(&self.message_json)
            .map_err(|e| StoreError::Corrupt(format!("outbox message {}: {e}", self.id)))
    }

    /// The lease it was claimed under ("" when not claimed).
    pub fn lease(&self) -> &str {
        self.lease_owner.as_deref().unwrap_or_default()
    }
}

fn from_row(m: outbox_message::Model) -> OutboxMessage {
    OutboxMessage {
        // A state this version does not know is shown as failed, never sent again.
        state: OutboxState::from_code(&m.state).unwrap_or(OutboxState::Failed),
        to: serde_json::from_str(&m.recipients).unwrap_or_default(),
        id: m.id,
        tenant_email_id: m.tenant_email_id,
        subject: m.subject,
        graph_message_id: m.graph_message_id,
        attempts: m.attempts,
        next_attempt_at: m.next_attempt_at,
        lease_owner: m.lease_owner,
        last_error: m.last_error,
        created_at: m.created_at,
        sent_at: m.sent_at,
        message_json: m.message,
    }
}

/// An attachment to send, with its bytes.
pub struct StoredAttachment {
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

pub struct Outbox<'a>(&'a Store);

impl Store {
    pub fn outbox(&self) -> Outbox<'_> {
        Outbox(self)
    }
}

impl Outbox<'_> {
    /// How many messages are in each state, all mailboxes together (for `/metrics`).
    pub async fn count_by_state(&self) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(outbox_message::Entity::find()
            .select_only()
            .column(outbox_message::Column::State)
            .column_as(outbox_message::Column::Id.count(), "n")
            .group_by(outbox_message::Column::State)
            .order_by_asc(outbox_message::Column::State)
            .into_tuple::<(String, i64)>()
            .all(&self.0.conn)
            .await?)
    }

    /// One mailbox's messages per state, and when it last sent one (the
    /// Connection panel's activity line).
    pub async fn activity(
        &self,
        tenant_email_id: &str,
    ) -> Result<(Vec<(String, i64)>, Option<DateTime<Utc>>), StoreError> {
        let counts = outbox_message::Entity::find()
            .select_only()
            .column(outbox_message::Column::State)
            .column_as(outbox_message::Column::Id.count(), "n")
            .filter(outbox_message::Column::TenantEmailId.eq(tenant_email_id))
            .group_by(outbox_message::Column::State)
            .into_tuple::<(String, i64)>()
            .all(&self.0.conn)
            .await?;
        let last_sent: Option<Option<DateTime<Utc>>> = outbox_message::Entity::find()
            .select_only()
            .column(outbox_message::Column::SentAt)
            .filter(outbox_message::Column::TenantEmailId.eq(tenant_email_id))
            .filter(outbox_message::Column::SentAt.is_not_null())
            .order_by_desc(outbox_message::Column::SentAt)
            .into_tuple()
            .one(&self.0.conn)
            .await?;
        Ok((counts, last_sent.flatten()))
    }

    pub async fn get(&self, id: &str) -> Result<Option<OutboxMessage>, StoreError> {
        Ok(outbox_message::Entity::find_by_id(id.to_string())
            .one(&self.0.conn)
            .await?
            .map(from_row))
    }

    /// A message's attachments, in the order they were given.
    pub async fn attachments(&self, id: &str) -> Result<Vec<StoredAttachment>, StoreError> {
        Ok(outbox_attachment::Entity::find()
            .filter(outbox_attachment::Column::OutboxMessageId.eq(id))
            .order_by_asc(outbox_attachment::Column::Position)
            .all(&self.0.conn)
            .await?
            .into_iter()
            .map(|a| StoredAttachment {
                name: a.name,
                content_type: a.content_type,
                bytes: a.content,
            })
            .collect())
    }

    /// A mailbox's messages, newest first.
    pub async fn list(
        &self,
        tenant_email_id: &str,
        limit: u64,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        Ok(outbox_message::Entity::find()
            .filter(outbox_message::Column::TenantEmailId.eq(tenant_email_id))
            .order_by_desc(outbox_message::Column::CreatedAt)
            .limit(limit)
            .all(&self.0.conn)
            .await?
            .into_iter()
            .map(from_row)
            .collect())
    }

    /// An admin's "Retry" (failed or held → queued now, with a fresh age
    /// budget) or "Cancel" (queued, held or failed → cancelled). Never
    /// touches a message being sent. False when the message is not in a
    /// state that allows it (or not this mailbox's).
    pub async fn admin_transition(
        &self,
        tenant_email_id: &str,
        id: &str,
        to: OutboxState,
    ) -> Result<bool, StoreError> {
        let now = self.0.now();
        let from: &[OutboxState] = match to {
            OutboxState::Queued => &[OutboxState::Failed, OutboxState::Held],
            OutboxState::Cancelled => {
                &[OutboxState::Queued, OutboxState::Held, OutboxState::Failed]
            }
            _ => &[],
        };
        let mut update = outbox_message::Entity::update_many()
            .col_expr(outbox_message::Column::State, Expr::value(to.code()))
            .col_expr(outbox_message::Column::UpdatedAt, Expr::value(now));
        if to == OutboxState::Queued {
            update = update
                .col_expr(outbox_message::Column::NextAttemptAt, Expr::value(now))
                .col_expr(outbox_message::Column::CreatedAt, Expr::value(now));
        }
        Ok(update
            .filter(outbox_message::Column::Id.eq(id))
            .filter(outbox_message::Column::TenantEmailId.eq(tenant_email_id))
            .filter(outbox_message::Column::State.is_in(from.iter().map(|s| s.code())))
            .exec(&self.0.conn)
            .await?
            .rows_affected
            == 1)
    }
}

/// After a successful (re-)authentication: everything held for the mailbox
/// goes back to the queue (inside the transaction that connects it).
/// Returns how many.
pub(super) async fn release_held<C: ConnectionTrait>(
    conn: &C,
    tenant_email_id: &str,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    Ok(outbox_message::Entity::update_many()
        .col_expr(
            outbox_message::Column::State,
            Expr::value(OutboxState::Queued.code()),
        )
        .col_expr(outbox_message::Column::NextAttemptAt, Expr::value(now))
        .col_expr(outbox_message::Column::UpdatedAt, Expr::value(now))
        .filter(outbox_message::Column::TenantEmailId.eq(tenant_email_id))
        .filter(outbox_message::Column::State.eq(OutboxState::Held.code()))
        .exec(conn)
        .await?
        .rows_affected)
}

#[cfg(test)]
mod tests;
