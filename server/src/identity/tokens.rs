//! A valid access token for a connected mailbox, whenever Graph needs one.
//!
//! - Cached (sealed) in the connection row until shortly before it expires.
//! - Refresh is single-flight per mailbox: in process (a mutex per mailbox)
//!   and across instances (a short lease on the row, claimed with one
//!   conditional UPDATE, which works the same on PostgreSQL and SQLite).
//! - The rotated refresh token is saved in the same write as the new access token.
//! - `invalid_grant` / `interaction_required` / `consent_required` → Needs
//!   re-authentication (stop using it, keep everything); `invalid_client` →
//!   credentials invalid (status Credentials invalid, with the explanation); 5xx and
//!   timeouts are retried with backoff.
//! - A changed Application ID or authority (compared with what the connection
//!   was made with) means the tokens belong to another app: Needs re-authentication.
use super::begin::join_endpoint;
use super::errors::{aadsts_explanation, OAuthError};
use super::exchange::EntraClient;
use super::store::token_binding;
use super::Identity;
use crate::db::entities::{mailbox_connection, tenant_email};
use app::model::ConnectionStatus;
use chrono::{DateTime, Utc};
use oauth2::{
    ClientId, ClientSecret, RefreshToken, RequestTokenError, TokenResponse as _, TokenUrl,
};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, DbErr, EntityTrait, IsolationLevel,
    QueryFilter, QuerySelect, TransactionTrait,
};
use std::time::Duration;

/// Refresh this long before the access token expires.
pub const REFRESH_MARGIN_SECONDS: i64 = 300;
/// How long one instance may hold the refresh lease. Longer than the worst
/// refresh (4 attempts × 30 s timeout + backoff ≈ 2 min), so a slow but live
/// refresh is never overtaken by another instance spending the same refresh
/// token (providers that detect reuse revoke the whole grant, RFC 9700 §4.14.2).
pub const LEASE_SECONDS: i64 = 300;
/// How long a caller waits for another instance's refresh.
const WAIT_FOR_OTHERS: Duration = Duration::from_secs(20);
const RETRIES: u32 = 3;

/// An access token; `Debug` does not show it.
#[derive(Clone)]
pub struct AccessToken {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessToken")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("this mailbox is not connected")]
    NotConnected,
    #[error("needs re-authentication: {0}")]
    NeedsReauth(String),
    #[error("credentials invalid: {0}")]
    CredentialsInvalid(String),
    #[error("Microsoft is unavailable: {0}")]
    Unavailable(String),
    #[error("Microsoft rejected the refresh: {0}")]
    Rejected(String),
    #[error("another instance is still refreshing this mailbox's token")]
    Busy,
    #[error("internal error {0}")]
    Internal(String),
}

fn internal(context: &str, e: impl std::fmt::Display) -> TokenError {
    let id = app::api::error_id();
    tracing::error!(error_id = %id, error = %e, "{context}");
    TokenError::Internal(id)
}

fn explain(e: &OAuthError) -> String {
    let base = e
        .aadsts()
        .and_then(aadsts_explanation)
        .map(str::to_string)
        .unwrap_or_else(|| format!("Microsoft answered {}.", e.error));
    match e.aadsts() {
        Some(code) => format!("{base} (AADSTS{code})"),
        None => base,
    }
}

enum Refreshed {
    Tokens {
        access: String,
        refresh: Option<String>,
        expires_in: Option<u64>,
    },
    Refused(OAuthError),
    Unreachable(String),
}

async fn load(
    identity: &Identity,
    email_id: &str,
) -> Result<(mailbox_connection::Model, tenant_email::Model), TokenError> {
    // Both rows from one snapshot: a status and its reason are written
    // together, so they must be read together too.
    let isolation = match identity.db.get_database_backend() {
        DbBackend::Postgres => Some(IsolationLevel::RepeatableRead),
        _ => None, // SQLite: a transaction reads from one snapshot anyway.
    };
    let txn = identity
        .db
        .begin_with_config(isolation, None)
        .await
        .map_err(|e| internal("tokens: begin read", e))?;
    let conn = mailbox_connection::Entity::find_by_id(email_id.to_string())
        .one(&txn)
        .await
        .map_err(|e| internal("tokens: read connection", e))?
        .ok_or(TokenError::NotConnected)?;
    let email = tenant_email::Entity::find_by_id(email_id.to_string())
        .one(&txn)
        .await
        .map_err(|e| internal("tokens: read tenant email", e))?
        .ok_or(TokenError::NotConnected)?;
    txn.commit()
        .await
        .map_err(|e| internal("tokens: end read", e))?;
    Ok((conn, email))
}

