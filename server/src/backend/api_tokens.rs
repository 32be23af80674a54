//! The API-token part of the backend port. The plaintext token exists only in
//! `create`'s return value; audit records name the token, never its value.
use super::errors::{internal, not_found};
use super::DbBackend;
use crate::audit::{self, Event};
use crate::auth::api_token;
use crate::db::entities::{api_token as entity, tenant};
use app::model::api_token::{ApiTokenView, CreatedApiToken};
use app::port::{Actor, PortError};
use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, Set,
    TransactionTrait,
};

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn view(m: entity::Model) -> ApiTokenView {
    ApiTokenView {
        id: m.id,
        name: m.name,
        prefix: m.prefix,
        created_at: rfc3339(m.created_at),
        created_by: m.created_by,
        last_used_at: m.last_used_at.map(rfc3339),
        revoked_at: m.revoked_at.map(rfc3339),
    }
}

async fn tenant(b: &DbBackend, tenant_id: &str) -> Result<tenant::Model, PortError> {
    tenant::Entity::find_by_id(tenant_id.to_string())
        .one(&b.db)
        .await
        .map_err(|e| internal("find tenant", e))?
        .ok_or_else(|| not_found("tenant"))
}

pub async fn list(b: &DbBackend, tenant_id: &str) -> Result<Vec<ApiTokenView>, PortError> {
    tenant(b, tenant_id).await?;
    Ok(entity::Entity::find()
        .filter(entity::Column::TenantId.eq(tenant_id))
        .order_by_desc(entity::Column::CreatedAt)
        .all(&b.db)
        .await
        .map_err(|e| internal("list API tokens", e))?
        .into_iter()
        .map(view)
        .collect())
}

pub async fn create(
    b: &DbBackend,
    actor: &Actor,
    tenant_id: &str,
    name: &str,
) -> Result<CreatedApiToken, PortError> {
    let t = tenant(b, tenant_id).await?;
    let now = b.clock.now();
    let secret = api_token::generate();
    let txn = b.db.begin().await.map_err(|e| internal("begin", e))?;
    let model = entity::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        tenant_id: Set(tenant_id.to_string()),
        name: Set(name.to_string()),
        token_hash: Set(api_token::hash(&secret)),
        prefix: Set(api_token::display_prefix(&secret)),
        created_at: Set(now),
        created_by: Set(actor.username.clone()),
        last_used_at: Set(None),
        revoked_at: Set(None),
    }
    .insert(&txn)
    .await
    .map_err(|e| internal("insert API token", e))?;
    audit::record(
        &txn,
        now,
        actor,
        Event::new("api_token.created")
            .target("api_token", &model.id, name)
            .detail(format!(
                "tenant {} ({}), prefix {}",
                t.name, t.id, model.prefix
            )),
    )
    .await
    .map_err(|e| internal("audit API token", e))?;
    txn.commit().await.map_err(|e| internal("commit", e))?;
    Ok(CreatedApiToken {
        token: view(model),
        secret,
    })
}

pub async fn revoke(
    b: &DbBackend,
    actor: &Actor,
    tenant_id: &str,
    token_id: &str,
) -> Result<ApiTokenView, PortError> {
    let found = entity::Entity::find_by_id(token_id.to_string())
        .filter(entity::Column::TenantId.eq(tenant_id))
        .one(&b.db)
        .await
        .map_err(|e| internal("find API token", e))?
        .ok_or_else(|| not_found("API token"))?;
    // Revoking twice keeps the first revocation time.
    if found.revoked_at.is_some() {
        return Ok(view(found));
    }
    let now = b.clock.now();
    let txn = b.db.begin().await.map_err(|e| internal("begin", e))?;
    let mut active = found.into_active_model();
    active.revoked_at = Set(Some(now));
    let model = active
        .update(&txn)
        .await
        .map_err(|e| internal("revoke API token", e))?;
    audit::record(
        &txn,
        now,
        actor,
        Event::new("api_token.revoked")
            .target("api_token", &model.id, &model.name)
            .detail(format!("tenant {tenant_id}, prefix {}", model.prefix)),
    )
    .await
    .map_err(|e| internal("audit API token", e))?;
    txn.commit().await.map_err(|e| internal("commit", e))?;
    Ok(view(model))
}
