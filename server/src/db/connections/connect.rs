//! Storing a completed sign-in: one transaction re-reads the tenant email
//! and the pinned identity, lets the caller's identity guard decide, then
//! replaces the tokens, marks the mailbox Connected and releases the mail
//! held while it was not. A refused sign-in never writes, so a working
//! connection stays as it was.
use super::{change_status, token_binding, Connections};
use crate::db::entities::{mailbox_connection, tenant_email};
use crate::db::tenant_emails::{self, TenantEmail};
use crate::db::{outbox, StoreError};
use app::model::ConnectionStatus;
use app::port::Actor;
use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set, TransactionTrait};

/// What a sign-in produced, ready to store; `Debug` shows no token.
pub struct NewConnection {
    pub tenant_id: String,
    pub tenant_email_id: String,
    pub oid: String,
    pub tid: String,
    pub upn: String,
    pub display_name: Option<String>,
    /// The Microsoft tenant's display name, when Graph told it.
    pub tenant_name: Option<String>,
    pub client_id: String,
    pub authority: String,
    pub token_endpoint: String,
    pub scopes: String,
    pub access_token: String,
    pub refresh_token: String,
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for NewConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewConnection")
            .field("tenant_email_id", &self.tenant_email_id)
            .field("upn", &self.upn)
            .field("tid", &self.tid)
            .finish_non_exhaustive()
    }
}

/// The user a connection is pinned to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pinned {
    pub oid: String,
    pub tid: String,
    pub upn: String,
    /// The authority the pinned connection was made under.
    pub authority: String,
}

/// How storing a sign-in ended.
#[derive(Debug)]
pub enum Connect<E> {
    Done {
        /// It replaced an earlier connection.
        reauthenticated: bool,
        /// Held outbox messages queued again.
        released: u64,
    },
    /// The tenant email is gone (deleted mid-flow, or not this tenant's).
    Missing,
    /// The guard refused; nothing was written.
    Refused(E),
}

impl Connections<'_> {
    /// `guard` sees the tenant email and the pinned user as they are inside
    /// the transaction and decides whether this sign-in may replace them.
    pub async fn connect<E>(
        &self,
        actor: &Actor,
        new: NewConnection,
        guard: impl FnOnce(&TenantEmail, Option<&Pinned>) -> Result<(), E>,
    ) -> Result<Connect<E>, StoreError> {
        let store = self.0;
        let id = new.tenant_email_id.as_str();
        let now = store.now();
        let sealed_refresh = store
            .keys
            .seal(&new.refresh_token, &token_binding("refresh_token", id))?;
        let sealed_access = store
            .keys
            .seal(&new.access_token, &token_binding("access_token", id))?;
        let txn = store.conn.begin().await?;
        let Some(email) = tenant_email::Entity::find_by_id(id.to_string())
            .filter(tenant_email::Column::TenantId.eq(new.tenant_id.as_str()))
            .one(&txn)
            .await?
            .map(tenant_emails::from_row)
        else {
            return Ok(Connect::Missing);
        };
        let existing = mailbox_connection::Entity::find_by_id(id.to_string())
            .one(&txn)
            .await?;
        let pinned = existing.as_ref().map(|c| Pinned {
            oid: c.oid.clone(),
            tid: c.tid.clone(),
            upn: c.upn.clone(),
            authority: c.authority.clone(),
        });
        if let Err(refusal) = guard(&email, pinned.as_ref()) {
            return Ok(Connect::Refused(refusal));
        }
        let row = mailbox_connection::ActiveModel {
            tenant_email_id: Set(id.to_string()),
            refresh_token: Set(sealed_refresh),
            access_token: Set(Some(sealed_access)),
            access_token_expires_at: Set(Some(new.expires_at)),
            oid: Set(new.oid.clone()),
            tid: Set(new.tid.clone()),
            upn: Set(new.upn.clone()),
            display_name: Set(new.display_name.clone()),
            client_id: Set(new.client_id.clone()),
            authority: Set(new.authority.clone()),
            scopes: Set(new.scopes.clone()),
            connected_at: Set(now),
            last_refresh_at: Set(None),
            last_error: Set(None),
            last_error_at: Set(None),
            version: Set(existing.as_ref().map(|c| c.version + 1).unwrap_or(1)),
            token_endpoint: Set(Some(new.token_endpoint.clone())),
            refresh_lease_until: Set(None),
            refresh_lease_owner: Set(None),
            tenant_name: Set(new.tenant_name.clone()),
        };
        if existing.is_some() {
            row.update(&txn).await?;
        } else {
            row.insert(&txn).await?;
        }
        change_status(
            &txn,
            now,
            actor,
            id,
            ConnectionStatus::Connected,
            &[],
            Some(&format!("signed in as {}", new.upn)),
        )
        .await?;
        // Mail held while the grant was gone goes out again, in the same
        // commit that makes the mailbox usable.
        let released = outbox::release_held(&txn, id, now).await?;
        txn.commit().await?;
        Ok(Connect::Done {
            reauthenticated: existing.is_some(),
            released,
        })
    }
}