fn fresh(
    identity: &Identity,
    conn: &mailbox_connection::Model,
    now: DateTime<Utc>,
) -> Option<AccessToken> {
    let expires_at = conn.access_token_expires_at?;
    if expires_at - chrono::Duration::seconds(REFRESH_MARGIN_SECONDS) <= now {
        return None;
    }
    let sealed = conn.access_token.as_deref()?;
    let token = identity
        .keys
        .open(
            sealed,
            &token_binding("access_token", &conn.tenant_email_id),
        )
        .ok()?;
    Some(AccessToken { token, expires_at })
}

/// Records `error` on the connection and releases `lease_owner`'s lease; `status`, when
/// given, becomes the tenant email's connection status.
async fn set_status(
    identity: &Identity,
    email_id: &str,
    status: Option<ConnectionStatus>,
    error: Option<String>,
    lease_owner: Option<&str>,
) {
    if let Err(e) = write_status(identity, email_id, status, error, lease_owner).await {
        let _ = internal("tokens: record status", e);
    }
}

/// One transaction, so a reader never sees the new status without its reason
/// (the outbox copies that reason onto held messages) and the audit entry
/// exists exactly when the status changed.
async fn write_status(
    identity: &Identity,
    email_id: &str,
    status: Option<ConnectionStatus>,
    error: Option<String>,
    lease_owner: Option<&str>,
) -> Result<(), DbErr> {
    let now = identity.clock.now();
    let txn = identity.db.begin().await?;
    mailbox_connection::Entity::update_many()
        .col_expr(
            mailbox_connection::Column::LastError,
            Expr::value(error.clone()),
        )
        .col_expr(
            mailbox_connection::Column::LastErrorAt,
            Expr::value(error.as_ref().map(|_| now)),
        )
        .filter(mailbox_connection::Column::TenantEmailId.eq(email_id))
        .exec(&txn)
        .await?;
    // Only a real change is written (and audited), so a storm of failing
    // refreshes does not flood the audit log.
    if let Some(status) = status {
        let system = crate::audit::system();
        change_status(&txn, now, &system, email_id, status, &[], error.as_deref()).await?;
    }
    // Only the lease's holder may release it: a caller that never held it (or
    // whose lease expired and was taken over) must not free someone else's.
    if let Some(owner) = lease_owner {
        mailbox_connection::Entity::update_many()
            .col_expr(
                mailbox_connection::Column::RefreshLeaseUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .col_expr(
                mailbox_connection::Column::RefreshLeaseOwner,
                Expr::value(Option::<String>::None),
            )
            .filter(mailbox_connection::Column::TenantEmailId.eq(email_id))
            .filter(mailbox_connection::Column::RefreshLeaseOwner.eq(owner))
            .exec(&txn)
            .await?;
    }
    txn.commit().await
}

/// Sets the tenant email's connection status when it differs (and, if `from`
/// is not empty, only from one of those), and audits the change on the same
/// connection — pass a transaction so the two commit together. Every status
/// change goes through here, so none escapes the audit log. True if changed.
pub(crate) async fn change_status<C: ConnectionTrait>(
    conn: &C,
    now: DateTime<Utc>,
    actor: &app::port::Actor,
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
    if update.exec(conn).await?.rows_affected == 0 {
        return Ok(false);
    }
    audit_status_change(conn, now, actor, email_id, status, reason).await?;
    Ok(true)
}

/// The audit entry for a status change made some other way (inside a larger
/// UPDATE); `change_status` is the usual route.
pub(crate) async fn audit_status_change<C: ConnectionTrait>(
    conn: &C,
    now: DateTime<Utc>,
    actor: &app::port::Actor,
    email_id: &str,
    status: ConnectionStatus,
    reason: Option<&str>,
) -> Result<(), DbErr> {
    let address = tenant_email::Entity::find_by_id(email_id.to_string())
        .one(conn)
        .await?
        .map(|e| e.address)
        .unwrap_or_default();
    let detail = match reason {
        Some(e) => format!("now {}: {e}", status.label()),
        None => format!("now {}", status.label()),
    };
    crate::audit::record(
        conn,
        now,
        actor,
        crate::audit::Event::new("connection.status_changed")
            .target("tenant_email", email_id, &address)
            .detail(detail),
    )
    .await
}

/// A refresh worked: an earlier "credentials invalid" or error is over.
async fn heal(db: &sea_orm::DatabaseConnection, now: DateTime<Utc>, id: &str) -> Result<(), DbErr> {
    let txn = db.begin().await?;
    change_status(
        &txn,
        now,
        &crate::audit::system(),
        id,
        ConnectionStatus::Connected,
        &[
            ConnectionStatus::CredentialsInvalid,
            ConnectionStatus::Error,
        ],
        Some("a token refresh worked again"),
    )
    .await?;
    txn.commit().await
}

/// Tokens of another app or authority are useless for this configuration.
fn configuration_changed(conn: &mailbox_connection::Model, email: &tenant_email::Model) -> bool {
    !conn.client_id.eq_ignore_ascii_case(&email.application_id)
        || conn.authority != email.authority_url.trim_end_matches('/')
}

/// Claims the refresh lease; true when this caller is now the one refreshing.
/// Conditional on the version the caller saw, so a caller holding a stale
/// copy never refreshes again right after another instance did.
async fn claim_lease(
    identity: &Identity,
    conn: &mailbox_connection::Model,
    owner: &str,
    now: DateTime<Utc>,
) -> Result<bool, TokenError> {
    let result = mailbox_connection::Entity::update_many()
        .col_expr(
            mailbox_connection::Column::RefreshLeaseUntil,
            Expr::value(Some(now + chrono::Duration::seconds(LEASE_SECONDS))),
        )
        .col_expr(
            mailbox_connection::Column::RefreshLeaseOwner,
            Expr::value(Some(owner.to_string())),
        )
        .filter(mailbox_connection::Column::TenantEmailId.eq(conn.tenant_email_id.as_str()))
        .filter(mailbox_connection::Column::Version.eq(conn.version))
        .filter(
            Condition::any()
                .add(mailbox_connection::Column::RefreshLeaseUntil.is_null())
                .add(mailbox_connection::Column::RefreshLeaseUntil.lt(now)),
        )
        .exec(&identity.db)
        .await
        .map_err(|e| internal("tokens: claim lease", e))?;
    Ok(result.rows_affected == 1)
}

async fn call_token_endpoint(
    identity: &Identity,
    conn: &mailbox_connection::Model,
    email: &tenant_email::Model,
    refresh_token: &str,
    secret: &str,
) -> Refreshed {
    let path = conn
        .token_endpoint
        .as_deref()
        .unwrap_or(&email.token_endpoint);
    let token_url = join_endpoint(&conn.authority, path);
    let Ok(url) = TokenUrl::new(token_url.clone()) else {
        return Refreshed::Unreachable(format!("the token endpoint {token_url} is not a URL"));
    };
    let client = EntraClient::new(ClientId::new(conn.client_id.clone()))
        .set_client_secret(ClientSecret::new(secret.to_string()))
        .set_auth_type(oauth2::AuthType::RequestBody)
        .set_token_uri(url);
    let mut delay = Duration::from_millis(250);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let result = client
            .exchange_refresh_token(&RefreshToken::new(refresh_token.to_string()))
            .request_async(&identity.http)
            .await;
        let transient = match result {
            Ok(r) => {
                return Refreshed::Tokens {
                    access: r.access_token().secret().clone(),
                    refresh: r.refresh_token().map(|t| t.secret().clone()),
                    expires_in: r.expires_in().map(|d| d.as_secs()),
                }
            }
            Err(RequestTokenError::ServerResponse(e)) => {
                let e: OAuthError = e.into();
                if matches!(e.error.as_str(), "temporarily_unavailable" | "server_error") {
                    format!(
                        "{} ({})",
                        e.error,
                        e.aadsts().map(|c| format!("AADSTS{c}")).unwrap_or_default()
                    )
                } else {
                    return Refreshed::Refused(e);
                }
            }
            Err(RequestTokenError::Request(_)) => "connection failed or timed out".to_string(),
            Err(_) => "unusable answer from the token endpoint".to_string(),
        };
        if attempt > RETRIES {
            return Refreshed::Unreachable(transient);
        }
        tracing::info!(tenant_email_id = %conn.tenant_email_id, attempt, "token refresh failed transiently; retrying");
        tokio::time::sleep(delay).await;
        delay *= 2;
    }
}

