//! `mailbox_connection` (the tokens a sign-in produced, sealed, and who
//! signed in) and the connection status of `tenant_email`. Every status
//! change goes through [`change_status`], which audits it in the same
//! transaction, so none escapes the audit log.
mod connect;
mod refresh;

pub use connect::{Connect, NewConnection, Pinned};
pub use refresh::Refreshed;

use super::audit::{self, Event};
use super::entities::{mailbox_connection, tenant_email};
use super::tenant_emails::{MailboxSettings, TenantEmail};
use super::{Store, StoreError};
use crate::secrets::Binding;
use app::model::ConnectionStatus;
use app::port::Actor;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};

const TABLE: &str = "mailbox_connection";

pub(in crate::db) fn token_binding<'a>(column: &'a str, tenant_email_id: &'a str) -> Binding<'a> {
    Binding {
        table: TABLE,
        column,
        row_id: tenant_email_id,
    }
}

/// A connected mailbox: who signed in, for which app and authority, and the
/// state of its tokens. The tokens themselves stay sealed in here; the
/// store opens them on request.
#[derive(Clone, PartialEq, Eq)]
pub struct Connection {
    pub tenant_email_id: String,
    /// Pinned: a re-authentication must come back with the same `oid` in the same `tid`.
    pub oid: String,
    pub tid: String,
    pub upn: String,
    pub display_name: Option<String>,
    /// The Microsoft tenant's display name, when Graph told it.
    pub tenant_name: Option<String>,
    pub client_id: String,
    /// Without a trailing slash.
    pub authority: String,
    /// The token endpoint path it was made with (`None`: the tenant email's).
    pub token_endpoint: Option<String>,
    pub connected_at: DateTime<Utc>,
    pub access_token_expires_at: Option<DateTime<Utc>>,
    pub last_refresh_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
    /// The scopes Microsoft granted at the last sign-in or refresh.
    pub scopes: String,
    /// Bumped by every token write: a refresh lease is claimed against it.
    version: i32,
    sealed_access: Option<String>,
    sealed_refresh: String,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("tenant_email_id", &self.tenant_email_id)
            .field("upn", &self.upn)
            .field("tid", &self.tid)
            .field("access_token_expires_at", &self.access_token_expires_at)
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// When its tokens were last obtained (the keep-alive's measure).
    pub fn last_used(&self) -> DateTime<Utc> {
        self.last_refresh_at.unwrap_or(self.connected_at)
    }

    /// The tokens belong to another app or authority than `settings` name.
    pub fn made_for_other(&self, settings: &MailboxSettings) -> bool {
        differs(&self.client_id, &self.authority, settings)
    }
}

fn differs(client_id: &str, authority: &str, settings: &MailboxSettings) -> bool {
    !client_id.eq_ignore_ascii_case(&settings.application_id) || authority != settings.authority()
}

/// [`Connection::made_for_other`] for a raw row (inside a save's transaction).
pub(super) fn made_for_other(row: &mailbox_connection::Model, settings: &MailboxSettings) -> bool {
    differs(&row.client_id, &row.authority, settings)
}

fn from_row(c: mailbox_connection::Model) -> Connection {
    Connection {
        tenant_email_id: c.tenant_email_id,
        oid: c.oid,
        tid: c.tid,
        upn: c.upn,
        display_name: c.display_name,
        tenant_name: c.tenant_name,
        client_id: c.client_id,
        authority: c.authority,
        token_endpoint: c.token_endpoint,
        connected_at: c.connected_at,
        access_token_expires_at: c.access_token_expires_at,
        last_refresh_at: c.last_refresh_at,
        last_error: c.last_error,
        last_error_at: c.last_error_at,
        scopes: c.scopes,
        version: c.version,
        sealed_access: c.access_token,
        sealed_refresh: c.refresh_token,
    }
}

pub struct Connections<'a>(&'a Store);

impl Store {
    pub fn connections(&self) -> Connections<'_> {
        Connections(self)
    }
}

