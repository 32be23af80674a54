//! `inbox_sync`, `inbox_message`, `inbox_attachment` and the blobs of large
//! attachments: received mail.
//!
//! - [`sync_state`]: the per-mailbox sync state, leased so one instance
//!   syncs a mailbox at a time, with the links to continue from.
//! - [`commit`]: one transaction per delta page (its new messages,
//!   deduplicated by Graph id, with the link after it), and the
//!   after-processing bookkeeping.
//! - [`blobs`]: large attachments' bytes, written a chunk at a time.
//! - here: reading received mail for the Inbox screen and the host API.
mod blobs;
mod commit;
mod sync_state;

pub use blobs::FileContent;
pub use commit::{Continue, NewAttachment, NewMessage, PageCommit};
pub use sync_state::{DueMailbox, SyncState};

use super::entities::{inbox_attachment, inbox_message};
use super::{Store, StoreError};
use app::model::inbox::{ActionState, MailAddress};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};

/// A stored received message.
// No `Debug`: it is mail content, which stays out of logs.
#[derive(Clone, PartialEq, Eq)]
pub struct ReceivedMail {
    pub id: String,
    pub tenant_email_id: String,
    /// Position in the mailbox's stream of received mail (the host API's cursor).
    pub seq: i64,
    pub internet_message_id: String,
    pub from: Option<MailAddress>,
    pub to: Vec<MailAddress>,
    pub cc: Vec<MailAddress>,
    pub reply_to: Vec<MailAddress>,
    pub subject: String,
    pub received_at: DateTime<Utc>,
    pub body_text: String,
    /// The HTML body exactly as received; `None` for a text-only message.
    pub body_html: Option<String>,
    pub attachment_count: u32,
    pub action: ActionState,
    pub action_error: Option<String>,
    /// Deleted or moved out of the folder since it was received.
    pub left_folder: bool,
    pub acknowledged: bool,
    /// Graph's `conversationId` (the thread); `None` for mail stored before it was kept.
    pub conversation_id: Option<String>,
    /// `low`, `normal` or `high`.
    pub importance: String,
    /// The Message-ID this answers (`In-Reply-To`).
    pub in_reply_to: Option<String>,
    /// The thread's Message-IDs, oldest first (`References`).
    pub references: Vec<String>,
}

/// The address lists are stored as JSON written by the sync; a row that does
/// not parse shows no recipients rather than failing the whole read.
fn addresses(json: &str) -> Vec<MailAddress> {
    serde_json::from_str(json).unwrap_or_default()
}

fn from_row(m: inbox_message::Model) -> ReceivedMail {
    ReceivedMail {
        from: m.from_address.map(|address| MailAddress {
            name: m.from_name.unwrap_or_default(),
            address,
        }),
        to: addresses(&m.to_json),
        cc: addresses(&m.cc_json),
        reply_to: addresses(&m.reply_to_json),
        action: ActionState::from_code(&m.action_state).unwrap_or(ActionState::None),
        attachment_count: u32::try_from(m.attachment_count).unwrap_or(0),
        left_folder: m.left_folder_at.is_some(),
        acknowledged: m.acknowledged_at.is_some(),
        id: m.id,
        tenant_email_id: m.tenant_email_id,
        seq: m.seq,
        internet_message_id: m.internet_message_id,
        subject: m.subject,
        received_at: m.received_at,
        body_text: m.body_text,
        body_html: m.body_html,
        action_error: m.action_error,
        conversation_id: m.conversation_id,
        importance: m.importance.unwrap_or_else(|| "normal".into()),
        in_reply_to: m.in_reply_to,
        references: m
            .references_header
            .as_deref()
            .map(|r| r.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default(),
    }
}

/// An attachment's description, without its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentInfo {
    pub message_id: String,
    pub id: String,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub is_inline: bool,
    /// The `Content-ID` an HTML body refers to (`cid:`).
    pub content_id: Option<String>,
}

/// (message id, id, name, content type, size, inline, Content-ID), as read.
type AttachmentRow = (String, String, String, String, i64, bool, Option<String>);

