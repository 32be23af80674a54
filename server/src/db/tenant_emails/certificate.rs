//! A certificate credential replaces the mailbox's secret: its private key
//! is sealed in `client_secret` (the column that holds the credential in
//! use, so key rotation and the start-up check cover it), its public half
//! is stored beside it for the editor and for the assertions' `x5t#S256`.
use super::{find_owned, from_row, secret_binding, StoredCertificate, TenantEmail, TenantEmails};
use crate::db::audit::{self, Event};
use crate::db::entities::tenant_email;
use crate::db::{Saved, StoreError};
use app::port::Actor;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, TransactionTrait};

impl TenantEmails<'_> {
    /// Makes `certificate` (with its private key `key_pem`) the mailbox's
    /// credential. The connection stays: it is the same app.
    pub async fn set_certificate(
        &self,
        actor: &Actor,
        tenant_id: &str,
        id: &str,
        key_pem: &str,
        certificate: &StoredCertificate,
    ) -> Result<Saved<TenantEmail>, StoreError> {
        let store = self.0;
        let now = store.now();
        let sealed = store.keys.seal(key_pem, &secret_binding(id))?;
        let txn = store.conn.begin().await?;
        let Some(old) = find_owned(&txn, tenant_id, id).await? else {
            return Ok(Saved::Missing);
        };
        // The next-secret slot follows a secret: a certificate ends it.
        let rows = super::next_secret::cleared(tenant_email::Entity::update_many())
            .col_expr(
                tenant_email::Column::ClientSecret,
                Expr::value(Some(sealed)),
            )
            .col_expr(
                tenant_email::Column::ClientSecretSetAt,
                Expr::value(Some(now)),
            )
            .col_expr(tenant_email::Column::Credential, Expr::value("certificate"))
            .col_expr(
                tenant_email::Column::CertificatePem,
                Expr::value(Some(certificate.pem.clone())),
            )
            .col_expr(
                tenant_email::Column::CertificateThumbprint,
                Expr::value(Some(certificate.thumbprint.clone())),
            )
            .col_expr(
                tenant_email::Column::CertificateExpiresAt,
                Expr::value(Some(certificate.expires_at)),
            )
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
        audit::insert(
            &txn,
            now,
            actor,
            Event::new("tenant_email.certificate_created")
                .target("tenant_email", id, new.address())
                .detail(format!(
                    "thumbprint {}, expires {}",
                    certificate.thumbprint,
                    certificate.expires_at.format("%Y-%m-%d")
                )),
        )
        .await?;
        txn.commit().await?;
        Ok(Saved::Done(new))
    }
}
