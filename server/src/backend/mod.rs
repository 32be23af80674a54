//! Implements the app's `Backend` port over the database and the key ring.
mod admins;
mod api_tokens;
mod errors;
mod inbox;
mod outbox;
mod tenant_emails;
mod tenants;

use crate::clock::Clock;
use crate::secrets::KeyRing;
use app::model::admin::{AdminView, AuditFilter, AuditPage};
use app::model::api_token::{ApiTokenView, CreatedApiToken};
use app::model::inbox::{InboxPage, ReceivedMessage};
use app::model::mail::{OutboxEntryView, OutboxState};
use app::model::EditorContext;
use app::model::{ConnectionView, TenantDetail, TenantEmailInput, TenantEmailView, TenantSummary};
use app::port::{Actor, Backend, PortError};
use sea_orm::DatabaseConnection;
use std::sync::Arc;

pub use errors::is_unique_violation;
pub use tenant_emails::{open_secret, verify_sealed_secrets};

pub struct DbBackend {
    pub(crate) db: DatabaseConnection,
    /// Wakes the outbox workers right after an enqueue instead of at their next poll.
    outbox_wake: Arc<tokio::sync::Notify>,
    /// Wakes the inbox sync at once (Sync now).
    inbox_wake: Arc<tokio::sync::Notify>,
    pub(crate) keys: Arc<KeyRing>,
    pub(crate) clock: Arc<dyn Clock>,
    context: EditorContext,
}

impl DbBackend {
    pub fn new(
        db: DatabaseConnection,
        keys: Arc<KeyRing>,
        clock: Arc<dyn Clock>,
        context: EditorContext,
    ) -> Self {
        Self {
            db,
            outbox_wake: Arc::new(tokio::sync::Notify::new()),
            inbox_wake: Arc::new(tokio::sync::Notify::new()),
            keys,
            clock,
            context,
        }
    }
}

impl DbBackend {
    /// The outbox workers listen on this.
    pub fn outbox_wake(&self) -> Arc<tokio::sync::Notify> {
        self.outbox_wake.clone()
    }
    pub(crate) fn wake_outbox(&self) {
        self.outbox_wake.notify_one();
    }
    /// The inbox sync listens on this.
    pub fn inbox_wake(&self) -> Arc<tokio::sync::Notify> {
        self.inbox_wake.clone()
    }
    pub(crate) fn wake_inbox(&self) {
        self.inbox_wake.notify_one();
    }
}