/// An attachment with its bytes (`None` for a link to a file elsewhere,
/// which Graph only describes).
pub struct AttachmentFile {
    pub name: String,
    pub content_type: String,
    pub content: Option<FileContent>,
}

/// A part of a message with a Content-ID (an inline image, usually).
pub struct PartWithContentId {
    pub content_id: String,
    pub content_type: String,
    pub size: i64,
    pub content: Option<FileContent>,
}

pub struct Inbox<'a>(&'a Store);

impl Store {
    pub fn inbox(&self) -> Inbox<'_> {
        Inbox(self)
    }
}

impl Inbox<'_> {
    /// The message `id` if it belongs to `tenant_email_id`.
    pub async fn message(
        &self,
        tenant_email_id: &str,
        id: &str,
    ) -> Result<Option<ReceivedMail>, StoreError> {
        Ok(inbox_message::Entity::find_by_id(id.to_string())
            .filter(inbox_message::Column::TenantEmailId.eq(tenant_email_id))
            .one(&self.0.conn)
            .await?
            .map(from_row))
    }

    /// The Graph id of the message `id` of `tenant_email_id` (what a reply
    /// or forward is made from).
    pub async fn graph_id(
        &self,
        tenant_email_id: &str,
        id: &str,
    ) -> Result<Option<String>, StoreError> {
        Ok(inbox_message::Entity::find_by_id(id.to_string())
            .filter(inbox_message::Column::TenantEmailId.eq(tenant_email_id))
            .select_only()
            .column(inbox_message::Column::GraphId)
            .into_tuple::<String>()
            .one(&self.0.conn)
            .await?)
    }

    /// The (id, subject) of the message of `tenant_email_id` whose
    /// Message-ID is `internet_message_id`: what a reply answers.
    pub async fn by_internet_message_id(
        &self,
        tenant_email_id: &str,
        internet_message_id: &str,
    ) -> Result<Option<(String, String)>, StoreError> {
        Ok(inbox_message::Entity::find()
            .filter(inbox_message::Column::TenantEmailId.eq(tenant_email_id))
            .filter(inbox_message::Column::InternetMessageId.eq(internet_message_id))
            .select_only()
            .column(inbox_message::Column::Id)
            .column(inbox_message::Column::Subject)
            .order_by_asc(inbox_message::Column::Seq)
            .into_tuple::<(String, String)>()
            .one(&self.0.conn)
            .await?)
    }

    /// The message `id`, whichever mailbox it is in (callers check ownership).
    pub async fn get(&self, id: &str) -> Result<Option<ReceivedMail>, StoreError> {
        Ok(inbox_message::Entity::find_by_id(id.to_string())
            .one(&self.0.conn)
            .await?
            .map(from_row))
    }

    pub async fn count(&self, tenant_email_id: &str) -> Result<u64, StoreError> {
        Ok(inbox_message::Entity::find()
            .filter(inbox_message::Column::TenantEmailId.eq(tenant_email_id))
            .count(&self.0.conn)
            .await?)
    }

    /// Newest first, older than `before` (a position) when given.
    pub async fn newest(
        &self,
        tenant_email_id: &str,
        before: Option<i64>,
        limit: u64,
    ) -> Result<Vec<ReceivedMail>, StoreError> {
        let mut q = inbox_message::Entity::find()
            .filter(inbox_message::Column::TenantEmailId.eq(tenant_email_id));
        if let Some(before) = before {
            q = q.filter(inbox_message::Column::Seq.lt(before));
        }
        Ok(q.order_by_desc(inbox_message::Column::Seq)
            .limit(limit)
            .all(&self.0.conn)
            .await?
            .into_iter()
            .map(from_row)
            .collect())
    }

    /// In arrival order after the cursor `after` (the host API's feed).
    pub async fn after(
        &self,
        tenant_email_id: &str,
        after: i64,
        limit: u64,
        unacknowledged_only: bool,
    ) -> Result<Vec<ReceivedMail>, StoreError> {
        let mut q = inbox_message::Entity::find()
            .filter(inbox_message::Column::TenantEmailId.eq(tenant_email_id))
            .filter(inbox_message::Column::Seq.gt(after));
        if unacknowledged_only {
            q = q.filter(inbox_message::Column::AcknowledgedAt.is_null());
        }
        Ok(q.order_by_asc(inbox_message::Column::Seq)
            .limit(limit)
            .all(&self.0.conn)
            .await?
            .into_iter()
            .map(from_row)
            .collect())
    }

    /// The attachments of several messages in one query (a host API page
    /// lists up to 200 messages), by name within each message.
    pub async fn attachments_of(
        &self,
        message_ids: &[String],
    ) -> Result<Vec<AttachmentInfo>, StoreError> {
        if message_ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<AttachmentRow> = inbox_attachment::Entity::find()
            .select_only()
            .column(inbox_attachment::Column::MessageId)
            .column(inbox_attachment::Column::Id)
            .column(inbox_attachment::Column::Name)
            .column(inbox_attachment::Column::ContentType)
            .column(inbox_attachment::Column::Size)
            .column(inbox_attachment::Column::IsInline)
            .column(inbox_attachment::Column::ContentId)
            .filter(inbox_attachment::Column::MessageId.is_in(message_ids.iter().cloned()))
            .order_by_asc(inbox_attachment::Column::Name)
            .order_by_asc(inbox_attachment::Column::Id)
            .into_tuple()
            .all(&self.0.conn)
            .await?;
        Ok(rows
            .into_iter()
            .map(
                |(message_id, id, name, content_type, size, is_inline, content_id)| {
                    AttachmentInfo {
                        message_id,
                        id,
                        name,
                        content_type,
                        size,
                        is_inline,
                        content_id,
                    }
                },
            )
            .collect())
    }

    /// The parts of a message that have a Content-ID, with their bytes.
    pub async fn parts_with_content_id(
        &self,
        message_id: &str,
    ) -> Result<Vec<PartWithContentId>, StoreError> {
        Ok(inbox_attachment::Entity::find()
            .filter(inbox_attachment::Column::MessageId.eq(message_id))
            .filter(inbox_attachment::Column::ContentId.is_not_null())
            .all(&self.0.conn)
            .await?
            .into_iter()
            .filter_map(|a| {
                Some(PartWithContentId {
                    content: file_content(a.content, a.blob_id, a.size),
                    content_id: a.content_id?,
                    content_type: a.content_type,
                    size: a.size,
                })
            })
            .collect())
    }

    /// One attachment of a message, with its bytes.
    pub async fn attachment(
        &self,
        message_id: &str,
        attachment_id: &str,
    ) -> Result<Option<AttachmentFile>, StoreError> {
        Ok(
            inbox_attachment::Entity::find_by_id(attachment_id.to_string())
                .filter(inbox_attachment::Column::MessageId.eq(message_id))
                .one(&self.0.conn)
                .await?
                .map(|a| AttachmentFile {
                    content: file_content(a.content, a.blob_id, a.size),
                    name: a.name,
                    content_type: a.content_type,
                }),
        )
    }

    /// Marks messages of this mailbox as handled by the application. Returns
    /// how many were newly acknowledged (repeating one is harmless).
    pub async fn acknowledge(
        &self,
        tenant_email_id: &str,
        ids: &[String],
    ) -> Result<u64, StoreError> {
        if ids.is_empty() {
            return Ok(0);
        }
        Ok(inbox_message::Entity::update_many()
            .col_expr(
                inbox_message::Column::AcknowledgedAt,
                Expr::value(Some(self.0.now())),
            )
            .filter(inbox_message::Column::TenantEmailId.eq(tenant_email_id))
            .filter(inbox_message::Column::Id.is_in(ids.iter().cloned()))
            .filter(inbox_message::Column::AcknowledgedAt.is_null())
            .exec(&self.0.conn)
            .await?
            .rows_affected)
    }
}

#[cfg(test)]
mod tests;

/// Where an attachment row keeps its bytes.
fn file_content(
    content: Option<Vec<u8>>,
    blob_id: Option<String>,
    size: i64,
) -> Option<FileContent> {
    match (content, blob_id) {
        (Some(bytes), _) => Some(FileContent::Bytes(bytes)),
        (None, Some(id)) => Some(FileContent::Blob { id, size }),
        (None, None) => None,
    }
}
