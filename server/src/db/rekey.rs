//! Re-sealing every stored secret under the key ring's sealing key: the
//! database half of a key rotation (`tenant-mail key rotate`; the files are
//! `secrets::rotation`). Each value is replaced only if it is still what was
//! read (compare and set), so a value written meanwhile is never overwritten
//! with an older one; it is counted and taken by the next pass.
use super::connections::token_binding;
use super::entities::{mailbox_connection, oauth_flow, tenant_email};
use super::flows::verifier_binding;
use super::tenant_emails::{next_secret_binding, secret_binding};
use super::{Store, StoreError};
use crate::secrets::{Binding, KeyRing};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};

/// What one pass re-sealed, by kind, and what changed under it.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Resealed {
    pub client_secrets: usize,
    pub tokens: usize,
    pub flows: usize,
    pub webhook_secrets: usize,
    /// Values written by someone else between read and write: left for the
    /// next pass.
    pub changed_meanwhile: usize,
}

/// `sealed` under the sealing key, or `None` when it is there already.
pub(super) fn resealed(
    keys: &KeyRing,
    sealed: &str,
    at: &Binding<'_>,
) -> Result<Option<String>, StoreError> {
    if keys.is_current(sealed) {
        return Ok(None);
    }
    let plain = keys.open(sealed, at)?;
    Ok(Some(keys.seal(&plain, at)?))
}

/// Counts one compare-and-set write.
pub(super) fn count(rows_affected: u64, done: &mut usize, changed: &mut usize) {
    match rows_affected {
        0 => *changed += 1,
        _ => *done += 1,
    }
}

impl Store {
    /// One pass over every sealed column. Run until it re-seals nothing and
    /// nothing changed meanwhile; then [`Store::sealed_elsewhere`] is 0.
    pub async fn reseal_all(&self) -> Result<Resealed, StoreError> {
        let mut r = Resealed::default();
        self.reseal_secret_column(tenant_email::Column::ClientSecret, secret_binding, &mut r)
            .await?;
        self.reseal_secret_column(
            tenant_email::Column::NextClientSecret,
            next_secret_binding,
            &mut r,
        )
        .await?;
        self.reseal_tokens(&mut r).await?;
        self.alerts().reseal(&mut r).await?;
        let flows: Vec<(String, String)> = oauth_flow::Entity::find()
            .select_only()
            .column(oauth_flow::Column::StateHash)
            .column(oauth_flow::Column::PkceVerifier)
            .into_tuple()
            .all(&self.conn)
            .await?;
        for (state_hash, sealed) in flows {
            let Some(new) = resealed(&self.keys, &sealed, &verifier_binding(&state_hash))? else {
                continue;
            };
            let written = oauth_flow::Entity::update_many()
                .col_expr(oauth_flow::Column::PkceVerifier, Expr::value(new))
                .filter(oauth_flow::Column::StateHash.eq(&state_hash))
                .filter(oauth_flow::Column::PkceVerifier.eq(&sealed))
                .exec(&self.conn)
                .await?;
            count(
                written.rows_affected,
                &mut r.flows,
                &mut r.changed_meanwhile,
            );
        }
        Ok(r)
    }