#[async_trait::async_trait]
impl Backend for DbBackend {
    fn editor_context(&self) -> EditorContext {
        self.context.clone()
    }
    async fn list_tenants(&self) -> Result<Vec<TenantSummary>, PortError> {
        tenants::list(self).await
    }
    async fn create_tenant(&self, actor: &Actor, name: &str) -> Result<TenantSummary, PortError> {
        tenants::create(self, actor, name).await
    }
    async fn get_tenant(&self, tenant_id: &str) -> Result<TenantDetail, PortError> {
        tenants::get(self, tenant_id).await
    }
    async fn rename_tenant(
        &self,
        actor: &Actor,
        tenant_id: &str,
        expected_version: i32,
        name: &str,
    ) -> Result<TenantDetail, PortError> {
        tenants::rename(self, actor, tenant_id, expected_version, name).await
    }
    async fn delete_tenant(&self, actor: &Actor, tenant_id: &str) -> Result<(), PortError> {
        tenants::delete(self, actor, tenant_id).await
    }
    async fn get_tenant_email(
        &self,
        tenant_id: &str,
        email_id: &str,
    ) -> Result<TenantEmailView, PortError> {
        tenant_emails::get(self, tenant_id, email_id).await
    }
    async fn create_tenant_email(
        &self,
        actor: &Actor,
        tenant_id: &str,
        input: &TenantEmailInput,
    ) -> Result<TenantEmailView, PortError> {
        tenant_emails::create(self, actor, tenant_id, input).await
    }
    async fn update_tenant_email(
        &self,
        actor: &Actor,
        tenant_id: &str,
        email_id: &str,
        expected_version: i32,
        input: &TenantEmailInput,
    ) -> Result<TenantEmailView, PortError> {
        tenant_emails::update(self, actor, tenant_id, email_id, expected_version, input).await
    }
    async fn connection(
        &self,
        tenant_id: &str,
        email_id: &str,
    ) -> Result<Option<ConnectionView>, PortError> {
        tenant_emails::connection(self, tenant_id, email_id).await
    }
    async fn delete_tenant_email(
        &self,
        actor: &Actor,
        tenant_id: &str,
        email_id: &str,
    ) -> Result<(), PortError> {
        tenant_emails::delete(self, actor, tenant_id, email_id).await
    }
    async fn list_admins(&self, actor: &Actor) -> Result<Vec<AdminView>, PortError> {
        admins::list(self, actor).await
    }
    async fn add_admin(
        &self,
        actor: &Actor,
        username: &str,
        password: &str,
    ) -> Result<AdminView, PortError> {
        admins::add(self, actor, username, password).await
    }
    async fn set_admin_disabled(
        &self,
        actor: &Actor,
        admin_id: &str,
        disabled: bool,
    ) -> Result<AdminView, PortError> {
        admins::set_disabled(self, actor, admin_id, disabled).await
    }
    async fn change_password(
        &self,
        actor: &Actor,
        current: &str,
        new: &str,
    ) -> Result<(), PortError> {
        admins::change_password(self, actor, current, new).await
    }
    async fn list_audit(&self, filter: &AuditFilter, limit: u64) -> Result<AuditPage, PortError> {
        admins::list_audit(self, filter, limit).await
    }
    async fn send_test_email(
        &self,
        actor: &Actor,
        tenant_id: &str,
        email_id: &str,
        to: &str,
    ) -> Result<OutboxEntryView, PortError> {
        outbox::send_test(self, actor, tenant_id, email_id, to).await
    }
    async fn inbox_page(
        &self,
        tenant_id: &str,
        email_id: &str,
        before: Option<i64>,
    ) -> Result<InboxPage, PortError> {
        inbox::page(self, tenant_id, email_id, before).await
    }
    async fn received_message(
        &self,
        tenant_id: &str,
        email_id: &str,
        message_id: &str,
    ) -> Result<ReceivedMessage, PortError> {
        inbox::message(self, tenant_id, email_id, message_id).await
    }
    async fn sync_now(
        &self,
        actor: &Actor,
        tenant_id: &str,
        email_id: &str,
    ) -> Result<(), PortError> {
        inbox::sync_now(self, actor, tenant_id, email_id).await
    }
    async fn list_outbox(
        &self,
        tenant_id: &str,
        email_id: &str,
    ) -> Result<Vec<OutboxEntryView>, PortError> {
        outbox::list(self, tenant_id, email_id).await
    }
    async fn change_outbox_message(
        &self,
        actor: &Actor,
        tenant_id: &str,
        email_id: &str,
        message_id: &str,
        to: OutboxState,
    ) -> Result<(), PortError> {
        outbox::change(self, actor, tenant_id, email_id, message_id, to).await
    }
    async fn list_api_tokens(&self, tenant_id: &str) -> Result<Vec<ApiTokenView>, PortError> {
        api_tokens::list(self, tenant_id).await
    }
    async fn create_api_token(
        &self,
        actor: &Actor,
        tenant_id: &str,
        name: &str,
    ) -> Result<CreatedApiToken, PortError> {
        api_tokens::create(self, actor, tenant_id, name).await
    }
    async fn revoke_api_token(
        &self,
        actor: &Actor,
        tenant_id: &str,
        token_id: &str,
    ) -> Result<ApiTokenView, PortError> {
        api_tokens::revoke(self, actor, tenant_id, token_id).await
    }
    async fn needs_setup(&self) -> Result<bool, PortError> {
        admins::needs_setup(self).await
    }
    async fn complete_setup(
        &self,
        actor: &Actor,
        token: &str,
        username: &str,
        password: &str,
    ) -> Result<(), PortError> {
        admins::complete_setup(self, actor, token, username, password).await
    }
}
