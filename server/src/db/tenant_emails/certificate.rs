//! A certificate credential replaces the mailbox's secret: its private key
//! is sealed in `client_secret` (the column that holds the credential in
//! use, so key rotation and the start-up check cover it), its public half
//! is stored beside it for the editor and for the assertions' `x5t#S256`.
use super::audited::Change;
use super::{secret_binding, StoredCertificate, TenantEmail, TenantEmails};
use crate::db::entities::tenant_email;
use crate::db::{Saved, StoreError};
use app::port::Actor;
use sea_orm::sea_query::Expr;
use sea_orm::EntityTrait;

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
        // The next-secret slot follows a secret: a certificate ends it.
        let update = super::next_secret::cleared(tenant_email::Entity::update_many())
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
            );
        let change = Change {
            update,
            action: "tenant_email.certificate_created",
            detail: format!(
                "thumbprint {}, expires {}",
                certificate.thumbprint,
                certificate.expires_at.format("%Y-%m-%d")
            ),
        };
        self.apply(actor, tenant_id, id, None, change).await
    }
}
