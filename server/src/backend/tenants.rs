use super::errors::{internal, not_found};
use super::DbBackend;
use crate::audit::{self, Event};
use crate::db::entities::{tenant, tenant_email};
use app::model::tenant_email::TenantEmailSummary;
use app::model::{AccountType, ConnectionStatus, Direction, TenantDetail, TenantSummary};
use app::port::{Actor, PortError};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    TransactionTrait,
};
use std::collections::HashMap;

pub async fn list(b: &DbBackend) -> Result<Vec<TenantSummary>, PortError> {
    let tenants = tenant::Entity::find()
        .order_by_asc(tenant::Column::Name)
        .all(&b.db)
        .await
        .map_err(|e| internal("list tenants", e))?;
    let statuses: Vec<(String, String)> = tenant_email::Entity::find()
        .select_only()
        .column(tenant_email::Column::TenantId)
        .column(tenant_email::Column::ConnectionStatus)
        .into_tuple()
        .all(&b.db)
        .await
        .map_err(|e| internal("list tenant email statuses", e))?;
    let mut by_tenant: HashMap<String, (u32, Option<ConnectionStatus>)> = HashMap::new();
    for (tenant_id, status) in statuses {
        let entry = by_tenant.entry(tenant_id).or_default();
        entry.0 += 1;
        let status = ConnectionStatus::from_code(&status).unwrap_or(ConnectionStatus::Error);
        entry.1 = entry.1.max(Some(status));
    }
    Ok(tenants
        .into_iter()
        .map(|t| {
            let (email_count, worst_status) = by_tenant.remove(&t.id).unwrap_or_default();
            TenantSummary {
                id: t.id,
                name: t.name,
                email_count,
                worst_status,
            }
        })
        .collect())
}

pub async fn create(b: &DbBackend, actor: &Actor, name: &str) -> Result<TenantSummary, PortError> {
    let now = b.clock.now();
    let txn = b.db.begin().await.map_err(|e| internal("begin", e))?;
    let model = tenant::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        name: Set(name.to_string()),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await
    .map_err(|e| internal("create tenant", e))?;
    audit::record(
        &txn,
        now,
        actor,
        Event::new("tenant.created").target("tenant", &model.id, &model.name),
    )
    .await
    .map_err(|e| internal("audit", e))?;
    txn.commit().await.map_err(|e| internal("commit", e))?;
    Ok(TenantSummary {
        id: model.id,
        name: model.name,
        email_count: 0,
        worst_status: None,
    })
}

pub async fn get(b: &DbBackend, tenant_id: &str) -> Result<TenantDetail, PortError> {
    let t = tenant::Entity::find_by_id(tenant_id.to_string())
        .one(&b.db)
        .await
        .map_err(|e| internal("get tenant", e))?
        .ok_or_else(|| not_found("tenant"))?;
    let emails = tenant_email::Entity::find()
        .filter(tenant_email::Column::TenantId.eq(tenant_id))
        .order_by_asc(tenant_email::Column::AddressNormalized)
        .all(&b.db)
        .await
        .map_err(|e| internal("list tenant emails", e))?;
    Ok(TenantDetail {
        id: t.id,
        name: t.name,
        version: t.version,
        emails: emails.into_iter().map(summary).collect(),
    })
}

pub fn summary(e: tenant_email::Model) -> TenantEmailSummary {
    TenantEmailSummary {
        account_type: AccountType::from_code(&e.account_type)
            .unwrap_or(AccountType::Microsoft365Graph),
        direction: Direction::from_code(&e.direction).unwrap_or(Direction::SendAndReceive),
        status: ConnectionStatus::from_code(&e.connection_status)
            .unwrap_or(ConnectionStatus::Error),
        id: e.id,
        address: e.address,
    }
}

pub async fn rename(
    b: &DbBackend,
    actor: &Actor,
    tenant_id: &str,
    expected_version: i32,
    name: &str,
) -> Result<TenantDetail, PortError> {
    let now = b.clock.now();
    let txn = b.db.begin().await.map_err(|e| internal("begin", e))?;
    let old_name = tenant::Entity::find_by_id(tenant_id.to_string())
        .one(&txn)
        .await
        .map_err(|e| internal("get tenant", e))?
        .map(|t| t.name)
        .unwrap_or_default();
    let result = tenant::Entity::update_many()
        .col_expr(tenant::Column::Name, Expr::value(name))
        .col_expr(tenant::Column::Version, Expr::value(expected_version + 1))
        .col_expr(tenant::Column::UpdatedAt, Expr::value(now))
        .filter(tenant::Column::Id.eq(tenant_id))
        .filter(tenant::Column::Version.eq(expected_version))
        .exec(&txn)
        .await
        .map_err(|e| internal("rename tenant", e))?;
    if result.rows_affected == 1 {
        audit::record(
            &txn,
            now,
            actor,
            Event::new("tenant.renamed")
                .target("tenant", tenant_id, name)
                .detail(format!("was {old_name:?}")),
        )
        .await
        .map_err(|e| internal("audit", e))?;
    }
    txn.commit().await.map_err(|e| internal("commit", e))?;
    if result.rows_affected == 0 {
        // Tell "gone" apart from "changed by someone else".
        get(b, tenant_id).await?;
        return Err(PortError::Conflict(
            "Someone else changed this tenant since you opened it. Reload and try again.".into(),
        ));
    }
    get(b, tenant_id).await
}

pub async fn delete(b: &DbBackend, actor: &Actor, tenant_id: &str) -> Result<(), PortError> {
    let txn = b.db.begin().await.map_err(|e| internal("begin", e))?;
    let Some(old) = tenant::Entity::find_by_id(tenant_id.to_string())
        .one(&txn)
        .await
        .map_err(|e| internal("get tenant", e))?
    else {
        return Err(not_found("tenant"));
    };
    tenant::Entity::delete_by_id(tenant_id.to_string())
        .exec(&txn)
        .await
        .map_err(|e| internal("delete tenant", e))?;
    audit::record(
        &txn,
        b.clock.now(),
        actor,
        Event::new("tenant.deleted").target("tenant", tenant_id, &old.name),
    )
    .await
    .map_err(|e| internal("audit", e))?;
    txn.commit().await.map_err(|e| internal("commit", e))
}
