//! One audited change of a tenant email's row outside the Save form (a
//! certificate, the next-secret slot): optimistic on the row's version, the
//! version bumped, and the audit event written in the same transaction.
use super::{find_owned, from_row, TenantEmail, TenantEmails};
use crate::db::audit::{self, Event};
use crate::db::entities::tenant_email;
use crate::db::{Saved, StoreError};
use app::port::Actor;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, QueryFilter, TransactionTrait, UpdateMany};

/// The columns to set, and how the change is audited.
pub(super) struct Change {
    pub update: UpdateMany<tenant_email::Entity>,
    pub action: &'static str,
    /// Empty: no detail.
    pub detail: String,
}

impl TenantEmails<'_> {
    /// Applies `change` to the row `id` of `tenant_id`. With
    /// `expected_version` (an editor's), a row that moved on is `Stale`;
    /// without, the version read is the one expected.
    pub(super) async fn apply(
        &self,
        actor: &Actor,
        tenant_id: &str,
        id: &str,
        expected_version: Option<i32>,
        change: Change,
    ) -> Result<Saved<TenantEmail>, StoreError> {
        let store = self.0;
        let now = store.now();
        let txn = store.conn.begin().await?;
        let Some(old) = find_owned(&txn, tenant_id, id).await? else {
            return Ok(Saved::Missing);
        };
        if expected_version.is_some_and(|v| v != old.version) {
            return Ok(Saved::Stale);
        }
        let rows = change
            .update
            .col_expr(tenant_email::Column::Version, Expr::value(old.version + 1))
            .col_expr(tenant_email::Column::UpdatedAt, Expr::value(now))
            .filter(tenant_email::Column::Id.eq(id))
            .filter(tenant_email::Column::Version.eq(old.version))
            .exec_with_returning(&txn)
            .await?;
        let Some(row) = rows.into_iter().next() else {
            return Ok(Saved::Stale);
        };
        let new = from_row(row);
        let mut event = Event::new(change.action).target("tenant_email", id, new.address());
        if !change.detail.is_empty() {
            event = event.detail(change.detail);
        }
        audit::insert(&txn, now, actor, event).await?;
        txn.commit().await?;
        Ok(Saved::Done(new))
    }
}
