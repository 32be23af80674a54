//! Inbox rows: the per-mailbox sync state (leased, so one instance syncs a
//! mailbox at a time), page commits (messages + the link to continue from, in
//! one transaction), after-processing bookkeeping, and the reads behind the
//! Inbox screen and the host API.
use crate::db::entities::{inbox_attachment, inbox_message, inbox_sync, tenant_email};
use crate::mail::graph::{Address, DeltaMessage, GraphAttachment};
use app::model::inbox::{ActionState, AfterProcessing};
use app::model::{ConnectionStatus, Direction};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};
use std::collections::HashSet;

/// A mailbox whose receiving settings ask for a sync now.
#[derive(Debug, Clone)]
pub struct DueMailbox {
    pub tenant_email_id: String,
}

/// Receiving mailboxes that are connected and due: never synced, Sync now
/// clicked, or their poll interval has passed since the last sync; and not
/// leased by another sync.
pub async fn due(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<Vec<DueMailbox>, DbErr> {
    let receiving = [Direction::Receive.code(), Direction::SendAndReceive.code()];
    let emails: Vec<(String, i32)> = tenant_email::Entity::find()
        .select_only()
        .column(tenant_email::Column::Id)
        .column(tenant_email::Column::PollIntervalSeconds)
        .filter(tenant_email::Column::Direction.is_in(receiving))
        .filter(tenant_email::Column::ConnectionStatus.eq(ConnectionStatus::Connected.code()))
        .into_tuple()
        .all(db)
        .await?;
    if emails.is_empty() {
        return Ok(Vec::new());
    }
    let states: Vec<inbox_sync::Model> = inbox_sync::Entity::find()
        .filter(inbox_sync::Column::TenantEmailId.is_in(emails.iter().map(|(id, _)| id.clone())))
        .all(db)
        .await?;
    Ok(emails
        .into_iter()
        .filter(|(id, poll)| {
            let Some(s) = states.iter().find(|s| &s.tenant_email_id == id) else {
                return true;
            };
            let free = s.lease_until.is_none_or(|t| t < now);
            let interval = chrono::Duration::seconds(i64::from(*poll));
            let due = s.sync_requested_at.is_some()
                || s.next_link.is_some()
                || s.last_sync_at.is_none_or(|t| t + interval <= now);
            free && due
        })
        .map(|(tenant_email_id, _)| DueMailbox { tenant_email_id })
        .collect())
}

/// Takes the mailbox's sync lease (creating its state on first use). `None`
/// when another sync holds it.
pub async fn claim(
    db: &DatabaseConnection,
    tenant_email_id: &str,
    folder: &str,
    since: DateTime<Utc>,
    owner: &str,
    now: DateTime<Utc>,
    lease: chrono::Duration,
) -> Result<Option<inbox_sync::Model>, DbErr> {
    let fresh = inbox_sync::ActiveModel {
        tenant_email_id: Set(tenant_email_id.to_string()),
        folder: Set(folder.to_string()),
        since: Set(since),
        next_link: Set(None),
        delta_link: Set(None),
        round_started_at: Set(None),
        last_sync_at: Set(None),
        last_error: Set(None),
        sync_requested_at: Set(None),
        lease_owner: Set(None),
        lease_until: Set(None),
        last_seq: Set(0),
    };
    inbox_sync::Entity::insert(fresh)
        .on_conflict(
            OnConflict::column(inbox_sync::Column::TenantEmailId)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    let taken = inbox_sync::Entity::update_many()
        .col_expr(inbox_sync::Column::LeaseOwner, Expr::value(owner))
        .col_expr(inbox_sync::Column::LeaseUntil, Expr::value(now + lease))
        .filter(inbox_sync::Column::TenantEmailId.eq(tenant_email_id))
        .filter(
            Condition::any()
                .add(inbox_sync::Column::LeaseUntil.is_null())
                .add(inbox_sync::Column::LeaseUntil.lt(now)),
        )
        .exec(db)
        .await?
        .rows_affected;
    if taken != 1 {
        return Ok(None);
    }
    inbox_sync::Entity::find_by_id(tenant_email_id.to_string())
        .one(db)
        .await
}

/// Updates the sync state only while `owner` holds the lease.
async fn update_leased<C: ConnectionTrait>(
    db: &C,
    tenant_email_id: &str,
    owner: &str,
    columns: Vec<(inbox_sync::Column, Expr)>,
) -> Result<bool, DbErr> {
    let mut update = inbox_sync::Entity::update_many();
    for (column, value) in columns {
        update = update.col_expr(column, value);
    }
    Ok(update
        .filter(inbox_sync::Column::TenantEmailId.eq(tenant_email_id))
        .filter(inbox_sync::Column::LeaseOwner.eq(owner))
        .exec(db)
        .await?
        .rows_affected
        == 1)
}

/// Forgets where the sync was (the folder or start changed, or Graph lost
/// the delta state): the next page is the start of a full round. Messages
/// already stored stay, and are not stored again.
pub async fn start_over(
    db: &DatabaseConnection,
    tenant_email_id: &str,
    owner: &str,
    folder: &str,
    since: DateTime<Utc>,
) -> Result<bool, DbErr> {
    update_leased(
        db,
        tenant_email_id,
        owner,
        vec![
            (inbox_sync::Column::Folder, Expr::value(folder)),
            (inbox_sync::Column::Since, Expr::value(since)),
            (
                inbox_sync::Column::NextLink,
                Expr::value(Option::<String>::None),
            ),
            (
                inbox_sync::Column::DeltaLink,
                Expr::value(Option::<String>::None),
            ),
        ],
    )
    .await
}

/// Ends this sync: the lease is released and the outcome recorded.
pub async fn release(
    db: &DatabaseConnection,
    tenant_email_id: &str,
    owner: &str,
    error: Option<&str>,
) -> Result<bool, DbErr> {
    update_leased(
        db,
        tenant_email_id,
        owner,
        vec![
            (
                inbox_sync::Column::LeaseOwner,
                Expr::value(Option::<String>::None),
            ),
            (
                inbox_sync::Column::LeaseUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            ),
            (
                inbox_sync::Column::LastError,
                Expr::value(error.map(str::to_string)),
            ),
        ],
    )
    .await
}

/// A message from a delta page, ready to store.
pub struct NewMessage {
    pub message: DeltaMessage,
    pub attachments: Vec<GraphAttachment>,
}

/// Graph ids of this mailbox already stored, among `ids`.
pub async fn known_ids<C: ConnectionTrait>(
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

/// Where a committed page leaves the sync.
pub enum Continue {
    Next(String),
    /// The round is complete.
    Delta(String),
}

#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    #[error("the sync lease was taken over")]
    LostLease,
    #[error("database: {0}")]
    Db(#[from] DbErr),
}

fn addresses_json(list: &[Address]) -> String {
    let v: Vec<app::model::inbox::MailAddress> = list
        .iter()
        .map(|a| app::model::inbox::MailAddress {
            name: a.name.clone(),
            address: a.address.clone(),
        })
        .collect();
    serde_json::to_string(&v).unwrap_or_else(|_| "[]".into())
}

/// Stores one page in one transaction: its new messages (deduplicated by
/// Graph id: a replayed page stores nothing twice), departures, and the link
/// to continue from. A crash before the commit refetches the page; after it,
/// continues with the next. Returns how many messages were new.
#[allow(clippy::too_many_arguments)]
pub async fn commit_page(
    db: &DatabaseConnection,
    tenant_email_id: &str,
    owner: &str,
    after: AfterProcessing,
    messages: Vec<NewMessage>,
    removed: &[String],
    next: Continue,
    now: DateTime<Utc>,
    lease: chrono::Duration,
) -> Result<usize, CommitError> {
    let txn = db.begin().await?;
    // Extending the lease first also locks the row (PostgreSQL), so page
    // commits of one mailbox are serialised and positions stay in order.
    if !update_leased(
        &txn,
        tenant_email_id,
        owner,
        vec![(inbox_sync::Column::LeaseUntil, Expr::value(now + lease))],
    )
    .await?
    {
        return Err(CommitError::LostLease);
    }
    let state = inbox_sync::Entity::find_by_id(tenant_email_id.to_string())
        .one(&txn)
        .await?
        .ok_or(CommitError::LostLease)?;
    let ids: Vec<String> = messages.iter().map(|m| m.message.id.clone()).collect();
    // Checked again inside the transaction: this is the check that counts.
    let known = known_ids(&txn, tenant_email_id, &ids).await?;
    let action = match after {
        AfterProcessing::Leave => ActionState::None,
        _ => ActionState::Pending,
    };
    let mut seq = state.last_seq;
    let mut seen = HashSet::new();
    let mut inserted = 0;
    for new in messages {
        let m = new.message;
        // A page may name a message twice (changed twice during the round).
        if known.contains(&m.id) || !seen.insert(m.id.clone()) {
            continue;
        }
        seq += 1;
        let id = uuid::Uuid::new_v4().to_string();
        let html = (m.body_type == "html").then(|| m.body.clone());
        inbox_message::ActiveModel {
            id: Set(id.clone()),
            tenant_email_id: Set(tenant_email_id.to_string()),
            seq: Set(seq),
            graph_id: Set(m.id.clone()),
            internet_message_id: Set(m.internet_message_id.clone()),
            from_name: Set(m.from.as_ref().map(|a| a.name.clone())),
            from_address: Set(m.from.as_ref().map(|a| a.address.clone())),
            to_json: Set(addresses_json(&m.to)),
            cc_json: Set(addresses_json(&m.cc)),
            reply_to_json: Set(addresses_json(&m.reply_to)),
            subject: Set(m.subject.clone()),
            received_at: Set(m.received_at),
            body_text: Set(super::text::plain_text(&m.body_type, &m.body)),
            body_html: Set(html),
            attachment_count: Set(i32::try_from(new.attachments.len()).unwrap_or(i32::MAX)),
            action_state: Set(action.code().to_string()),
            action_error: Set(None),
            action_attempts: Set(0),
            left_folder_at: Set(None),
            acknowledged_at: Set(None),
            created_at: Set(now),
        }
        .insert(&txn)
        .await?;
        for a in new.attachments {
            inbox_attachment::ActiveModel {
                id: Set(uuid::Uuid::new_v4().to_string()),
                message_id: Set(id.clone()),
                graph_attachment_id: Set(a.id),
                name: Set(a.name),
                content_type: Set(a.content_type),
                size: Set(a.size),
                is_inline: Set(a.is_inline),
                content: Set(a.content),
            }
            .insert(&txn)
            .await?;
        }
        inserted += 1;
    }
    if !removed.is_empty() {
        inbox_message::Entity::update_many()
            .col_expr(inbox_message::Column::LeftFolderAt, Expr::value(now))
            .filter(inbox_message::Column::TenantEmailId.eq(tenant_email_id))
            .filter(inbox_message::Column::GraphId.is_in(removed.iter().cloned()))
            .filter(inbox_message::Column::LeftFolderAt.is_null())
            .exec(&txn)
            .await?;
    }
    let mut columns = vec![(inbox_sync::Column::LastSeq, Expr::value(seq))];
    match next {
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
    if !update_leased(&txn, tenant_email_id, owner, columns).await? {
        return Err(CommitError::LostLease);
    }
    txn.commit().await?;
    Ok(inserted)
}

/// Records when the current round began (to know which Sync now it answers).
pub async fn round_started(
    db: &DatabaseConnection,
    tenant_email_id: &str,
    owner: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    update_leased(
        db,
        tenant_email_id,
        owner,
        vec![(inbox_sync::Column::RoundStartedAt, Expr::value(Some(now)))],
    )
    .await
}

/// Extends the lease; false when it is no longer ours.
pub async fn renew(
    db: &DatabaseConnection,
    tenant_email_id: &str,
    owner: &str,
    now: DateTime<Utc>,
    lease: chrono::Duration,
) -> Result<bool, DbErr> {
    update_leased(
        db,
        tenant_email_id,
        owner,
        vec![(inbox_sync::Column::LeaseUntil, Expr::value(now + lease))],
    )
    .await
}

/// Sync now: the next tick syncs this mailbox whatever its interval.
pub async fn request_sync(
    db: &DatabaseConnection,
    tenant_email_id: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    // Without a state row the mailbox has never synced: it is due anyway.
    inbox_sync::Entity::update_many()
        .col_expr(inbox_sync::Column::SyncRequestedAt, Expr::value(Some(now)))
        .filter(inbox_sync::Column::TenantEmailId.eq(tenant_email_id))
        .exec(db)
        .await
        .map(drop)
}

/// Messages whose after-processing action is still to be done.
pub async fn pending_actions(
    db: &DatabaseConnection,
    tenant_email_id: &str,
    limit: u64,
) -> Result<Vec<(String, String)>, DbErr> {
    inbox_message::Entity::find()
        .select_only()
        .column(inbox_message::Column::Id)
        .column(inbox_message::Column::GraphId)
        .filter(inbox_message::Column::TenantEmailId.eq(tenant_email_id))
        .filter(inbox_message::Column::ActionState.eq(ActionState::Pending.code()))
        .order_by_asc(inbox_message::Column::Seq)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await
}

/// Records an action's outcome: done, failed (with the reason), or still
/// pending after a temporary problem (counted).
pub async fn action_outcome(
    db: &DatabaseConnection,
    id: &str,
    state: ActionState,
    error: Option<&str>,
) -> Result<(), DbErr> {
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
        .exec(db)
        .await
        .map(drop)
}

pub async fn sync_state(
    db: &DatabaseConnection,
    tenant_email_id: &str,
) -> Result<Option<inbox_sync::Model>, DbErr> {
    inbox_sync::Entity::find_by_id(tenant_email_id.to_string())
        .one(db)
        .await
}

pub async fn count(db: &DatabaseConnection, tenant_email_id: &str) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    inbox_message::Entity::find()
        .filter(inbox_message::Column::TenantEmailId.eq(tenant_email_id))
        .count(db)
        .await
}

/// Newest first, older than `before` (a position) when given.
pub async fn newest(
    db: &DatabaseConnection,
    tenant_email_id: &str,
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<inbox_message::Model>, DbErr> {
    let mut q = inbox_message::Entity::find()
        .filter(inbox_message::Column::TenantEmailId.eq(tenant_email_id));
    if let Some(before) = before {
        q = q.filter(inbox_message::Column::Seq.lt(before));
    }
    q.order_by_desc(inbox_message::Column::Seq)
        .limit(limit)
        .all(db)
        .await
}

/// In arrival order after the cursor `after` (the host API's feed).
pub async fn after(
    db: &DatabaseConnection,
    tenant_email_id: &str,
    after: i64,
    limit: u64,
    unacknowledged_only: bool,
) -> Result<Vec<inbox_message::Model>, DbErr> {
    let mut q = inbox_message::Entity::find()
        .filter(inbox_message::Column::TenantEmailId.eq(tenant_email_id))
        .filter(inbox_message::Column::Seq.gt(after));
    if unacknowledged_only {
        q = q.filter(inbox_message::Column::AcknowledgedAt.is_null());
    }
    q.order_by_asc(inbox_message::Column::Seq)
        .limit(limit)
        .all(db)
        .await
}

pub async fn get(db: &DatabaseConnection, id: &str) -> Result<Option<inbox_message::Model>, DbErr> {
    inbox_message::Entity::find_by_id(id.to_string())
        .one(db)
        .await
}

/// Attachments of a message, without their bytes.
pub async fn attachments(
    db: &DatabaseConnection,
    message_id: &str,
) -> Result<Vec<(String, String, String, i64, bool)>, DbErr> {
    inbox_attachment::Entity::find()
        .select_only()
        .column(inbox_attachment::Column::Id)
        .column(inbox_attachment::Column::Name)
        .column(inbox_attachment::Column::ContentType)
        .column(inbox_attachment::Column::Size)
        .column(inbox_attachment::Column::IsInline)
        .filter(inbox_attachment::Column::MessageId.eq(message_id))
        .order_by_asc(inbox_attachment::Column::Name)
        .into_tuple()
        .all(db)
        .await
}

pub async fn attachment(
    db: &DatabaseConnection,
    message_id: &str,
    attachment_id: &str,
) -> Result<Option<inbox_attachment::Model>, DbErr> {
    inbox_attachment::Entity::find_by_id(attachment_id.to_string())
        .filter(inbox_attachment::Column::MessageId.eq(message_id))
        .one(db)
        .await
}

/// Marks messages of this mailbox as handled by the application. Returns how
/// many were newly acknowledged (repeating an acknowledgement is harmless).
pub async fn acknowledge(
    db: &DatabaseConnection,
    tenant_email_id: &str,
    ids: &[String],
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    if ids.is_empty() {
        return Ok(0);
    }
    Ok(inbox_message::Entity::update_many()
        .col_expr(
            inbox_message::Column::AcknowledgedAt,
            Expr::value(Some(now)),
        )
        .filter(inbox_message::Column::TenantEmailId.eq(tenant_email_id))
        .filter(inbox_message::Column::Id.is_in(ids.iter().cloned()))
        .filter(inbox_message::Column::AcknowledgedAt.is_null())
        .exec(db)
        .await?
        .rows_affected)
}

/// An attachment's description, without its bytes.
#[derive(Debug, Clone)]
pub struct AttachmentInfo {
    pub message_id: String,
    pub id: String,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub is_inline: bool,
}

/// The attachments of several messages in one query (a host API page lists
/// up to 200 messages), by name within each message.
pub async fn attachments_of(
    db: &DatabaseConnection,
    message_ids: &[String],
) -> Result<Vec<AttachmentInfo>, DbErr> {
    if message_ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(String, String, String, String, i64, bool)> = inbox_attachment::Entity::find()
        .select_only()
        .column(inbox_attachment::Column::MessageId)
        .column(inbox_attachment::Column::Id)
        .column(inbox_attachment::Column::Name)
        .column(inbox_attachment::Column::ContentType)
        .column(inbox_attachment::Column::Size)
        .column(inbox_attachment::Column::IsInline)
        .filter(inbox_attachment::Column::MessageId.is_in(message_ids.iter().cloned()))
        .order_by_asc(inbox_attachment::Column::Name)
        .order_by_asc(inbox_attachment::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(
            |(message_id, id, name, content_type, size, is_inline)| AttachmentInfo {
                message_id,
                id,
                name,
                content_type,
                size,
                is_inline,
            },
        )
        .collect())
}