impl Identity {
    /// A valid access token for the mailbox of `email_id`, refreshing it when needed.
    pub async fn access_token(&self, email_id: &str) -> Result<AccessToken, TokenError> {
        self.token(email_id, None).await
    }

    /// Refreshes the mailbox's tokens unless they were obtained after
    /// `cutoff` (the keep-alive: a refresh token unused for 90 days dies).
    pub async fn refresh_if_unused_since(
        &self,
        email_id: &str,
        cutoff: DateTime<Utc>,
    ) -> Result<AccessToken, TokenError> {
        self.token(email_id, Some(cutoff)).await
    }

    async fn token(
        &self,
        email_id: &str,
        unused_since: Option<DateTime<Utc>>,
    ) -> Result<AccessToken, TokenError> {
        let usable = |conn: &mailbox_connection::Model, now| {
            let recent = unused_since
                .is_none_or(|cutoff| conn.last_refresh_at.unwrap_or(conn.connected_at) >= cutoff);
            if recent {
                fresh(self, conn, now)
            } else {
                None
            }
        };
        let now = self.clock.now();
        let (conn, email) = load(self, email_id).await?;
        if configuration_changed(&conn, &email) {
            let why = "The Application ID or authority changed after this mailbox was connected. Click Authenticate again.".to_string();
            set_status(
                self,
                email_id,
                Some(ConnectionStatus::NeedsReauth),
                Some(why.clone()),
                None,
            )
            .await;
            return Err(TokenError::NeedsReauth(why));
        }
        if email.connection_status == ConnectionStatus::NeedsReauth.code() {
            return Err(TokenError::NeedsReauth(
                conn.last_error
                    .unwrap_or_else(|| "Click Authenticate again.".into()),
            ));
        }
        if let Some(token) = usable(&conn, now) {
            return Ok(token);
        }

        let lock = self.refresh_lock(email_id);
        let _guard = lock.lock().await;
        let owner = uuid::Uuid::new_v4().to_string();
        let deadline = tokio::time::Instant::now() + WAIT_FOR_OTHERS;
        let conn = loop {
            let now = self.clock.now();
            let (conn, latest) = load(self, email_id).await?;
            if let Some(token) = usable(&conn, now) {
                return Ok(token);
            }
            // A caller ahead of us may just have learnt that the grant is gone:
            // do not spend the dead refresh token again.
            if latest.connection_status == ConnectionStatus::NeedsReauth.code() {
                return Err(TokenError::NeedsReauth(
                    conn.last_error
                        .unwrap_or_else(|| "Click Authenticate again.".into()),
                ));
            }
            if claim_lease(self, &conn, &owner, now).await? {
                break conn;
            }
            if tokio::time::Instant::now() > deadline {
                return Err(TokenError::Busy);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        self.refresh_under_lease(&conn, &email, &owner).await
    }

    fn refresh_lock(&self, email_id: &str) -> std::sync::Arc<tokio::sync::Mutex<()>> {
        let mut map = match self.refresh_locks.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        map.entry(email_id.to_string()).or_default().clone()
    }

    async fn refresh_under_lease(
        &self,
        conn: &mailbox_connection::Model,
        email: &tenant_email::Model,
        owner: &str,
    ) -> Result<AccessToken, TokenError> {
        let id = conn.tenant_email_id.as_str();
        let refresh_token = self
            .keys
            .open(&conn.refresh_token, &token_binding("refresh_token", id))
            .map_err(|e| internal("tokens: open refresh token", e))?;
        let secret = crate::backend::open_secret(&self.db, &self.keys, id)
            .await
            .map_err(|e| internal("tokens: open client secret", e))?
            .ok_or_else(|| TokenError::CredentialsInvalid("No client secret is stored.".into()))?;
        match call_token_endpoint(self, conn, email, &refresh_token, &secret).await {
            Refreshed::Tokens {
                access,
                refresh,
                expires_in,
            } => {
                let now = self.clock.now();
                let expires_at =
                    now + chrono::Duration::seconds(expires_in.unwrap_or(3600).min(86_400) as i64);
                let sealed_access = self
                    .keys
                    .seal(&access, &token_binding("access_token", id))
                    .map_err(|e| internal("tokens: seal access token", e))?;
                // Microsoft rotates the refresh token on every use: keep the new one.
                let sealed_refresh = match refresh {
                    Some(r) => self
                        .keys
                        .seal(&r, &token_binding("refresh_token", id))
                        .map_err(|e| internal("tokens: seal refresh token", e))?,
                    None => conn.refresh_token.clone(),
                };
                let written = mailbox_connection::Entity::update_many()
                    .col_expr(
                        mailbox_connection::Column::AccessToken,
                        Expr::value(Some(sealed_access)),
                    )
                    .col_expr(
                        mailbox_connection::Column::RefreshToken,
                        Expr::value(sealed_refresh),
                    )
                    .col_expr(
                        mailbox_connection::Column::AccessTokenExpiresAt,
                        Expr::value(Some(expires_at)),
                    )
                    .col_expr(
                        mailbox_connection::Column::LastRefreshAt,
                        Expr::value(Some(now)),
                    )
                    .col_expr(
                        mailbox_connection::Column::LastError,
                        Expr::value(Option::<String>::None),
                    )
                    .col_expr(
                        mailbox_connection::Column::LastErrorAt,
                        Expr::value(Option::<DateTime<Utc>>::None),
                    )
                    .col_expr(
                        mailbox_connection::Column::RefreshLeaseUntil,
                        Expr::value(Option::<DateTime<Utc>>::None),
                    )
                    .col_expr(
                        mailbox_connection::Column::RefreshLeaseOwner,
                        Expr::value(Option::<String>::None),
                    )
                    .col_expr(
                        mailbox_connection::Column::Version,
                        sea_orm::sea_query::ExprTrait::add(
                            Expr::col(mailbox_connection::Column::Version),
                            1,
                        ),
                    )
                    .filter(mailbox_connection::Column::TenantEmailId.eq(id))
                    .filter(mailbox_connection::Column::RefreshLeaseOwner.eq(owner))
                    .exec(&self.db)
                    .await
                    .map_err(|e| internal("tokens: save refreshed tokens", e))?;
                if written.rows_affected == 1 {
                    // A refresh that works again clears an earlier "credentials invalid".
                    if let Err(e) = heal(&self.db, now, id).await {
                        let _ = internal("tokens: clear error status", e);
                    }
                } else {
                    // Our lease expired and someone else refreshed; their tokens stand.
                    tracing::warn!(tenant_email_id = %id, "refresh lease lost; discarding this refresh");
                }
                tracing::info!(tenant_email_id = %id, "access token refreshed");
                Ok(AccessToken {
                    token: access,
                    expires_at,
                })
            }
            Refreshed::Refused(e) => {
                let text = explain(&e);
                tracing::warn!(tenant_email_id = %id, error = %e.error, aadsts = ?e.aadsts(), "token refresh refused");
                match e.error.as_str() {
                    "invalid_grant"
                    | "interaction_required"
                    | "consent_required"
                    | "login_required" => {
                        set_status(
                            self,
                            id,
                            Some(ConnectionStatus::NeedsReauth),
                            Some(text.clone()),
                            Some(owner),
                        )
                        .await;
                        Err(TokenError::NeedsReauth(text))
                    }
                    // The app's own credentials: wrong or expired secret, app disabled.
                    "invalid_client" | "unauthorized_client" => {
                        set_status(
                            self,
                            id,
                            Some(ConnectionStatus::CredentialsInvalid),
                            Some(text.clone()),
                            Some(owner),
                        )
                        .await;
                        Err(TokenError::CredentialsInvalid(text))
                    }
                    // Anything else (invalid_request, invalid_scope, ...) is
                    // neither the grant nor the secret: show it, keep the grant.
                    _ => {
                        set_status(
                            self,
                            id,
                            Some(ConnectionStatus::Error),
                            Some(text.clone()),
                            Some(owner),
                        )
                        .await;
                        Err(TokenError::Rejected(text))
                    }
                }
            }
            Refreshed::Unreachable(why) => {
                // Transient: keep the status, release the lease, record the error.
                let text = format!("Microsoft's token endpoint was unavailable: {why}.");
                set_status(self, id, None, Some(text.clone()), Some(owner)).await;
                Err(TokenError::Unavailable(text))
            }
        }
    }
}

/// What the status panel shows about a connection (no token, sealed or not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionInfo {
    pub upn: String,
    pub tenant_id: String,
    pub display_name: Option<String>,
    pub connected_at: DateTime<Utc>,
    pub access_token_expires_at: Option<DateTime<Utc>>,
    pub last_refresh_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
}

/// The connection of a tenant email, if it was ever connected.
pub async fn connection_info(
    db: &sea_orm::DatabaseConnection,
    email_id: &str,
) -> Result<Option<ConnectionInfo>, sea_orm::DbErr> {
    Ok(mailbox_connection::Entity::find_by_id(email_id.to_string())
        .one(db)
        .await?
        .map(|c| ConnectionInfo {
            upn: c.upn,
            tenant_id: c.tid,
            display_name: c.display_name,
            connected_at: c.connected_at,
            access_token_expires_at: c.access_token_expires_at,
            last_refresh_at: c.last_refresh_at,
            last_error: c.last_error,
            last_error_at: c.last_error_at,
        }))
}

/// Keep-alive: refreshes every connected mailbox whose tokens were last
/// obtained more than `idle_days` ago, so Microsoft's 90-day inactivity
/// expiry never ends a connection. Returns (refreshed, failed).
pub async fn keep_alive(identity: &Identity, idle_days: i64) -> (usize, usize) {
    let cutoff = identity.clock.now() - chrono::Duration::days(idle_days);
    let rows: Vec<(String, Option<DateTime<Utc>>, DateTime<Utc>)> =
        match mailbox_connection::Entity::find()
            .select_only()
            .column(mailbox_connection::Column::TenantEmailId)
            .column(mailbox_connection::Column::LastRefreshAt)
            .column(mailbox_connection::Column::ConnectedAt)
            .into_tuple()
            .all(&identity.db)
            .await
        {
            Ok(rows) => rows,
            Err(e) => {
                let _ = internal("keep-alive: list connections", e);
                return (0, 0);
            }
        };
    let (mut refreshed, mut failed) = (0, 0);
    for (id, last_refresh, connected) in rows {
        if last_refresh.unwrap_or(connected) >= cutoff {
            continue;
        }
        match identity.refresh_if_unused_since(&id, cutoff).await {
            Ok(_) => refreshed += 1,
            Err(e) => {
                failed += 1;
                tracing::warn!(tenant_email_id = %id, error = %e, "keep-alive refresh failed");
            }
        }
    }
    if refreshed + failed > 0 {
        tracing::info!(
            refreshed,
            failed,
            idle_days,
            "keep-alive refreshed idle connections"
        );
    }
    (refreshed, failed)
}

/// Runs [`keep_alive`] every `every` (first run after one period).
pub fn spawn_keep_alive(
    identity: std::sync::Arc<Identity>,
    every: Duration,
    idle_days: i64,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            keep_alive(&identity, idle_days).await;
        }
    })
}

/// To call inside the transaction that saves a tenant email: a changed
/// Application ID or authority makes the stored tokens useless, so the
/// connection becomes Needs re-authentication (tokens are kept), audited as
/// `actor`'s doing. Replacing only the secret changes nothing. True when the
/// status was changed.
pub async fn mark_if_reconfigured<C: ConnectionTrait>(
    conn: &C,
    now: DateTime<Utc>,
    actor: &app::port::Actor,
    email_id: &str,
) -> Result<bool, sea_orm::DbErr> {
    let Some(connection) = mailbox_connection::Entity::find_by_id(email_id.to_string())
        .one(conn)
        .await?
    else {
        return Ok(false);
    };
    let Some(email) = tenant_email::Entity::find_by_id(email_id.to_string())
        .one(conn)
        .await?
    else {
        return Ok(false);
    };
    if !configuration_changed(&connection, &email) {
        return Ok(false);
    }
    change_status(
        conn,
        now,
        actor,
        email_id,
        ConnectionStatus::NeedsReauth,
        &[],
        Some("the Application ID or authority changed"),
    )
    .await
}
