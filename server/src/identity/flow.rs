//! Flow rows: created at begin, consumed exactly once at the callback.
use super::errors::{internal, Failure};
use crate::db::entities::oauth_flow;
use crate::secrets::Binding;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

pub const TABLE: &str = "oauth_flow";
pub const VERIFIER_COLUMN: &str = "pkce_verifier";

pub fn verifier_binding(state_hash: &str) -> Binding<'_> {
    Binding {
        table: TABLE,
        column: VERIFIER_COLUMN,
        row_id: state_hash,
    }
}

/// Why a state did not lead to a usable flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unusable {
    Unknown,
    AlreadyUsed,
}

/// Marks the flow consumed and returns it; only the first caller wins, so a
/// replayed or concurrent callback never reaches the token endpoint.
pub async fn consume(
    db: &DatabaseConnection,
    state_hash: &str,
    now: DateTime<Utc>,
) -> Result<Result<oauth_flow::Model, Unusable>, Failure> {
    let updated = oauth_flow::Entity::update_many()
        .col_expr(oauth_flow::Column::ConsumedAt, Expr::value(Some(now)))
        .filter(oauth_flow::Column::StateHash.eq(state_hash))
        .filter(oauth_flow::Column::ConsumedAt.is_null())
        .exec(db)
        .await
        .map_err(|e| internal("consume oauth flow", e))?;
    let row = oauth_flow::Entity::find_by_id(state_hash.to_string())
        .one(db)
        .await
        .map_err(|e| internal("read oauth flow", e))?;
    Ok(match (updated.rows_affected, row) {
        (1, Some(row)) => Ok(row),
        (_, Some(_)) => Err(Unusable::AlreadyUsed),
        (_, None) => Err(Unusable::Unknown),
    })
}

/// Drops flows that expired more than a day ago (kept that long so a late
/// callback can still be told "expired" rather than "unknown").
pub async fn purge_old(db: &DatabaseConnection, now: DateTime<Utc>) {
    let cutoff = now - chrono::Duration::days(1);
    if let Err(e) = oauth_flow::Entity::delete_many()
        .filter(oauth_flow::Column::ExpiresAt.lt(cutoff))
        .exec(db)
        .await
    {
        tracing::warn!(error = %e, "could not purge old oauth flows");
    }
}
