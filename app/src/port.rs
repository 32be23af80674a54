//! What server functions may ask of the backend (server-only).
//!
//! `server` depends on `app`, so `app` cannot call the database directly: the
//! server puts an `Arc<dyn Backend>` into Leptos context and server functions
//! fetch it through `api::guard`. Inputs arrive here already validated.
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
    /// Already logged by the backend under this reference id.
    #[error("internal error {0}")]
    Internal(String),
}

#[async_trait::async_trait]
pub trait Backend: Send + Sync + 'static {
    fn editor_context(&self) -> EditorContext;
    async fn list_tenants(&self) -> Result<Vec<TenantSummary>, PortError>;
    async fn create_tenant(&self, name: &str) -> Result<TenantSummary, PortError>;
    async fn get_tenant(&self, tenant_id: &str) -> Result<TenantDetail, PortError>;
    async fn rename_tenant(
        &self,
        tenant_id: &str,
        expected_version: i32,
        name: &str,
    ) -> Result<TenantDetail, PortError>;
    async fn delete_tenant(&self, tenant_id: &str) -> Result<(), PortError>;
    async fn get_tenant_email(
        &self,
        tenant_id: &str,
        email_id: &str,
    ) -> Result<TenantEmailView, PortError>;
    /// `input.client_secret` is required here.
    async fn create_tenant_email(
        &self,
        tenant_id: &str,
        input: &TenantEmailInput,
    ) -> Result<TenantEmailView, PortError>;
    /// An empty `input.client_secret` keeps the stored secret.
    async fn update_tenant_email(
        &self,
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
    async fn delete_tenant_email(&self, tenant_id: &str, email_id: &str) -> Result<(), PortError>;
}

pub type SharedBackend = Arc<dyn Backend>;
