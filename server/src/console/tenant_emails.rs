//! Tenant emails for the admin console: the form's text parsed into
//! settings once, saved through `db::tenant_emails`, and shown back with the
//! secret write-only.
use super::errors::not_found;
use super::Console;
use crate::db::connections::Connection;
use crate::db::tenant_emails::{days_until, MailboxSettings, TenantEmail};
use crate::db::Saved;
use app::model::inbox::Arrival;
use app::model::mail::OutboxState;
use app::model::tenant_email::{EmailEditorParts, MailActivity};
use app::model::{fields, ConnectionView, EditorContext, TenantEmailInput, TenantEmailView};
use app::port::{Actor, PortError, TenantEmailPort};
use chrono::{DateTime, Utc};

fn fmt_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn duplicate(address: &str) -> PortError {
    PortError::Duplicate {
        field: fields::ADDRESS.to_string(),
        message: format!("This tenant already has a Tenant Email for {address} (addresses are compared without case)."),
    }
}

/// The form parsed; validation ran in the server function already, so a
/// refusal here names a field the browser could not have sent.
fn settings(input: &TenantEmailInput) -> Result<MailboxSettings, PortError> {
    MailboxSettings::from_input(input).map_err(|errors| {
        let (field, message) = errors.0.into_iter().next().unwrap_or_default();
        PortError::Rejected { field, message }
    })
}

impl Console {
    /// The form parsed, and near-instant arrival refused where this
    /// deployment cannot receive Microsoft's notifications.
    fn settings(&self, input: &TenantEmailInput) -> Result<MailboxSettings, PortError> {
        let parsed = settings(input)?;
        if let (Arrival::Notify, Some(why)) = (
            parsed.receiving.arrival,
            &self.context.instant_arrival_unavailable,
        ) {
            if parsed.direction.receives() {
                return Err(PortError::Rejected {
                    field: fields::ARRIVAL.to_string(),
                    message: why.clone(),
                });
            }
        }
        Ok(parsed)
    }
}

pub(super) fn view(e: TenantEmail, today: chrono::NaiveDate) -> TenantEmailView {
    let mut values = e.settings.to_input();
    // Saved without a secret: it was saved to use a certificate, not made yet.
    if e.secret_set_at.is_none() {
        values.credential = app::model::tenant_email::CREDENTIAL_CERTIFICATE.into();
    }
    let certificate = e.certificate.map(|c| {
        values.credential = app::model::tenant_email::CREDENTIAL_CERTIFICATE.into();
        app::model::tenant_email::CertificateView {
            expires_in_days: (c.expires_at.date_naive() - today).num_days(),
            expires_on: c.expires_at.format("%Y-%m-%d").to_string(),
            thumbprint: c.thumbprint,
            pem: c.pem,
        }
    });
    let next_secret = e
        .next_secret
        .map(|n| app::model::tenant_email::NextSecretView {
            set_at: fmt_time(n.set_at),
            expires_on: n.expires_on.map(|d| d.format("%Y-%m-%d").to_string()),
        });
    TenantEmailView {
        certificate,
        next_secret,
        values,
        secret_expires_in_days: days_until(e.settings.secret_expires_on, today),
        secret_set_at: e.secret_set_at.map(fmt_time),
        status: e.status,
        updated_at: e.updated_at.to_rfc3339(),
        id: e.id,
        tenant_id: e.tenant_id,
        version: e.version,
    }
}

fn connection_view(c: Connection) -> ConnectionView {
    ConnectionView {
        upn: c.upn,
        display_name: c.display_name,
        tenant_id: c.tid,
        tenant_name: c.tenant_name,
        connected_at: fmt_time(c.connected_at),
        access_token_valid_until: c.access_token_expires_at.map(fmt_time),
        last_refresh_at: c.last_refresh_at.map(fmt_time),
        last_error: c.last_error,
        last_error_at: c.last_error_at.map(fmt_time),
    }
}

