//! The next-secret slot from the editor: stored only beside a secret in use,
//! never equal to it, and never already expired.
use super::errors::not_found;
use super::tenant_emails::view;
use super::Console;
use crate::db::tenant_emails::TenantEmail;
use crate::db::Saved;
use app::model::{fields, TenantEmailView};
use app::port::{Actor, PortError};

impl Console {
    /// `at`: the tenant, the tenant email and the version the editor shows.
    pub(super) async fn store_next_secret(
        &self,
        actor: &Actor,
        at: (&str, &str, i32),
        secret: &str,
        expires_on: &str,
    ) -> Result<TenantEmailView, PortError> {
        let (tenant_id, email_id, version) = at;
        let email = self.owned(tenant_id, email_id).await?;
        let rejected = |field: &str, message: &str| PortError::Rejected {
            field: field.to_string(),
            message: message.to_string(),
        };
        if email.certificate.is_some() || !email.has_secret() {
            return Err(rejected(
                fields::NEXT_CLIENT_SECRET,
                "A next secret follows a client secret in use; this mailbox has none yet (or uses a certificate).",
            ));
        }
        let current = self.store.tenant_emails().client_secret(email_id).await?;
        if current.as_deref() == Some(secret) {
            return Err(rejected(
                fields::NEXT_CLIENT_SECRET,
                "This is the secret already in use: paste the new secret's Value.",
            ));
        }
        let expires_on = match expires_on {
            "" => None,
            d => Some(
                chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
                    rejected(
                        fields::NEXT_SECRET_EXPIRES_ON,
                        "Enter the date as YYYY-MM-DD.",
                    )
                })?,
            ),
        };
        if expires_on.is_some_and(|d| d <= self.today()) {
            return Err(rejected(
                fields::NEXT_SECRET_EXPIRES_ON,
                "This date has passed: a next secret must outlive today.",
            ));
        }
        let saved = self
            .store
            .tenant_emails()
            .set_next_secret(actor, tenant_id, email_id, version, secret, expires_on)
            .await?;
        self.slot_changed(saved)
    }

    pub(super) fn slot_changed(
        &self,
        saved: Saved<TenantEmail>,
    ) -> Result<TenantEmailView, PortError> {
        match saved {
            Saved::Done(e) => Ok(view(e, self.today())),
            Saved::Stale => Err(PortError::Conflict(
                "This Tenant Email changed meanwhile (saved elsewhere, or its next secret took over): reload the page and try again.".into(),
            )),
            _ => Err(not_found("tenant email")),
        }
    }
}
