//! A valid access token for a connected mailbox, whenever Graph needs one.
//!
//! - Cached (sealed) in the connection until shortly before it expires.
//! - Refresh is single-flight per mailbox: in process (a mutex per mailbox)
//!   and across instances (a short lease on the connection, see
//!   `db::connections`).
//! - The rotated refresh token is saved in the same write as the new access token.
//! - `invalid_grant` / `interaction_required` / `consent_required` → Needs
//!   re-authentication (stop using it, keep everything); `invalid_client` →
//!   Credentials invalid (with the explanation); 5xx and timeouts are retried
//!   with backoff.
//! - A changed Application ID or authority (compared with what the
//!   connection was made with) means the tokens belong to another app:
//!   Needs re-authentication.
use super::errors::{aadsts_explanation, OAuthError};
use super::graph_target::GraphTarget;
use super::Identity;
use crate::db::connections::{Connection, Refreshed};
use crate::db::tenant_emails::TenantEmail;
use crate::db::StoreError;
use app::model::ConnectionStatus;
use chrono::{DateTime, Utc};
use std::time::Duration;
pub(crate) use token_call::{Answer, Grant, TokenEndpoint};

mod keep_alive;
#[cfg(test)]
mod tests;
mod token_call;

pub use keep_alive::{keep_alive, spawn_keep_alive};

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
    /// Where this token may be used: its mailbox in its cloud's Graph.
    pub graph: GraphTarget,
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessToken")
            .field("expires_at", &self.expires_at)
            .field("graph", &self.graph.base.as_str())
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
    /// Logged under this reference id.
    #[error("internal error {0}")]
    Internal(String),
}