impl Console {
    /// Whether mail is moving through the mailbox: last send, last good
    /// sync, and what waits in the outbox.
    /// `settings` and `connection` are the editor's, already read (no second query).
    async fn activity(
        &self,
        email_id: &str,
        settings: &MailboxSettings,
        connection: Option<&Connection>,
    ) -> Result<MailActivity, PortError> {
        let (counts, last_sent) = self.store.outbox().activity(email_id).await?;
        let count = |state: OutboxState| {
            counts
                .iter()
                .find(|(s, _)| s == state.code())
                .map_or(0, |(_, n)| u64::try_from(*n).unwrap_or(0))
        };
        let sync = self.store.inbox().sync_state(email_id).await?;
        // Application access has no delegated scopes: it asks for `/.default`.
        let required = if settings.account_type.signs_in() {
            crate::identity::doctor::scopes::required(settings)
        } else {
            Vec::new()
        };
        let granted = connection.map(|c| c.scopes.clone());
        let missing = granted
            .as_deref()
            .filter(|_| settings.account_type.signs_in())
            .map(|g| crate::identity::doctor::scopes::missing_from_grant(&required, g))
            .unwrap_or_default();
        Ok(MailActivity {
            required_scopes: required.iter().map(|s| s.to_string()).collect(),
            granted_scopes: granted,
            missing_scopes: missing.iter().map(|s| s.to_string()).collect(),
            last_sent_at: last_sent.map(fmt_time),
            last_received_at: sync.as_ref().and_then(|s| s.last_sync_at).map(fmt_time),
            queued: count(OutboxState::Queued) + count(OutboxState::Sending),
            held: count(OutboxState::Held),
            failed: count(OutboxState::Failed),
            receive_error: sync.and_then(|s| s.last_error),
        })
    }

    /// The tenant email `email_id` of `tenant_id`, or "not found".
    pub(super) async fn owned(
        &self,
        tenant_id: &str,
        email_id: &str,
    ) -> Result<TenantEmail, PortError> {
        self.store
            .tenant_emails()
            .owned(tenant_id, email_id)
            .await?
            .ok_or_else(|| not_found("tenant email"))
    }

    pub(super) fn today(&self) -> chrono::NaiveDate {
        self.store.now().date_naive()
    }

    fn saved(
        &self,
        saved: Saved<TenantEmail>,
        address: &str,
    ) -> Result<TenantEmailView, PortError> {
        match saved {
            Saved::Done(e) => Ok(view(e, self.today())),
            Saved::Duplicate => Err(duplicate(address)),
            Saved::Stale => Err(PortError::Conflict(
                "Someone else saved this Tenant Email after you opened it.".into(),
            )),
            Saved::Missing => Err(not_found("tenant email")),
        }
    }
}

#[async_trait::async_trait]
impl TenantEmailPort for Console {
    fn editor_context(&self) -> EditorContext {
        self.context.clone()
    }

    /// Three reads by primary key: the tenant, the tenant email, its connection.
    async fn email_editor(
        &self,
        tenant_id: &str,
        email_id: Option<&str>,
    ) -> Result<EmailEditorParts, PortError> {
        let tenant = self
            .store
            .tenants()
            .get(tenant_id)
            .await?
            .ok_or_else(|| not_found("tenant"))?;
        let (email, connection, activity) = match email_id {
            Some(id) => {
                let email = self.owned(tenant_id, id).await?;
                let connection = self.store.connections().get(id).await?;
                let activity = self
                    .activity(id, &email.settings, connection.as_ref())
                    .await?;
                (
                    Some(view(email, self.today())),
                    connection.map(connection_view),
                    Some(activity),
                )
            }
            None => (None, None, None),
        };
        Ok(EmailEditorParts {
            tenant_name: tenant.name,
            email,
            connection,
            activity,
        })
    }

    async fn get_tenant_email(
        &self,
        tenant_id: &str,
        email_id: &str,
    ) -> Result<TenantEmailView, PortError> {
        Ok(view(self.owned(tenant_id, email_id).await?, self.today()))
    }

    async fn create_tenant_email(
        &self,
        actor: &Actor,
        tenant_id: &str,
        input: &TenantEmailInput,
    ) -> Result<TenantEmailView, PortError> {
        let settings = self.settings(input)?;
        let saved = self
            .store
            .tenant_emails()
            .create(actor, tenant_id, &settings, &input.client_secret)
            .await?;
        if saved == Saved::Missing {
            return Err(not_found("tenant"));
        }
        self.saved(saved, &settings.address)
    }

