//! `oauth_flow`: one row per "Click to Authenticate", created at begin and
//! consumed exactly once at the callback. The PKCE verifier is sealed; the
//! state, the nonce's partner cookie and the admin session are stored only
//! as hashes by the caller. The row snapshots everything the callback needs
//! (authority, endpoints, client id, issuer), so a settings change mid-flow
//! cannot redirect the code elsewhere.
use super::entities::oauth_flow;
use super::{Store, StoreError};
use crate::secrets::Binding;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

const TABLE: &str = "oauth_flow";
const VERIFIER_COLUMN: &str = "pkce_verifier";

pub(in crate::db) fn verifier_binding(state_hash: &str) -> Binding<'_> {
    Binding {
        table: TABLE,
        column: VERIFIER_COLUMN,
        row_id: state_hash,
    }
}

/// A flow as begin stores it and the callback reads it.
#[derive(Clone, PartialEq, Eq)]
pub struct Flow {
    /// SHA-256 of the `state` parameter.
    pub state_hash: String,
    pub tenant_id: String,
    pub tenant_email_id: String,
    pub nonce: String,
    /// SHA-256 of the flow cookie's value.
    pub browser_binding: String,
    /// SHA-256 of the admin session that started it; the callback must come from it.
    pub session_key: Option<String>,
    pub login_hint: String,
    /// Without a trailing slash.
    pub authority: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub scopes: String,
    /// From discovery; may hold Entra's `{tenantid}` template.
    pub issuer: String,
    pub jwks_uri: String,
    /// The authority promised an `iss` on its responses (RFC 9207).
    pub iss_required: bool,
    pub allow_new_account: bool,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for Flow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Flow")
            .field("tenant_email_id", &self.tenant_email_id)
            .field("authority", &self.authority)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// Why a state did not lead to a usable flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unusable {
    Unknown,
    AlreadyUsed,
}

/// A consumed flow and its PKCE verifier (opened).
pub struct Consumed {
    pub flow: Flow,
    sealed_verifier: String,
}

fn from_row(m: oauth_flow::Model) -> Consumed {
    Consumed {
        sealed_verifier: m.pkce_verifier,
        flow: Flow {
            state_hash: m.state_hash,
            tenant_id: m.tenant_id,
            tenant_email_id: m.tenant_email_id,
            nonce: m.nonce,
            browser_binding: m.browser_binding,
            session_key: m.session_key,
            login_hint: m.login_hint,
            authority: m.authority,
            authorization_endpoint: m.authorization_endpoint,
            token_endpoint: m.token_endpoint,
            client_id: m.client_id,
            redirect_uri: m.redirect_uri,
            scopes: m.scopes,
            issuer: m.issuer,
            jwks_uri: m.jwks_uri,
            iss_required: m.iss_required,
            allow_new_account: m.allow_new_account,
            created_at: m.created_at,
            expires_at: m.expires_at,
        },
    }
}

pub struct Flows<'a>(&'a Store);

impl Store {
    pub fn flows(&self) -> Flows<'_> {
        Flows(self)
    }
}

impl Flows<'_> {
    /// Stores a new flow with its PKCE verifier sealed, and drops flows that
    /// expired more than a day ago (kept that long so a late callback is
    /// told "expired" rather than "unknown").
    pub async fn start(&self, flow: &Flow, verifier: &str) -> Result<(), StoreError> {
        let sealed = self
            .0
            .keys
            .seal(verifier, &verifier_binding(&flow.state_hash))?;
        oauth_flow::ActiveModel {
            state_hash: Set(flow.state_hash.clone()),
            tenant_id: Set(flow.tenant_id.clone()),
            tenant_email_id: Set(flow.tenant_email_id.clone()),
            pkce_verifier: Set(sealed),
            nonce: Set(flow.nonce.clone()),
            browser_binding: Set(flow.browser_binding.clone()),
            login_hint: Set(flow.login_hint.clone()),
            authority: Set(flow.authority.clone()),
            authorization_endpoint: Set(flow.authorization_endpoint.clone()),
            token_endpoint: Set(flow.token_endpoint.clone()),
            client_id: Set(flow.client_id.clone()),
            redirect_uri: Set(flow.redirect_uri.clone()),
            scopes: Set(flow.scopes.clone()),
            iss_required: Set(flow.iss_required),
            issuer: Set(flow.issuer.clone()),
            jwks_uri: Set(flow.jwks_uri.clone()),
            allow_new_account: Set(flow.allow_new_account),
            created_at: Set(flow.created_at),
            expires_at: Set(flow.expires_at),
            consumed_at: Set(None),
            session_key: Set(flow.session_key.clone()),
        }
        .insert(&self.0.conn)
        .await?;
        self.purge_old().await;
        Ok(())
    }

    /// The flow of `state_hash` if it exists and is not used yet; nothing changes.
    pub async fn peek(&self, state_hash: &str) -> Result<Option<Flow>, StoreError> {
        Ok(oauth_flow::Entity::find_by_id(state_hash.to_string())
            .filter(oauth_flow::Column::ConsumedAt.is_null())
            .one(&self.0.conn)
            .await?
            .map(|row| from_row(row).flow))
    }

    /// Marks the flow consumed and returns it; only the first caller wins,
    /// so a replayed or concurrent callback never reaches the token endpoint.
    pub async fn consume(
        &self,
        state_hash: &str,
    ) -> Result<Result<Consumed, Unusable>, StoreError> {
        let db = &self.0.conn;
        let updated = oauth_flow::Entity::update_many()
            .col_expr(
                oauth_flow::Column::ConsumedAt,
                Expr::value(Some(self.0.now())),
            )
            .filter(oauth_flow::Column::StateHash.eq(state_hash))
            .filter(oauth_flow::Column::ConsumedAt.is_null())
            .exec_with_returning(db)
            .await?;
        if let Some(row) = updated.into_iter().next() {
            return Ok(Ok(from_row(row)));
        }
        let known = oauth_flow::Entity::find_by_id(state_hash.to_string())
            .one(db)
            .await?
            .is_some();
        Ok(Err(if known {
            Unusable::AlreadyUsed
        } else {
            Unusable::Unknown
        }))
    }

    /// The consumed flow's PKCE verifier.
    pub fn verifier(&self, consumed: &Consumed) -> Result<String, StoreError> {
        Ok(self.0.keys.open(
            &consumed.sealed_verifier,
            &verifier_binding(&consumed.flow.state_hash),
        )?)
    }

    async fn purge_old(&self) {
        let cutoff = self.0.now() - chrono::Duration::days(1);
        if let Err(e) = oauth_flow::Entity::delete_many()
            .filter(oauth_flow::Column::ExpiresAt.lt(cutoff))
            .exec(&self.0.conn)
            .await
        {
            tracing::warn!(error = %e, "could not purge old oauth flows");
        }
    }
}
