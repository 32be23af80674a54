//! Storing delta pages, and the after-processing bookkeeping.
//!
//! Why nothing is lost or stored twice: a page and the link to continue from
//! are one transaction, so a crash refetches at most the page in flight;
//! messages are keyed by (mailbox, Graph immutable id), so a refetched or
//! replayed page stores nothing twice.
use super::blobs::FileContent;
use super::sync_state::update_leased;
use super::Inbox;
use crate::db::entities::{inbox_attachment, inbox_message, inbox_sync};
use crate::db::StoreError;
use app::model::inbox::{ActionState, AfterProcessing, MailAddress};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionTrait,
};
use std::collections::HashSet;

/// A received message to store.
// No `Debug`: mail content stays out of logs.
pub struct NewMessage {
    /// Graph's immutable id: the dedupe key within the mailbox.
    pub graph_id: String,
    pub internet_message_id: String,
    pub from: Option<MailAddress>,
    pub to: Vec<MailAddress>,
    pub cc: Vec<MailAddress>,
    pub reply_to: Vec<MailAddress>,
    pub subject: String,
    pub received_at: DateTime<Utc>,
    pub body_text: String,
    pub body_html: Option<String>,
    /// Graph's `conversationId` (the thread).
    pub conversation_id: Option<String>,
    /// `low`, `normal` or `high`.
    pub importance: String,
    /// The `In-Reply-To` header: the Message-ID this answers.
    pub in_reply_to: Option<String>,
    /// The `References` header: the thread's Message-IDs, oldest first.
    pub references: Option<String>,
    pub attachments: Vec<NewAttachment>,
}

pub struct NewAttachment {
    pub graph_id: String,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub is_inline: bool,
    /// The `Content-ID` an HTML body refers to (`cid:`).
    pub content_id: Option<String>,
    /// `None` for a link to a file elsewhere (only described).
    pub content: Option<FileContent>,
}

/// Where a committed page leaves the sync.
pub enum Continue {
    Next(String),
    /// The round is complete; the next one starts here.
    Delta(String),
    /// Part of a page (its byte budget was reached): the messages are
    /// stored, the link stays where it is, so a crash refetches the page and
    /// stores only the rest.
    Stay,
}

/// One delta page, ready to commit.
pub struct PageCommit<'a> {
    pub tenant_email_id: &'a str,
    /// The sync lease it is committed under.
    pub owner: &'a str,
    pub after: AfterProcessing,
    pub messages: Vec<NewMessage>,
    /// Graph ids that left the folder.
    pub removed: &'a [String],
    pub next: Continue,
    /// The lease is extended to now + this.
    pub lease: chrono::Duration,
}

fn addresses_json(list: &[MailAddress]) -> String {
    serde_json::to_string(list).unwrap_or_else(|_| "[]".into())
}

/// Graph ids of this mailbox already stored, among `ids`.
async fn known_ids<C: ConnectionTrait>(
    db: &C,
    tenant_email_id: &str,
    ids: &[String],
) -> Result<HashSet<String>, DbErr> {
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    let known: Vec<String> = inbox_message::Entity::find()
        .select_only()
        .column(inbox_message::Column::GraphId)
        .filter(inbox_message::Column::TenantEmailId.eq(tenant_email_id))
        .filter(inbox_message::Column::GraphId.is_in(ids.iter().cloned()))
        .into_tuple()
        .all(db)
        .await?;
    Ok(known.into_iter().collect())
}