impl From<StoreError> for TokenError {
    #[track_caller]
    fn from(e: StoreError) -> Self {
        TokenError::Internal(crate::reference::logged_here(e))
    }
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

/// What a refused refresh means, by the OAuth `error` (never by AADSTS code).
fn refused(error: &str, text: String) -> (ConnectionStatus, TokenError) {
    match error {
        "invalid_grant" | "interaction_required" | "consent_required" | "login_required" => {
            (ConnectionStatus::NeedsReauth, TokenError::NeedsReauth(text))
        }
        // The app's own credentials: wrong or expired secret, app disabled.
        "invalid_client" | "unauthorized_client" => (
            ConnectionStatus::CredentialsInvalid,
            TokenError::CredentialsInvalid(text),
        ),
        // Anything else (invalid_request, invalid_scope, ...) is neither the
        // grant nor the secret: show it, keep the grant.
        _ => (ConnectionStatus::Error, TokenError::Rejected(text)),
    }
}

const RECONFIGURED: &str = "The Application ID or authority changed after this mailbox was connected. Click Authenticate again.";

fn needs_reauth(c: &Connection) -> TokenError {
    TokenError::NeedsReauth(
        c.last_error
            .clone()
            .unwrap_or_else(|| "Click Authenticate again.".into()),
    )
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

    /// The cached token when it is fresh (and, for the keep-alive, recent).
    fn usable(
        &self,
        c: &Connection,
        unused_since: Option<DateTime<Utc>>,
        graph: &GraphTarget,
    ) -> Option<AccessToken> {
        if unused_since.is_some_and(|cutoff| c.last_used() < cutoff) {
            return None;
        }
        let expires_at = c.access_token_expires_at?;
        if expires_at - chrono::Duration::seconds(REFRESH_MARGIN_SECONDS) <= self.store.now() {
            return None;
        }
        let token = self.store.connections().access_token(c)?;
        Some(AccessToken {
            token,
            expires_at,
            graph: graph.clone(),
        })
    }

    fn target(&self, email: &TenantEmail) -> Result<GraphTarget, TokenError> {
        self.graph_target(&email.settings).map_err(|e| {
            TokenError::Internal(crate::reference::logged(
                "tokens: the Graph of a mailbox",
                e,
            ))
        })
    }

    async fn snapshot(&self, email_id: &str) -> Result<(Connection, TenantEmail), TokenError> {
        self.store
            .connections()
            .snapshot(email_id)
            .await?
            .ok_or(TokenError::NotConnected)
    }

    async fn token(
        &self,
        email_id: &str,
        unused_since: Option<DateTime<Utc>>,
    ) -> Result<AccessToken, TokenError> {
        let (conn, email) = self.snapshot(email_id).await?;
        let graph = self.target(&email)?;
        if conn.made_for_other(&email.settings) {
            self.record(
                email_id,
                Some(ConnectionStatus::NeedsReauth),
                Some(RECONFIGURED),
                None,
            )
            .await;
            return Err(TokenError::NeedsReauth(RECONFIGURED.into()));
        }
        if email.status == ConnectionStatus::NeedsReauth {
            return Err(needs_reauth(&conn));
        }
        if let Some(token) = self.usable(&conn, unused_since, &graph) {
            return Ok(token);
        }

        let lock = self.refresh_lock(email_id);
        let _guard = lock.lock().await;
        let owner = uuid::Uuid::new_v4().to_string();
        let deadline = tokio::time::Instant::now() + WAIT_FOR_OTHERS;
        let conn = loop {
            let (conn, latest) = self.snapshot(email_id).await?;
            if let Some(token) = self.usable(&conn, unused_since, &graph) {
                return Ok(token);
            }
            // A caller ahead of us may just have learnt that the grant is
            // gone: do not spend the dead refresh token again.
            if latest.status == ConnectionStatus::NeedsReauth {
                return Err(needs_reauth(&conn));
            }
            let until = self.store.now() + chrono::Duration::seconds(LEASE_SECONDS);
            if self
                .store
                .connections()
                .claim_refresh(&conn, &owner, until)
                .await?
            {
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

    /// Best effort: a failure to record is logged, the caller's answer stands.
    async fn record(
        &self,
        email_id: &str,
        status: Option<ConnectionStatus>,
        error: Option<&str>,
        lease_owner: Option<&str>,
    ) {
        let recorded = self
            .store
            .connections()
            .record_problem(email_id, status, error, lease_owner)
            .await;
        if let Err(e) = recorded {
            crate::reference::logged("tokens: record status", e);
        }
    }

    async fn refresh_under_lease(
        &self,
        conn: &Connection,
        email: &TenantEmail,
        owner: &str,
    ) -> Result<AccessToken, TokenError> {
        let id = conn.tenant_email_id.as_str();
        let grant = if email.settings.account_type.signs_in() {
            Grant::Refresh(self.store.connections().refresh_token(conn)?)
        } else {
            Grant::ClientCredentials(format!(
                "{}/.default",
                self.graph_hosts.resource(email.settings.cloud)
            ))
        };
        let Some(plan) = self.rotation_plan(email).await? else {
            return Err(TokenError::CredentialsInvalid(
                "No client secret or certificate is stored.".into(),
            ));
        };
        let to = TokenEndpoint::of_connection(conn, email);
        let answer = self.call_with_plan(&to, &grant, &plan).await;
        match answer {
            Answer::Tokens {
                access,
                refresh,
                expires_in,
            } => {
                let expires_at = self.store.now()
                    + chrono::Duration::seconds(expires_in.unwrap_or(3600).min(86_400) as i64);
                let saved = self
                    .store
                    .connections()
                    .save_refreshed(
                        conn,
                        owner,
                        Refreshed {
                            access_token: &access,
                            refresh_token: refresh.as_deref(),
                            expires_at,
                        },
                    )
                    .await?;
                if !saved {
                    // Our lease expired and someone else refreshed; their tokens stand.
                    tracing::warn!(tenant_email_id = %id, "refresh lease lost; discarding this refresh");
                }
                tracing::info!(tenant_email_id = %id, "access token refreshed");
                crate::telemetry::token_refresh("ok");
                Ok(AccessToken {
                    token: access,
                    expires_at,
                    graph: self.target(email)?,
                })
            }
            Answer::Refused(e) => {
                let text = explain(&e);
                tracing::warn!(tenant_email_id = %id, error = %e.error, aadsts = ?e.aadsts(), "token refresh refused");
                crate::telemetry::token_refresh("refused");
                let (status, error) = refused(&e.error, text.clone());
                self.record(id, Some(status), Some(&text), Some(owner))
                    .await;
                Err(error)
            }
            Answer::Unreachable(why) => {
                // Transient: keep the status, release the lease, record the error.
                let text = format!("Microsoft's token endpoint was unavailable: {why}.");
                crate::telemetry::token_refresh("unavailable");
                self.record(id, None, Some(&text), Some(owner)).await;
                Err(TokenError::Unavailable(text))
            }
        }
    }
}
