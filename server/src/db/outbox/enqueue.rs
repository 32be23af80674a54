//! Committing a new message with its attachments, idempotent per mailbox key.
use super::Outbox;
use crate::db::entities::{outbox_attachment, outbox_message, tenant_email};
use crate::db::error::is_unique_violation;
use crate::db::StoreError;
use app::model::mail::{OutboxState, OutgoingMessage};
use app::model::Direction;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QuerySelect, Set, TransactionTrait,
};

/// A validated message to queue. `message` keeps names and types of the
/// attachments, with their contents already taken out; their bytes come
/// decoded in `attachments` (the JSON is stored as given).
pub struct NewMessage<'a> {
    pub tenant_email_id: &'a str,
    pub message: &'a OutgoingMessage,
    pub attachments: Vec<NewAttachment>,
    /// Identifies the request behind an idempotency key: the same key with
    /// another hash is another message.
    pub request_hash: String,
}

pub struct NewAttachment {
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// How an enqueue ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Enqueued {
    Queued(String),
    /// The same idempotency key and request came before: that message's id.
    Existing(String),
    /// The idempotency key was used for a different message.
    KeyReused,
    /// No such tenant email.
    NoMailbox,
    /// The tenant email only receives.
    NotSending,
}

impl Outbox<'_> {
    /// Commits the message and its attachments in one transaction.
    pub async fn enqueue(&self, new: NewMessage<'_>) -> Result<Enqueued, StoreError> {
        let db = &self.0.conn;
        let now = self.0.now();
        let direction: Option<String> = tenant_email::Entity::find_by_id(new.tenant_email_id)
            .select_only()
            .column(tenant_email::Column::Direction)
            .into_tuple()
            .one(db)
            .await?;
        let Some(direction) = direction else {
            return Ok(Enqueued::NoMailbox);
        };
        if !Direction::from_code(&direction).is_some_and(|d| d.sends()) {
            return Ok(Enqueued::NotSending);
        }
        if let Some(existing) = self.by_key(&new).await? {
            return Ok(existing);
        }
        let json = serde_json::to_string(new.message)
            .map_err(|e| StoreError::Corrupt(format!("cannot serialise a message: {e}")))?;
        let recipients = serde_json::to_string(&new.message.to)
            .map_err(|e| StoreError::Corrupt(format!("cannot serialise recipients: {e}")))?;
        let id = uuid::Uuid::new_v4().to_string();
        let txn = db.begin().await?;
        let inserted = outbox_message::ActiveModel {
            id: Set(id.clone()),
            tenant_email_id: Set(new.tenant_email_id.to_string()),
            idempotency_key: Set(new.message.idempotency_key.clone()),
            request_hash: Set(new.request_hash.clone()),
            state: Set(OutboxState::Queued.code().to_string()),
            subject: Set(new.message.subject.clone()),
            recipients: Set(recipients),
            message: Set(json),
            graph_message_id: Set(None),
            attempts: Set(0),
            next_attempt_at: Set(now),
            lease_owner: Set(None),
            lease_until: Set(None),
            last_error: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            sent_at: Set(None),
        }
        .insert(&txn)
        .await;
        match inserted {
            Ok(_) => {}
            // Two enqueues with the same key raced: the other one won.
            Err(e) if is_unique_violation(&e) => {
                drop(txn);
                return match self.by_key(&new).await? {
                    Some(existing) => Ok(existing),
                    None => Err(e.into()),
                };
            }
            Err(e) => return Err(e.into()),
        }
        for (position, a) in new.attachments.into_iter().enumerate() {
            outbox_attachment::ActiveModel {
                outbox_message_id: Set(id.clone()),
                position: Set(i32::try_from(position).unwrap_or(i32::MAX)),
                name: Set(a.name),
                content_type: Set(a.content_type),
                size: Set(i64::try_from(a.bytes.len()).unwrap_or(i64::MAX)),
                content: Set(a.bytes),
            }
            .insert(&txn)
            .await?;
        }
        txn.commit().await?;
        Ok(Enqueued::Queued(id))
    }

    /// The message queued before under the same idempotency key, if any.
    async fn by_key(&self, new: &NewMessage<'_>) -> Result<Option<Enqueued>, StoreError> {
        let Some(key) = &new.message.idempotency_key else {
            return Ok(None);
        };
        let found = outbox_message::Entity::find()
            .filter(outbox_message::Column::TenantEmailId.eq(new.tenant_email_id))
            .filter(outbox_message::Column::IdempotencyKey.eq(key.as_str()))
            .one(&self.0.conn)
            .await?;
        Ok(found.map(|m| {
            if m.request_hash == new.request_hash {
                Enqueued::Existing(m.id)
            } else {
                Enqueued::KeyReused
            }
        }))
    }
}