    async fn update_tenant_email(
        &self,
        actor: &Actor,
        tenant_id: &str,
        email_id: &str,
        expected_version: i32,
        input: &TenantEmailInput,
    ) -> Result<TenantEmailView, PortError> {
        let settings = self.settings(input)?;
        // An empty secret means "unchanged"; replacing it is the explicit case.
        let new_secret = Some(input.client_secret.as_str()).filter(|s| !s.is_empty());
        let saved = self
            .store
            .tenant_emails()
            .update(
                actor,
                tenant_id,
                email_id,
                expected_version,
                &settings,
                new_secret,
            )
            .await?;
        self.saved(saved, &settings.address)
    }

    async fn connection(
        &self,
        tenant_id: &str,
        email_id: &str,
    ) -> Result<Option<ConnectionView>, PortError> {
        // Only for an email of this tenant.
        self.owned(tenant_id, email_id).await?;
        Ok(self
            .store
            .connections()
            .get(email_id)
            .await?
            .map(connection_view))
    }

    async fn delete_tenant_email(
        &self,
        actor: &Actor,
        tenant_id: &str,
        email_id: &str,
    ) -> Result<(), PortError> {
        match self
            .store
            .tenant_emails()
            .delete(actor, tenant_id, email_id)
            .await?
        {
            Saved::Done(()) => Ok(()),
            _ => Err(not_found("tenant email")),
        }
    }

    async fn create_certificate(
        &self,
        actor: &Actor,
        tenant_id: &str,
        email_id: &str,
    ) -> Result<TenantEmailView, PortError> {
        let email = self.owned(tenant_id, email_id).await?;
        let address = email.address().to_string();
        let now = self.store.now();
        // Seconds of CPU: off the async workers.
        let generated = tokio::task::spawn_blocking(move || {
            crate::identity::certificate::generate(&address, now)
        })
        .await
        .map_err(|e| super::errors::internal("certificate: key generation task", e))?
        .map_err(|e| super::errors::internal("certificate: key generation", e))?;
        let stored = crate::db::tenant_emails::StoredCertificate {
            pem: generated.certificate.pem.clone(),
            thumbprint: generated.certificate.thumbprint.clone(),
            expires_at: generated.certificate.expires_at,
        };
        match self
            .store
            .tenant_emails()
            .set_certificate(actor, tenant_id, email_id, &generated.key_pem, &stored)
            .await?
        {
            Saved::Done(e) => Ok(view(e, self.today())),
            Saved::Stale => Err(PortError::Conflict(
                "The Tenant Email was saved meanwhile: reload and create the certificate again."
                    .into(),
            )),
            _ => Err(not_found("tenant email")),
        }
    }

    async fn set_next_secret(
        &self,
        actor: &Actor,
        tenant_id: &str,
        email_id: &str,
        version: i32,
        secret: &str,
        expires_on: &str,
    ) -> Result<TenantEmailView, PortError> {
        self.store_next_secret(actor, (tenant_id, email_id, version), secret, expires_on)
            .await
    }

    async fn remove_next_secret(
        &self,
        actor: &Actor,
        tenant_id: &str,
        email_id: &str,
        version: i32,
    ) -> Result<TenantEmailView, PortError> {
        self.owned(tenant_id, email_id).await?;
        let saved = self
            .store
            .tenant_emails()
            .remove_next_secret(actor, tenant_id, email_id, version)
            .await?;
        self.slot_changed(saved)
    }

    async fn check_app_access(
        &self,
        actor: &Actor,
        tenant_id: &str,
        email_id: &str,
    ) -> Result<app::model::doctor::DoctorReport, PortError> {
        let Some(report) = self
            .identity
            .check_app_access(actor, tenant_id, email_id)
            .await?
        else {
            return Err(not_found("tenant email"));
        };
        let event = super::alerts::report_event(
            "tenant_email.access_checked",
            email_id,
            &report,
            "the app may use this mailbox",
        );
        self.store.audit().record_best_effort(actor, event).await;
        Ok(report)
    }
}
