//! The storage side of token refresh: a consistent read of a connection with
//! its tenant email, the refresh lease (single flight across instances:
//! one conditional UPDATE, the same on PostgreSQL and SQLite), the rotated
//! tokens saved in one write, and failures recorded with their status.
use super::{change_status, from_row, token_binding, Connection, Connections};
use crate::db::audit;
use crate::db::entities::{mailbox_connection, tenant_email};
use crate::db::tenant_emails::TenantEmail;
use crate::db::StoreError;
use app::model::ConnectionStatus;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, Condition, DbBackend, EntityTrait, IsolationLevel, QueryFilter, TransactionTrait,
};

/// The new tokens of a refresh; `Debug` shows none of them.
pub struct Refreshed<'a> {
    pub access_token: &'a str,
    /// Microsoft rotates it on every use; `None` keeps the stored one.
    pub refresh_token: Option<&'a str>,
    pub expires_at: DateTime<Utc>,
}

impl Connections<'_> {
    /// The connection and its tenant email from one snapshot: a status and
    /// its reason are written together, so they must be read together too.
    /// `None` when either is missing.
    pub async fn snapshot(
        &self,
        tenant_email_id: &str,
    ) -> Result<Option<(Connection, TenantEmail)>, StoreError> {
        let isolation = match self.0.conn.get_database_backend() {
            DbBackend::Postgres => Some(IsolationLevel::RepeatableRead),
            _ => None, // SQLite: a transaction reads from one snapshot anyway.
        };
        let txn = self.0.conn.begin_with_config(isolation, None).await?;
        let connection = mailbox_connection::Entity::find_by_id(tenant_email_id.to_string())
            .one(&txn)
            .await?;
        let email = tenant_email::Entity::find_by_id(tenant_email_id.to_string())
            .one(&txn)
            .await?;
        txn.commit().await?;
        Ok(match (connection, email) {
            (Some(c), Some(e)) => Some((from_row(c), crate::db::tenant_emails::from_row(e))),
            _ => None,
        })
    }

    /// Claims the refresh lease for `owner` until `until`; true when this
    /// caller is now the one refreshing. Conditional on the version the
    /// caller saw, so a caller holding a stale copy never refreshes again
    /// right after another instance did.
    pub async fn claim_refresh(
        &self,
        c: &Connection,
        owner: &str,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let now = self.0.now();
        let result = mailbox_connection::Entity::update_many()
            .col_expr(
                mailbox_connection::Column::RefreshLeaseUntil,
                Expr::value(Some(until)),
            )
            .col_expr(
                mailbox_connection::Column::RefreshLeaseOwner,
                Expr::value(Some(owner.to_string())),
            )
            .filter(mailbox_connection::Column::TenantEmailId.eq(c.tenant_email_id.as_str()))
            .filter(mailbox_connection::Column::Version.eq(c.version))
            .filter(
                Condition::any()
                    .add(mailbox_connection::Column::RefreshLeaseUntil.is_null())
                    .add(mailbox_connection::Column::RefreshLeaseUntil.lt(now)),
            )
            .exec(&self.0.conn)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// Stores refreshed tokens while `owner` holds the lease (and releases
    /// it); a refresh that works again ends an earlier "credentials invalid"
    /// or error, in the same transaction. False when the lease was lost:
    /// someone else refreshed meanwhile and their tokens stand.
    pub async fn save_refreshed(
        &self,
        c: &Connection,
        owner: &str,
        tokens: Refreshed<'_>,
    ) -> Result<bool, StoreError> {
        let store = self.0;
        let id = c.tenant_email_id.as_str();
        let now = store.now();
        let sealed_access = store
            .keys
            .seal(tokens.access_token, &token_binding("access_token", id))?;
        let sealed_refresh = match tokens.refresh_token {
            Some(r) => store.keys.seal(r, &token_binding("refresh_token", id))?,
            None => c.sealed_refresh.clone(),
        };
        let txn = store.conn.begin().await?;
        let written = mailbox_connection::Entity::update_many()
            .col_expr(
                mailbox_connection::Column::AccessToken,
                Expr::value(Some(sealed_access)),
            )
            .col_expr(
                mailbox_connection::Column::RefreshToken,
                Expr::value(sealed_refresh),
            )
            .col_expr(
                mailbox_connection::Column::AccessTokenExpiresAt,
                Expr::value(Some(tokens.expires_at)),
            )
            .col_expr(
                mailbox_connection::Column::LastRefreshAt,
                Expr::value(Some(now)),
            )
            .col_expr(
                mailbox_connection::Column::LastError,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                mailbox_connection::Column::LastErrorAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .col_expr(
                mailbox_connection::Column::RefreshLeaseUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .col_expr(
                mailbox_connection::Column::RefreshLeaseOwner,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                mailbox_connection::Column::Version,
                Expr::col(mailbox_connection::Column::Version).add(1),
            )
            .filter(mailbox_connection::Column::TenantEmailId.eq(id))
            .filter(mailbox_connection::Column::RefreshLeaseOwner.eq(owner))
            .exec(&txn)
            .await?;
        if written.rows_affected != 1 {
            return Ok(false);
        }
        change_status(
            &txn,
            now,
            &audit::system(),
            id,
            ConnectionStatus::Connected,
            &[
                ConnectionStatus::CredentialsInvalid,
                ConnectionStatus::Error,
            ],
            Some("a token refresh worked again"),
        )
        .await?;
        txn.commit().await?;
        Ok(true)
    }

    /// Records `error` (or clears it) on the connection; `status`, when
    /// given, becomes the tenant email's connection status (audited as the
    /// system's doing); `lease_owner`'s lease is released. One transaction,
    /// so a reader never sees the new status without its reason (the outbox
    /// copies that reason onto held messages).
    pub async fn record_problem(
        &self,
        tenant_email_id: &str,
        status: Option<ConnectionStatus>,
        error: Option<&str>,
        lease_owner: Option<&str>,
    ) -> Result<(), StoreError> {
        let now = self.0.now();
        let txn = self.0.conn.begin().await?;
        mailbox_connection::Entity::update_many()
            .col_expr(
                mailbox_connection::Column::LastError,
                Expr::value(error.map(str::to_string)),
            )
            .col_expr(
                mailbox_connection::Column::LastErrorAt,
                Expr::value(error.map(|_| now)),
            )
            .filter(mailbox_connection::Column::TenantEmailId.eq(tenant_email_id))
            .exec(&txn)
            .await?;
        // Only a real change is written (and audited), so a storm of failing
        // refreshes does not flood the audit log.
        if let Some(status) = status {
            change_status(
                &txn,
                now,
                &audit::system(),
                tenant_email_id,
                status,
                &[],
                error,
            )
            .await?;
        }
        // Only the lease's holder may release it: a caller that never held
        // it (or whose lease expired and was taken over) must not free
        // someone else's.
        if let Some(owner) = lease_owner {
            mailbox_connection::Entity::update_many()
                .col_expr(
                    mailbox_connection::Column::RefreshLeaseUntil,
                    Expr::value(Option::<DateTime<Utc>>::None),
                )
                .col_expr(
                    mailbox_connection::Column::RefreshLeaseOwner,
                    Expr::value(Option::<String>::None),
                )
                .filter(mailbox_connection::Column::TenantEmailId.eq(tenant_email_id))
                .filter(mailbox_connection::Column::RefreshLeaseOwner.eq(owner))
                .exec(&txn)
                .await?;
        }
        txn.commit().await?;
        Ok(())
    }
}