impl Inbox<'_> {
    /// Graph ids of this mailbox already stored, among `ids` (to skip
    /// fetching attachments of mail already kept).
    pub async fn known_ids(
        &self,
        tenant_email_id: &str,
        ids: &[String],
    ) -> Result<HashSet<String>, StoreError> {
        Ok(known_ids(&self.0.conn, tenant_email_id, ids).await?)
    }

    /// Stores one page in one transaction: its new messages, departures, and
    /// the link to continue from. Returns how many messages were new, or
    /// `None` when the sync lease was lost (nothing was stored).
    pub async fn commit_page(&self, page: PageCommit<'_>) -> Result<Option<usize>, StoreError> {
        let now = self.0.now();
        let id = page.tenant_email_id;
        let txn = self.0.conn.begin().await?;
        // Extending the lease first also locks the row (PostgreSQL), so page
        // commits of one mailbox are serialised and positions stay in order.
        let lease = vec![(
            inbox_sync::Column::LeaseUntil,
            Expr::value(now + page.lease),
        )];
        if !update_leased(&txn, id, page.owner, lease).await? {
            return Ok(None);
        }
        let Some(state) = inbox_sync::Entity::find_by_id(id.to_string())
            .one(&txn)
            .await?
        else {
            return Ok(None);
        };
        let ids: Vec<String> = page.messages.iter().map(|m| m.graph_id.clone()).collect();
        // Checked again inside the transaction: this is the check that counts.
        let known = known_ids(&txn, id, &ids).await?;
        let action = match page.after {
            AfterProcessing::Leave => ActionState::None,
            _ => ActionState::Pending,
        };
        let mut seq = state.last_seq;
        let mut seen = HashSet::new();
        let mut inserted = 0;
        for m in page.messages {
            // A page may name a message twice (changed twice during the round).
            if known.contains(&m.graph_id) || !seen.insert(m.graph_id.clone()) {
                continue;
            }
            seq += 1;
            insert_message(&txn, id, seq, m, action, now).await?;
            inserted += 1;
        }
        if !page.removed.is_empty() {
            inbox_message::Entity::update_many()
                .col_expr(inbox_message::Column::LeftFolderAt, Expr::value(now))
                .filter(inbox_message::Column::TenantEmailId.eq(id))
                .filter(inbox_message::Column::GraphId.is_in(page.removed.iter().cloned()))
                .filter(inbox_message::Column::LeftFolderAt.is_null())
                .exec(&txn)
                .await?;
        }
        let mut columns = vec![(inbox_sync::Column::LastSeq, Expr::value(seq))];
        match page.next {
            Continue::Stay => {}
            Continue::Next(link) => {
                columns.push((inbox_sync::Column::NextLink, Expr::value(Some(link))));
            }
            Continue::Delta(link) => {
                columns.push((
                    inbox_sync::Column::NextLink,
                    Expr::value(Option::<String>::None),
                ));
                columns.push((inbox_sync::Column::DeltaLink, Expr::value(Some(link))));
                columns.push((inbox_sync::Column::LastSyncAt, Expr::value(Some(now))));
                columns.push((
                    inbox_sync::Column::LastError,
                    Expr::value(Option::<String>::None),
                ));
                // A Sync now clicked before this round began is answered by it.
                if state
                    .sync_requested_at
                    .is_some_and(|t| state.round_started_at.is_none_or(|r| t <= r))
                {
                    columns.push((
                        inbox_sync::Column::SyncRequestedAt,
                        Expr::value(Option::<DateTime<Utc>>::None),
                    ));
                }
            }
        }
        if !update_leased(&txn, id, page.owner, columns).await? {
            return Ok(None);
        }
        txn.commit().await?;
        Ok(Some(inserted))
    }

    /// Messages whose after-processing action is still to be done:
    /// (message id, Graph id), oldest first.
    pub async fn pending_actions(
        &self,
        tenant_email_id: &str,
        limit: u64,
    ) -> Result<Vec<(String, String)>, StoreError> {
        Ok(inbox_message::Entity::find()
            .select_only()
            .column(inbox_message::Column::Id)
            .column(inbox_message::Column::GraphId)
            .filter(inbox_message::Column::TenantEmailId.eq(tenant_email_id))
            .filter(inbox_message::Column::ActionState.eq(ActionState::Pending.code()))
            .order_by_asc(inbox_message::Column::Seq)
            .limit(limit)
            .into_tuple()
            .all(&self.0.conn)
            .await?)
    }

    /// Records an action's outcome: done, failed (with the reason), or still
    /// pending after a temporary problem (counted).
    pub async fn action_outcome(
        &self,
        id: &str,
        state: ActionState,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        inbox_message::Entity::update_many()
            .col_expr(
                inbox_message::Column::ActionState,
                Expr::value(state.code()),
            )
            .col_expr(
                inbox_message::Column::ActionError,
                Expr::value(error.map(str::to_string)),
            )
            .col_expr(
                inbox_message::Column::ActionAttempts,
                Expr::col(inbox_message::Column::ActionAttempts).add(1),
            )
            .filter(inbox_message::Column::Id.eq(id))
            .filter(inbox_message::Column::ActionState.eq(ActionState::Pending.code()))
            .exec(&self.0.conn)
            .await?;
        Ok(())
    }
}

async fn insert_message<C: ConnectionTrait>(
    txn: &C,
    tenant_email_id: &str,
    seq: i64,
    m: NewMessage,
    action: ActionState,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let id = uuid::Uuid::new_v4().to_string();
    inbox_message::ActiveModel {
        id: Set(id.clone()),
        tenant_email_id: Set(tenant_email_id.to_string()),
        seq: Set(seq),
        graph_id: Set(m.graph_id),
        internet_message_id: Set(m.internet_message_id),
        from_name: Set(m.from.as_ref().map(|a| a.name.clone())),
        from_address: Set(m.from.map(|a| a.address)),
        to_json: Set(addresses_json(&m.to)),
        cc_json: Set(addresses_json(&m.cc)),
        reply_to_json: Set(addresses_json(&m.reply_to)),
        subject: Set(m.subject),
        received_at: Set(m.received_at),
        body_text: Set(m.body_text),
        body_html: Set(m.body_html),
        attachment_count: Set(i32::try_from(m.attachments.len()).unwrap_or(i32::MAX)),
        action_state: Set(action.code().to_string()),
        action_error: Set(None),
        action_attempts: Set(0),
        left_folder_at: Set(None),
        acknowledged_at: Set(None),
        created_at: Set(now),
        conversation_id: Set(m.conversation_id),
        importance: Set(Some(m.importance)),
        in_reply_to: Set(m.in_reply_to),
        references_header: Set(m.references),
    }
    .insert(txn)
    .await?;
    for a in m.attachments {
        let (content, blob_id) = match a.content {
            Some(FileContent::Bytes(b)) => (Some(b), None),
            Some(FileContent::Blob { id, .. }) => (None, Some(id)),
            None => (None, None),
        };
        inbox_attachment::ActiveModel {
            id: Set(uuid::Uuid::new_v4().to_string()),
            message_id: Set(id.clone()),
            graph_attachment_id: Set(a.graph_id),
            name: Set(a.name),
            content_type: Set(a.content_type),
            size: Set(a.size),
            is_inline: Set(a.is_inline),
            content: Set(content),
            blob_id: Set(blob_id),
            content_id: Set(a.content_id),
        }
        .insert(txn)
        .await?;
    }
    Ok(())
}
