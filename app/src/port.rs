//! What server functions may ask of the backend (server-only).
//!
//! `server` depends on `app`, so `app` cannot call the database directly: the
//! server puts an `Arc<dyn Backend>` into Leptos context and server functions
//! fetch it through `api::guard`. Inputs arrive here already validated.
use crate::model::admin::{AdminView, AuditFilter, AuditPage};
use crate::model::alerts::{
    AlertsPageData, AttentionItem, CreatedDestination, NewDestinationInput,
};
use crate::model::api_token::{ApiTokenView, CreatedApiToken};
use crate::model::inbox::{InboxPage, MailFolders, ReceivedMessage};
use crate::model::mail::{OutboxEntryView, OutboxState};
use crate::model::tenant_email::EmailEditorParts;
use crate::model::{
    ConnectionView, EditorContext, TenantDetail, TenantEmailInput, TenantEmailView, TenantSummary,
};
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortError {
    #[error("{0}")]
    NotFound(String),
    /// The row changed since the caller read it (optimistic locking).
    #[error("{0}")]
    Conflict(String),
    /// A uniqueness rule tied to one form field.
    #[error("{field}: {message}")]
    Duplicate { field: String, message: String },
    /// A value tied to one form field was refused (e.g. a wrong current password).
    #[error("{field}: {message}")]
    Rejected { field: String, message: String },
    /// Already logged by the backend under this reference id.
    #[error("internal error {0}")]
    Internal(String),
}

/// Who is acting, for authorisation and the audit log. The server's sign-in
/// middleware puts one into every request; `admin_id` is `None` when nobody
/// is signed in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Actor {
    pub admin_id: Option<String>,
    pub username: String,
    /// SHA-256 of the session id (what the session table is keyed by).
    pub session_key: Option<String>,
    pub request_id: Option<String>,
    pub ip: Option<String>,
}

impl Actor {
    pub fn is_admin(&self) -> bool {
        self.admin_id.is_some()
    }
}

/// Everything server functions may ask of the server, in one object. The
/// server implements each part in the module that owns it; server functions
/// call the methods on the `Arc<dyn Backend>` they get from the context.
pub trait Backend:
    TenantPort
    + TenantEmailPort
    + OutboxPort
    + InboxPort
    + AdminPort
    + ApiTokenPort
    + AlertPort
    + Send
    + Sync
    + 'static
{
}

impl<T> Backend for T where
    T: TenantPort
        + TenantEmailPort
        + OutboxPort
        + InboxPort
        + AdminPort
        + ApiTokenPort
        + AlertPort
        + Send
        + Sync
        + 'static
{
}

/// Tenants.
#[async_trait::async_trait]
pub trait TenantPort: Send + Sync {
    async fn list_tenants(&self) -> Result<Vec<TenantSummary>, PortError>;
    async fn create_tenant(&self, actor: &Actor, name: &str) -> Result<TenantSummary, PortError>;
    async fn get_tenant(&self, tenant_id: &str) -> Result<TenantDetail, PortError>;
    async fn rename_tenant(
        &self,
        actor: &Actor,
        tenant_id: &str,
        expected_version: i32,
        name: &str,
    ) -> Result<TenantDetail, PortError>;
    async fn delete_tenant(&self, actor: &Actor, tenant_id: &str) -> Result<(), PortError>;
}