impl Connections<'_> {
    /// The connection of a tenant email, if it was ever connected.
    pub async fn get(&self, tenant_email_id: &str) -> Result<Option<Connection>, StoreError> {
        Ok(
            mailbox_connection::Entity::find_by_id(tenant_email_id.to_string())
                .one(&self.0.conn)
                .await?
                .map(from_row),
        )
    }

    /// The cached access token, opened; `None` when there is none or it does
    /// not open (a refresh then replaces it).
    pub fn access_token(&self, c: &Connection) -> Option<String> {
        let sealed = c.sealed_access.as_deref()?;
        match self
            .0
            .keys
            .open(sealed, &token_binding("access_token", &c.tenant_email_id))
        {
            Ok(token) => Some(token),
            Err(e) => {
                tracing::warn!(tenant_email_id = %c.tenant_email_id, error = %e, "stored access token does not open; refreshing instead");
                None
            }
        }
    }

    pub fn refresh_token(&self, c: &Connection) -> Result<String, StoreError> {
        Ok(self.0.keys.open(
            &c.sealed_refresh,
            &token_binding("refresh_token", &c.tenant_email_id),
        )?)
    }

    /// Connections whose tokens were last obtained before `cutoff`.
    pub async fn unused_since(&self, cutoff: DateTime<Utc>) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String, Option<DateTime<Utc>>, DateTime<Utc>)> =
            mailbox_connection::Entity::find()
                .select_only()
                .column(mailbox_connection::Column::TenantEmailId)
                .column(mailbox_connection::Column::LastRefreshAt)
                .column(mailbox_connection::Column::ConnectedAt)
                .into_tuple()
                .all(&self.0.conn)
                .await?;
        Ok(rows
            .into_iter()
            .filter(|(_, last_refresh, connected)| last_refresh.unwrap_or(*connected) < cutoff)
            .map(|(id, _, _)| id)
            .collect())
    }
}

/// Sets the tenant email's connection status when it differs (and, if
/// `from` is not empty, only from one of those), and audits the change on
/// the same connection: pass the transaction of the change that caused it.
/// True if it changed.
pub(super) async fn change_status<C: ConnectionTrait>(
    conn: &C,
    now: DateTime<Utc>,
    actor: &Actor,
    email_id: &str,
    status: ConnectionStatus,
    from: &[ConnectionStatus],
    reason: Option<&str>,
) -> Result<bool, DbErr> {
    let mut update = tenant_email::Entity::update_many()
        .col_expr(
            tenant_email::Column::ConnectionStatus,
            Expr::value(status.code()),
        )
        .filter(tenant_email::Column::Id.eq(email_id))
        .filter(tenant_email::Column::ConnectionStatus.ne(status.code()));
    if !from.is_empty() {
        update = update
            .filter(tenant_email::Column::ConnectionStatus.is_in(from.iter().map(|s| s.code())));
    }
    let Some(row) = update.exec_with_returning(conn).await?.into_iter().next() else {
        return Ok(false);
    };
    status_event(conn, now, actor, email_id, &row.address, status, reason).await?;
    Ok(true)
}

/// The audit entry for a status change that a save made inside its own UPDATE.
pub(super) async fn audit_status<C: ConnectionTrait>(
    conn: &C,
    now: DateTime<Utc>,
    actor: &Actor,
    email: &TenantEmail,
    reason: Option<&str>,
) -> Result<(), DbErr> {
    status_event(
        conn,
        now,
        actor,
        &email.id,
        email.address(),
        email.status,
        reason,
    )
    .await
}

async fn status_event<C: ConnectionTrait>(
    conn: &C,
    now: DateTime<Utc>,
    actor: &Actor,
    email_id: &str,
    address: &str,
    status: ConnectionStatus,
    reason: Option<&str>,
) -> Result<(), DbErr> {
    let detail = match reason {
        Some(e) => format!("now {}: {e}", status.label()),
        None => format!("now {}", status.label()),
    };
    audit::insert(
        conn,
        now,
        actor,
        Event::new("connection.status_changed")
            .target("tenant_email", email_id, address)
            .detail(detail),
    )
    .await
}

#[cfg(test)]
mod tests;
