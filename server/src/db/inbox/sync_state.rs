//! `inbox_sync`: where each receiving mailbox's sync stands, leased so that
//! one sync (of one instance) works on a mailbox at a time.
use super::Inbox;
use crate::db::entities::inbox_sync;
use crate::db::StoreError;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};

/// A mailbox whose receiving settings ask for a sync now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueMailbox {
    pub tenant_email_id: String,
}

/// Where a mailbox's sync stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncState {
    pub tenant_email_id: String,
    /// The folder and start the links below belong to.
    pub folder: String,
    pub since: DateTime<Utc>,
    /// The rest of the round in progress.
    pub next_link: Option<String>,
    /// Where the next round starts.
    pub delta_link: Option<String>,
    pub last_sync_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// Sync now was clicked and has not been answered by a round yet.
    pub sync_requested_at: Option<DateTime<Utc>>,
}

pub(super) fn from_row(s: inbox_sync::Model) -> SyncState {
    SyncState {
        tenant_email_id: s.tenant_email_id,
        folder: s.folder,
        since: s.since,
        next_link: s.next_link,
        delta_link: s.delta_link,
        last_sync_at: s.last_sync_at,
        last_error: s.last_error,
        sync_requested_at: s.sync_requested_at,
    }
}

/// Updates the sync state only while `owner` holds the lease.
pub(super) async fn update_leased<C: ConnectionTrait>(
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

impl Inbox<'_> {
    pub async fn sync_state(&self, tenant_email_id: &str) -> Result<Option<SyncState>, StoreError> {
        Ok(inbox_sync::Entity::find_by_id(tenant_email_id.to_string())
            .one(&self.0.conn)
            .await?
            .map(from_row))
    }

    /// Receiving mailboxes that are connected and due: never synced, Sync
    /// now clicked, a round in progress, or their poll interval has passed
    /// since the last sync; and not leased by another sync.
    pub async fn due(&self) -> Result<Vec<DueMailbox>, StoreError> {
        let now = self.0.now();
        let emails = self.0.tenant_emails().connected_receivers().await?;
        if emails.is_empty() {
            return Ok(Vec::new());
        }
        let states: Vec<inbox_sync::Model> = inbox_sync::Entity::find()
            .filter(
                inbox_sync::Column::TenantEmailId.is_in(emails.iter().map(|(id, _)| id.clone())),
            )
            .all(&self.0.conn)
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

    /// Takes the mailbox's sync lease for `owner` (creating its state on
    /// first use, for `folder` from `since`). `None` when another sync holds it.
    pub async fn claim(
        &self,
        tenant_email_id: &str,
        folder: &str,
        since: DateTime<Utc>,
        owner: &str,
        lease: chrono::Duration,
    ) -> Result<Option<SyncState>, StoreError> {
        let db = &self.0.conn;
        let now = self.0.now();
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
            .exec_with_returning(db)
            .await?;
        Ok(taken.into_iter().next().map(from_row))
    }

    /// Forgets where the sync was (the folder or start changed, or Graph
    /// lost the delta state): the next page starts a full round. Messages
    /// already stored stay, and are not stored again.
    pub async fn start_over(
        &self,
        tenant_email_id: &str,
        owner: &str,
        folder: &str,
        since: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        Ok(update_leased(
            &self.0.conn,
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
        .await?)
    }

    /// Ends this sync: the lease is released and the outcome recorded.
    pub async fn release(
        &self,
        tenant_email_id: &str,
        owner: &str,
        error: Option<&str>,
    ) -> Result<bool, StoreError> {
        Ok(update_leased(
            &self.0.conn,
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
        .await?)
    }

    /// Records when the current round began (to know which Sync now it answers).
    pub async fn round_started(
        &self,
        tenant_email_id: &str,
        owner: &str,
    ) -> Result<bool, StoreError> {
        let now = self.0.now();
        Ok(update_leased(
            &self.0.conn,
            tenant_email_id,
            owner,
            vec![(inbox_sync::Column::RoundStartedAt, Expr::value(Some(now)))],
        )
        .await?)
    }

    /// Extends the lease; false when it is no longer ours.
    pub async fn renew(
        &self,
        tenant_email_id: &str,
        owner: &str,
        lease: chrono::Duration,
    ) -> Result<bool, StoreError> {
        let until = self.0.now() + lease;
        Ok(update_leased(
            &self.0.conn,
            tenant_email_id,
            owner,
            vec![(inbox_sync::Column::LeaseUntil, Expr::value(until))],
        )
        .await?)
    }

    /// Sync now: the next tick syncs this mailbox whatever its interval.
    pub async fn request_sync(&self, tenant_email_id: &str) -> Result<(), StoreError> {
        // Without a state row the mailbox has never synced: it is due anyway.
        inbox_sync::Entity::update_many()
            .col_expr(
                inbox_sync::Column::SyncRequestedAt,
                Expr::value(Some(self.0.now())),
            )
            .filter(inbox_sync::Column::TenantEmailId.eq(tenant_email_id))
            .exec(&self.0.conn)
            .await?;
        Ok(())
    }
}
