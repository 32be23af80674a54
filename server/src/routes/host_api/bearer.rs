//! Bearer-token authentication for `/v1`: the token's SHA-256 is looked up;
//! unknown and revoked tokens are refused alike. The token is never logged.
use super::{Failure, HostApiState};
use crate::auth::api_token;
use crate::db::entities::api_token as entity;
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter};

/// Whom a `/v1` request acts for: one token, scoped to one tenant.
#[derive(Debug, Clone)]
pub struct Caller {
    pub token_id: String,
    pub tenant_id: String,
}

/// `last_used_at` is written at most this often, so a busy client does not
/// turn every request into a write.
const LAST_USED_RESOLUTION_SECS: i64 = 60;

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
        let found = entity::Entity::find()
            .filter(entity::Column::TokenHash.eq(api_token::hash(token)))
            .one(&state.db)
            .await
            .map_err(|e| Failure::internal("look up API token", e))?
            .ok_or(Failure::Unauthorized)?;
        if found.revoked_at.is_some() {
            return Err(Failure::Unauthorized);
        }
        let now = state.clock.now();
        let stale = now - chrono::Duration::seconds(LAST_USED_RESOLUTION_SECS);
        if found.last_used_at.is_none_or(|t| t < stale) {
            // Conditional, so concurrent requests write it once; a failure
            // here must not fail the request.
            let updated = entity::Entity::update_many()
                .col_expr(entity::Column::LastUsedAt, Expr::value(now))
                .filter(entity::Column::Id.eq(found.id.as_str()))
                .filter(
                    Condition::any()
                        .add(entity::Column::LastUsedAt.is_null())
                        .add(entity::Column::LastUsedAt.lt(stale)),
                )
                .exec(&state.db)
                .await;
            if let Err(e) = updated {
                tracing::warn!(token_id = %found.id, error = %e, "could not record API token use");
            }
        }
        Ok(Caller {
            token_id: found.id,
            tenant_id: found.tenant_id,
        })
    }
}