    /// One of `tenant_email`'s sealed secret columns (the secret in use,
    /// the next one), each value sealed under `binding` of its row.
    async fn reseal_secret_column(
        &self,
        column: tenant_email::Column,
        binding: for<'a> fn(&'a str) -> Binding<'a>,
        r: &mut Resealed,
    ) -> Result<(), StoreError> {
        let rows: Vec<(String, Option<String>)> = tenant_email::Entity::find()
            .select_only()
            .column(tenant_email::Column::Id)
            .column(column)
            .into_tuple()
            .all(&self.conn)
            .await?;
        for (id, sealed) in rows {
            let Some(sealed) = sealed else { continue };
            let Some(new) = resealed(&self.keys, &sealed, &binding(&id))? else {
                continue;
            };
            let written = tenant_email::Entity::update_many()
                .col_expr(column, Expr::value(new))
                .filter(tenant_email::Column::Id.eq(&id))
                .filter(column.eq(&sealed))
                .exec(&self.conn)
                .await?;
            count(
                written.rows_affected,
                &mut r.client_secrets,
                &mut r.changed_meanwhile,
            );
            fail::fail_point!("rekey::after_one", |_| crate::failpoints::stop_here(
                "rekey::after_one"
            ));
        }
        Ok(())
    }

    async fn reseal_tokens(&self, r: &mut Resealed) -> Result<(), StoreError> {
        use mailbox_connection::Column;
        let rows: Vec<(String, String, Option<String>)> = mailbox_connection::Entity::find()
            .select_only()
            .column(Column::TenantEmailId)
            .column(Column::RefreshToken)
            .column(Column::AccessToken)
            .into_tuple()
            .all(&self.conn)
            .await?;
        for (id, refresh, access) in rows {
            let binding = token_binding("refresh_token", &id);
            if let Some(new) = resealed(&self.keys, &refresh, &binding)? {
                let written = mailbox_connection::Entity::update_many()
                    .col_expr(Column::RefreshToken, Expr::value(new))
                    .filter(Column::TenantEmailId.eq(&id))
                    .filter(Column::RefreshToken.eq(&refresh))
                    .exec(&self.conn)
                    .await?;
                count(
                    written.rows_affected,
                    &mut r.tokens,
                    &mut r.changed_meanwhile,
                );
            }
            let Some(access) = access else { continue };
            // The access token is a cache: one that does not open is dropped
            // (the next send refreshes), not a reason to stop the rotation.
            let binding = token_binding("access_token", &id);
            let new = match resealed(&self.keys, &access, &binding) {
                Ok(None) => continue,
                Ok(Some(new)) => Some(new),
                Err(StoreError::Secret(_)) => None,
                Err(e) => return Err(e),
            };
            let written = mailbox_connection::Entity::update_many()
                .col_expr(Column::AccessToken, Expr::value(new))
                .filter(Column::TenantEmailId.eq(&id))
                .filter(Column::AccessToken.eq(&access))
                .exec(&self.conn)
                .await?;
            count(
                written.rows_affected,
                &mut r.tokens,
                &mut r.changed_meanwhile,
            );
        }
        Ok(())
    }

    /// Stored sealed values not under the sealing key.
    pub async fn sealed_elsewhere(&self) -> Result<usize, StoreError> {
        let keys = &self.keys;
        let elsewhere = |v: &Option<String>| v.as_deref().is_some_and(|s| !keys.is_current(s));
        let secrets: Vec<(Option<String>, Option<String>)> = tenant_email::Entity::find()
            .select_only()
            .column(tenant_email::Column::ClientSecret)
            .column(tenant_email::Column::NextClientSecret)
            .into_tuple()
            .all(&self.conn)
            .await?;
        let tokens: Vec<(String, Option<String>)> = mailbox_connection::Entity::find()
            .select_only()
            .column(mailbox_connection::Column::RefreshToken)
            .column(mailbox_connection::Column::AccessToken)
            .into_tuple()
            .all(&self.conn)
            .await?;
        let flows: Vec<String> = oauth_flow::Entity::find()
            .select_only()
            .column(oauth_flow::Column::PkceVerifier)
            .into_tuple()
            .all(&self.conn)
            .await?;
        Ok(self.alerts().sealed_elsewhere().await?
            + secrets
                .iter()
                .map(|(current, next)| {
                    usize::from(elsewhere(current)) + usize::from(elsewhere(next))
                })
                .sum::<usize>()
            + tokens
                .into_iter()
                .map(|(refresh, access)| {
                    usize::from(elsewhere(&Some(refresh))) + usize::from(elsewhere(&access))
                })
                .sum::<usize>()
            + flows
                .into_iter()
                .filter(|f| elsewhere(&Some(f.clone())))
                .count())
    }
}
