//! The next client secret: stored ahead of need, sealed under its own
//! binding, and promoted into `client_secret` when Microsoft refuses the one
//! in use or it is about to expire (see `identity::rotation`). Promotion is
//! a compare-and-set on the sealed value that was tried, so two instances
//! promoting at once write it once, and a secret replaced meanwhile is never
//! overwritten with an older one.
use super::audited::Change;
use super::{next_secret_binding, secret_binding, OpenedNextSecret, TenantEmail, TenantEmails};
use crate::db::audit::{self, Event};
use crate::db::entities::tenant_email;
use crate::db::{Saved, StoreError};
use app::port::Actor;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect, TransactionTrait, UpdateMany};

/// `update` also empties the next-secret slot.
pub(super) fn cleared(
    update: UpdateMany<tenant_email::Entity>,
) -> UpdateMany<tenant_email::Entity> {
    update
        .col_expr(
            tenant_email::Column::NextClientSecret,
            Expr::value(None::<String>),
        )
        .col_expr(
            tenant_email::Column::NextSecretSetAt,
            Expr::value(None::<DateTime<Utc>>),
        )
        .col_expr(
            tenant_email::Column::NextSecretExpiresOn,
            Expr::value(None::<NaiveDate>),
        )
}

impl TenantEmails<'_> {
    /// Stores `secret` (expiring on `expires_on`) as the next secret,
    /// replacing any next secret stored before. The secret in use stays.
    pub async fn set_next_secret(
        &self,
        actor: &Actor,
        tenant_id: &str,
        id: &str,
        expected_version: i32,
        secret: &str,
        expires_on: Option<NaiveDate>,
    ) -> Result<Saved<TenantEmail>, StoreError> {
        let store = self.0;
        let now = store.now();
        let sealed = store.keys.seal(secret, &next_secret_binding(id))?;
        let update = tenant_email::Entity::update_many()
            .col_expr(
                tenant_email::Column::NextClientSecret,
                Expr::value(Some(sealed)),
            )
            .col_expr(
                tenant_email::Column::NextSecretSetAt,
                Expr::value(Some(now)),
            )
            .col_expr(
                tenant_email::Column::NextSecretExpiresOn,
                Expr::value(expires_on),
            );
        let detail = match expires_on {
            Some(d) => format!("expires {d}"),
            None => "no end date recorded".into(),
        };
        let change = Change {
            update,
            action: "tenant_email.next_secret_set",
            detail,
        };
        self.apply(actor, tenant_id, id, Some(expected_version), change)
            .await
    }

    /// Empties the next-secret slot.
    pub async fn remove_next_secret(
        &self,
        actor: &Actor,
        tenant_id: &str,
        id: &str,
        expected_version: i32,
    ) -> Result<Saved<TenantEmail>, StoreError> {
        let change = Change {
            update: cleared(tenant_email::Entity::update_many()),
            action: "tenant_email.next_secret_removed",
            detail: String::new(),
        };
        self.apply(actor, tenant_id, id, Some(expected_version), change)
            .await
    }

    /// The secret in use and the next one, opened, read together (a
    /// promotion by another instance is seen whole or not at all).
    pub async fn both_secrets(
        &self,
        id: &str,
    ) -> Result<(Option<zeroize::Zeroizing<String>>, Option<OpenedNextSecret>), StoreError> {
        let row: Option<(Option<String>, Option<String>)> =
            tenant_email::Entity::find_by_id(id.to_string())
                .select_only()
                .column(tenant_email::Column::ClientSecret)
                .column(tenant_email::Column::NextClientSecret)
                .into_tuple()
                .one(&self.0.conn)
                .await?;
        let (current, next) = row.unwrap_or_default();
        let keys = &self.0.keys;
        let current = match current {
            Some(sealed) => Some(zeroize::Zeroizing::new(
                keys.open(&sealed, &secret_binding(id))?,
            )),
            None => None,
        };
        let next = match next {
            Some(sealed) => Some(OpenedNextSecret {
                plain: zeroize::Zeroizing::new(keys.open(&sealed, &next_secret_binding(id))?),
                sealed,
            }),
            None => None,
        };
        Ok((current, next))
    }

    /// The next secret, opened; `None` when the slot is empty.
    pub async fn next_client_secret(
        &self,
        id: &str,
    ) -> Result<Option<OpenedNextSecret>, StoreError> {
        Ok(self.both_secrets(id).await?.1)
    }

    /// Makes the next secret the one in use, when the slot still holds
    /// `tried` (the value Microsoft just accepted) and the row is still at
    /// `read_at_version` (what an admin saved since — a new secret, a
    /// certificate — wins): its end date moves with it and the slot empties.
    /// The connection and its status are not touched. False when anything
    /// changed meanwhile; the next token request tries again.
    pub async fn promote_next_secret(
        &self,
        id: &str,
        tried: &OpenedNextSecret,
        read_at_version: i32,
        why: &str,
    ) -> Result<bool, StoreError> {
        let store = self.0;
        let now = store.now();
        let sealed = store.keys.seal(&tried.plain, &secret_binding(id))?;
        let txn = store.conn.begin().await?;
        let Some(old) = tenant_email::Entity::find_by_id(id.to_string())
            .one(&txn)
            .await?
        else {
            return Ok(false);
        };
        if old.next_client_secret.as_deref() != Some(tried.sealed.as_str())
            || old.version != read_at_version
        {
            return Ok(false);
        }
        let update = tenant_email::Entity::update_many()
            .col_expr(
                tenant_email::Column::ClientSecret,
                Expr::value(Some(sealed)),
            )
            .col_expr(
                tenant_email::Column::ClientSecretSetAt,
                Expr::value(old.next_secret_set_at.or(Some(now))),
            )
            .col_expr(
                tenant_email::Column::SecretExpiresOn,
                Expr::value(old.next_secret_expires_on),
            );
        let written = cleared(update)
            .col_expr(tenant_email::Column::Version, Expr::value(old.version + 1))
            .col_expr(tenant_email::Column::UpdatedAt, Expr::value(now))
            .filter(tenant_email::Column::Id.eq(id))
            .filter(tenant_email::Column::NextClientSecret.eq(tried.sealed.as_str()))
            // Nothing saved since the read (a new secret or a certificate
            // typed meanwhile wins, and its editor keeps its version).
            .filter(tenant_email::Column::Version.eq(old.version))
            .filter(tenant_email::Column::Credential.eq("secret"))
            .exec(&txn)
            .await?;
        if written.rows_affected == 0 {
            return Ok(false);
        }
        audit::insert(
            &txn,
            now,
            &audit::system(),
            Event::new("tenant_email.next_secret_promoted")
                .target("tenant_email", id, &old.address)
                .detail(why.to_string()),
        )
        .await?;
        txn.commit().await?;
        Ok(true)
    }
}

impl TenantEmail {
    pub fn has_next_secret(&self) -> bool {
        self.next_secret.is_some()
    }
}
