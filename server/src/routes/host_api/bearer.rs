//! Bearer-token authentication for `/v1`: the token's SHA-256 is looked up;
//! unknown and revoked tokens are refused alike. The token is never logged.
use super::{Failure, HostApiState};
use crate::auth::api_token;
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

/// Whom a `/v1` request acts for: one token, scoped to one tenant.
#[derive(Debug, Clone)]
pub struct Caller {
    pub token_id: String,
    pub tenant_id: String,
}

fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && token.starts_with(api_token::TOKEN_PREFIX))
        .then_some(token)
}

impl FromRequestParts<HostApiState> for Caller {
    type Rejection = Failure;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &HostApiState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(parts).ok_or(Failure::Unauthorized)?;
        let found = state
            .store
            .api_tokens()
            .authenticate(&api_token::hash(token))
            .await?
            .ok_or(Failure::Unauthorized)?;
        Ok(Caller {
            token_id: found.id,
            tenant_id: found.tenant_id,
        })
    }
}

impl Caller {
    /// Whether the tenant email exists and belongs to the caller's tenant:
    /// callers answer "not found" either way, revealing nothing.
    pub async fn owns(&self, state: &HostApiState, tenant_email_id: &str) -> Result<bool, Failure> {
        Ok(state
            .store
            .tenant_emails()
            .owned(&self.tenant_id, tenant_email_id)
            .await?
            .is_some())
    }
}