/// Tenant emails: settings and connection.
#[async_trait::async_trait]
pub trait TenantEmailPort: Send + Sync {
    /// Server facts the editor needs (redirect URI, accepted authority hosts).
    fn editor_context(&self) -> EditorContext;
    /// Everything the editor page shows, for a new (`None`) or an existing tenant email.
    async fn email_editor(
        &self,
        tenant_id: &str,
        email_id: Option<&str>,
    ) -> Result<EmailEditorParts, PortError>;
    async fn get_tenant_email(
        &self,
        tenant_id: &str,
        email_id: &str,
    ) -> Result<TenantEmailView, PortError>;
    /// `input.client_secret` is required here.
    async fn create_tenant_email(
        &self,
        actor: &Actor,
        tenant_id: &str,
        input: &TenantEmailInput,
    ) -> Result<TenantEmailView, PortError>;
    /// An empty `input.client_secret` keeps the stored secret.
    async fn update_tenant_email(
        &self,
        actor: &Actor,
        tenant_id: &str,
        email_id: &str,
        expected_version: i32,
        input: &TenantEmailInput,
    ) -> Result<TenantEmailView, PortError>;
    /// The Microsoft connection of a tenant email, if it was ever connected.
    async fn connection(
        &self,
        tenant_id: &str,
        email_id: &str,
    ) -> Result<Option<ConnectionView>, PortError>;
    async fn delete_tenant_email(
        &self,
        actor: &Actor,
        tenant_id: &str,
        email_id: &str,
    ) -> Result<(), PortError>;
    /// Makes a new key pair for the mailbox: the private key stays sealed on
    /// the server, the certificate is returned in the view to be uploaded.
    async fn create_certificate(
        &self,
        actor: &Actor,
        tenant_id: &str,
        email_id: &str,
    ) -> Result<TenantEmailView, PortError>;
    /// Stores a next client secret beside the one in use (rotation without
    /// downtime). Inputs are validated by the caller (`validate_next_secret`).
    async fn set_next_secret(
        &self,
        actor: &Actor,
        tenant_id: &str,
        email_id: &str,
        version: i32,
        secret: &str,
        expires_on: &str,
    ) -> Result<TenantEmailView, PortError>;
    /// Empties the next-secret slot.
    async fn remove_next_secret(
        &self,
        actor: &Actor,
        tenant_id: &str,
        email_id: &str,
        version: i32,
    ) -> Result<TenantEmailView, PortError>;
    /// "Check access" for an application mailbox: an app-only token, a read
    /// of the mailbox, and the connection recorded when both work.
    async fn check_app_access(
        &self,
        actor: &Actor,
        tenant_id: &str,
        email_id: &str,
    ) -> Result<crate::model::doctor::DoctorReport, PortError>;
}

/// Admin accounts (passwords arrive validated; the server hashes them), the
/// audit log, and the first admin's setup.
#[async_trait::async_trait]
pub trait AdminPort: Send + Sync {
    async fn list_admins(&self, actor: &Actor) -> Result<Vec<AdminView>, PortError>;
    async fn add_admin(
        &self,
        actor: &Actor,
        username: &str,
        password: &str,
    ) -> Result<AdminView, PortError>;
    /// Disabling ends the admin's sessions; nobody may disable themselves.
    async fn set_admin_disabled(
        &self,
        actor: &Actor,
        admin_id: &str,
        disabled: bool,
    ) -> Result<AdminView, PortError>;
    /// Checks the current password; ends the admin's other sessions.
    async fn change_password(
        &self,
        actor: &Actor,
        current: &str,
        new: &str,
    ) -> Result<(), PortError>;
    async fn list_audit(&self, filter: &AuditFilter, limit: u64) -> Result<AuditPage, PortError>;
    /// True until the first admin exists.
    async fn needs_setup(&self) -> Result<bool, PortError>;
    /// Creates the first admin if `token` is a valid setup token.
    async fn complete_setup(
        &self,
        actor: &Actor,
        token: &str,
        username: &str,
        password: &str,
    ) -> Result<(), PortError>;
}

