//! `api_token`: the host API's per-tenant bearer tokens, stored only as their
//! SHA-256 (a database leak does not hand out working tokens). Audit records
//! name a token, never its value.
use super::audit::{self, Event};
use super::entities::{api_token, tenant};
use super::{Saved, Store, StoreError};
use app::port::Actor;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, Set,
    TransactionTrait,
};

/// `last_used_at` is written at most this often, so a busy client does not
/// turn every request into a write.
const LAST_USED_RESOLUTION_SECS: i64 = 60;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub id: String,
    pub tenant_id: String,
    pub name: String,
    /// The first characters of the token, for recognising it.
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

fn from_row(m: api_token::Model) -> ApiToken {
    ApiToken {
        id: m.id,
        tenant_id: m.tenant_id,
        name: m.name,
        prefix: m.prefix,
        created_at: m.created_at,
        created_by: m.created_by,
        last_used_at: m.last_used_at,
        revoked_at: m.revoked_at,
    }
}

/// A token to store: its hash and display prefix, never its value.
pub struct NewToken<'a> {
    pub name: &'a str,
    pub hash: String,
    pub prefix: String,
}

pub struct ApiTokens<'a>(&'a Store);

impl Store {
    pub fn api_tokens(&self) -> ApiTokens<'_> {
        ApiTokens(self)
    }
}

impl ApiTokens<'_> {
    /// A tenant's tokens, newest first.
    pub async fn of_tenant(&self, tenant_id: &str) -> Result<Vec<ApiToken>, StoreError> {
        Ok(api_token::Entity::find()
            .filter(api_token::Column::TenantId.eq(tenant_id))
            .order_by_desc(api_token::Column::CreatedAt)
            .all(&self.0.conn)
            .await?
            .into_iter()
            .map(from_row)
            .collect())
    }

    /// `Missing` when the tenant does not exist.
    pub async fn create(
        &self,
        actor: &Actor,
        tenant_id: &str,
        new: NewToken<'_>,
    ) -> Result<Saved<ApiToken>, StoreError> {
        let now = self.0.now();
        let txn = self.0.conn.begin().await?;
        let Some(t) = tenant::Entity::find_by_id(tenant_id.to_string())
            .one(&txn)
            .await?
        else {
            return Ok(Saved::Missing);
        };
        let model = api_token::ActiveModel {
            id: Set(uuid::Uuid::new_v4().to_string()),
            tenant_id: Set(tenant_id.to_string()),
            name: Set(new.name.to_string()),
            token_hash: Set(new.hash),
            prefix: Set(new.prefix),
            created_at: Set(now),
            created_by: Set(actor.username.clone()),
            last_used_at: Set(None),
            revoked_at: Set(None),
        }
        .insert(&txn)
        .await?;
        audit::insert(
            &txn,
            now,
            actor,
            Event::new("api_token.created")
                .target("api_token", &model.id, new.name)
                .detail(format!(
                    "tenant {} ({}), prefix {}",
                    t.name, t.id, model.prefix
                )),
        )
        .await?;
        txn.commit().await?;
        Ok(Saved::Done(from_row(model)))
    }

    /// Revokes a tenant's token; revoking twice keeps the first time.
    pub async fn revoke(
        &self,
        actor: &Actor,
        tenant_id: &str,
        id: &str,
    ) -> Result<Saved<ApiToken>, StoreError> {
        let now = self.0.now();
        let txn = self.0.conn.begin().await?;
        let Some(found) = api_token::Entity::find_by_id(id.to_string())
            .filter(api_token::Column::TenantId.eq(tenant_id))
            .one(&txn)
            .await?
        else {
            return Ok(Saved::Missing);
        };
        if found.revoked_at.is_some() {
            return Ok(Saved::Done(from_row(found)));
        }
        let revoked = api_token::Entity::update_many()
            .col_expr(api_token::Column::RevokedAt, Expr::value(Some(now)))
            .filter(api_token::Column::Id.eq(id))
            .filter(api_token::Column::RevokedAt.is_null())
            .exec_with_returning(&txn)
            .await?;
        let Some(model) = revoked.into_iter().next() else {
            return Ok(Saved::Stale);
        };
        audit::insert(
            &txn,
            now,
            actor,
            Event::new("api_token.revoked")
                .target("api_token", &model.id, &model.name)
                .detail(format!("tenant {tenant_id}, prefix {}", model.prefix)),
        )
        .await?;
        txn.commit().await?;
        Ok(Saved::Done(from_row(model)))
    }

    /// The live (not revoked) token with this hash, noting its use.
    pub async fn authenticate(&self, hash: &str) -> Result<Option<ApiToken>, StoreError> {
        let db = &self.0.conn;
        let Some(found) = api_token::Entity::find()
            .filter(api_token::Column::TokenHash.eq(hash))
            .one(db)
            .await?
            .filter(|t| t.revoked_at.is_none())
        else {
            return Ok(None);
        };
        let now = self.0.now();
        let stale = now - chrono::Duration::seconds(LAST_USED_RESOLUTION_SECS);
        if found.last_used_at.is_none_or(|t| t < stale) {
            // Conditional, so concurrent requests write it once; a failure
            // here must not fail the request.
            let updated = api_token::Entity::update_many()
                .col_expr(api_token::Column::LastUsedAt, Expr::value(now))
                .filter(api_token::Column::Id.eq(found.id.as_str()))
                .filter(
                    Condition::any()
                        .add(api_token::Column::LastUsedAt.is_null())
                        .add(api_token::Column::LastUsedAt.lt(stale)),
                )
                .exec(db)
                .await;
            if let Err(e) = updated {
                tracing::warn!(token_id = %found.id, error = %e, "could not record API token use");
            }
        }
        Ok(Some(from_row(found)))
    }
}
