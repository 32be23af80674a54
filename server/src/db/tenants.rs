//! `tenant`: the organisations whose mailboxes Tenant Mail connects.
use super::audit::{self, Event};
use super::entities::{tenant, tenant_email};
use super::{Saved, Store, StoreError};
use app::model::ConnectionStatus;
use app::port::Actor;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    TransactionTrait,
};
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub id: String,
    pub name: String,
    pub version: i32,
}

/// A tenant with how many mailboxes it has and the worst of their statuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantListing {
    pub tenant: Tenant,
    pub email_count: u32,
    pub worst_status: Option<ConnectionStatus>,
}

fn from_row(t: tenant::Model) -> Tenant {
    Tenant {
        id: t.id,
        name: t.name,
        version: t.version,
    }
}

pub struct Tenants<'a>(&'a Store);

impl Store {
    pub fn tenants(&self) -> Tenants<'_> {
        Tenants(self)
    }
}

impl Tenants<'_> {
    /// Every tenant, by name.
    pub async fn list(&self) -> Result<Vec<TenantListing>, StoreError> {
        let db = &self.0.conn;
        let tenants = tenant::Entity::find()
            .order_by_asc(tenant::Column::Name)
            .all(db)
            .await?;
        let statuses: Vec<(String, String)> = tenant_email::Entity::find()
            .select_only()
            .column(tenant_email::Column::TenantId)
            .column(tenant_email::Column::ConnectionStatus)
            .into_tuple()
            .all(db)
            .await?;
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
                TenantListing {
                    tenant: from_row(t),
                    email_count,
                    worst_status,
                }
            })
            .collect())
    }

    pub async fn get(&self, id: &str) -> Result<Option<Tenant>, StoreError> {
        Ok(tenant::Entity::find_by_id(id.to_string())
            .one(&self.0.conn)
            .await?
            .map(from_row))
    }

    pub async fn create(&self, actor: &Actor, name: &str) -> Result<Tenant, StoreError> {
        let now = self.0.now();
        let txn = self.0.conn.begin().await?;
        let model = tenant::ActiveModel {
            id: Set(uuid::Uuid::new_v4().to_string()),
            name: Set(name.to_string()),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await?;
        audit::insert(
            &txn,
            now,
            actor,
            Event::new("tenant.created").target("tenant", &model.id, &model.name),
        )
        .await?;
        txn.commit().await?;
        Ok(from_row(model))
    }

    /// Renames version `expected_version` of the tenant.
    pub async fn rename(
        &self,
        actor: &Actor,
        id: &str,
        expected_version: i32,
        name: &str,
    ) -> Result<Saved<Tenant>, StoreError> {
        let now = self.0.now();
        let txn = self.0.conn.begin().await?;
        let Some(old) = tenant::Entity::find_by_id(id.to_string()).one(&txn).await? else {
            return Ok(Saved::Missing);
        };
        let renamed = tenant::Entity::update_many()
            .col_expr(tenant::Column::Name, Expr::value(name))
            .col_expr(tenant::Column::Version, Expr::value(expected_version + 1))
            .col_expr(tenant::Column::UpdatedAt, Expr::value(now))
            .filter(tenant::Column::Id.eq(id))
            .filter(tenant::Column::Version.eq(expected_version))
            .exec_with_returning(&txn)
            .await?;
        let Some(new) = renamed.into_iter().next() else {
            return Ok(Saved::Stale);
        };
        audit::insert(
            &txn,
            now,
            actor,
            Event::new("tenant.renamed")
                .target("tenant", id, name)
                .detail(format!("was {:?}", old.name)),
        )
        .await?;
        txn.commit().await?;
        Ok(Saved::Done(from_row(new)))
    }

    /// Deletes the tenant and, through the schema's cascades, everything of it.
    pub async fn delete(&self, actor: &Actor, id: &str) -> Result<Saved<()>, StoreError> {
        let txn = self.0.conn.begin().await?;
        let Some(old) = tenant::Entity::find_by_id(id.to_string()).one(&txn).await? else {
            return Ok(Saved::Missing);
        };
        tenant::Entity::delete_by_id(id.to_string())
            .exec(&txn)
            .await?;
        audit::insert(
            &txn,
            self.0.now(),
            actor,
            Event::new("tenant.deleted").target("tenant", id, &old.name),
        )
        .await?;
        txn.commit().await?;
        Ok(Saved::Done(()))
    }
}