/// Sending: the outbox of a tenant email.
#[async_trait::async_trait]
pub trait OutboxPort: Send + Sync {
    /// Queues a test message from the tenant email to `to`.
    async fn send_test_email(
        &self,
        actor: &Actor,
        tenant_id: &str,
        email_id: &str,
        to: &str,
    ) -> Result<OutboxEntryView, PortError>;
    /// Queues a reply (to everyone with `reply_all`) to a received message,
    /// made by Graph in the original's thread.
    async fn reply_to_received(
        &self,
        actor: &Actor,
        tenant_id: &str,
        email_id: &str,
        message_id: &str,
        text: &str,
        reply_all: bool,
    ) -> Result<OutboxEntryView, PortError>;
    /// Newest first.
    async fn list_outbox(
        &self,
        tenant_id: &str,
        email_id: &str,
    ) -> Result<Vec<OutboxEntryView>, PortError>;
    /// Retry (`Queued`) or cancel (`Cancelled`) a message that is not being sent.
    async fn change_outbox_message(
        &self,
        actor: &Actor,
        tenant_id: &str,
        email_id: &str,
        message_id: &str,
        to: OutboxState,
    ) -> Result<(), PortError>;
}

/// Receiving: the inbox of a tenant email.
#[async_trait::async_trait]
pub trait InboxPort: Send + Sync {
    /// A page of received mail, newest first, older than position `before`.
    async fn inbox_page(
        &self,
        tenant_id: &str,
        email_id: &str,
        before: Option<i64>,
    ) -> Result<InboxPage, PortError>;
    async fn received_message(
        &self,
        tenant_id: &str,
        email_id: &str,
        message_id: &str,
    ) -> Result<ReceivedMessage, PortError>;
    /// The mailbox's folders, read from Graph (the folder picker).
    async fn mail_folders(&self, tenant_id: &str, email_id: &str)
        -> Result<MailFolders, PortError>;
    /// Sync now: checks the mailbox at once instead of at its next interval.
    async fn sync_now(
        &self,
        actor: &Actor,
        tenant_id: &str,
        email_id: &str,
    ) -> Result<(), PortError>;
}

/// The host API's per-tenant tokens.
#[async_trait::async_trait]
pub trait ApiTokenPort: Send + Sync {
    /// A tenant's host-API tokens, newest first (never the tokens themselves).
    async fn list_api_tokens(&self, tenant_id: &str) -> Result<Vec<ApiTokenView>, PortError>;
    /// Makes a token; the plaintext is in the result and nowhere else.
    async fn create_api_token(
        &self,
        actor: &Actor,
        tenant_id: &str,
        name: &str,
    ) -> Result<CreatedApiToken, PortError>;
    async fn revoke_api_token(
        &self,
        actor: &Actor,
        tenant_id: &str,
        token_id: &str,
    ) -> Result<ApiTokenView, PortError>;
}

/// Alerts: destinations and what needs attention now.
#[async_trait::async_trait]
pub trait AlertPort: Send + Sync {
    async fn alerts_overview(&self) -> Result<AlertsPageData, PortError>;
    /// Conditions raised now (the banner on every admin page).
    async fn attention(&self) -> Result<Vec<AttentionItem>, PortError>;
    /// A webhook's signing secret is in the result and nowhere else.
    async fn create_alert_destination(
        &self,
        actor: &Actor,
        input: &NewDestinationInput,
    ) -> Result<CreatedDestination, PortError>;
    async fn delete_alert_destination(&self, actor: &Actor, id: &str) -> Result<(), PortError>;
    /// Queues a test alert for one destination and delivers it at once.
    async fn test_alert_destination(&self, actor: &Actor, id: &str) -> Result<(), PortError>;
    /// The pre-flight doctor for one mailbox ("Check configuration").
    async fn check_configuration(
        &self,
        actor: &Actor,
        tenant_id: &str,
        email_id: &str,
    ) -> Result<crate::model::doctor::DoctorReport, PortError>;
    /// Sends a message from the mailbox to itself and follows it out and back in.
    async fn round_trip_check(
        &self,
        actor: &Actor,
        tenant_id: &str,
        email_id: &str,
    ) -> Result<crate::model::doctor::DoctorCheck, PortError>;
}

pub type SharedBackend = Arc<dyn Backend>;
