//! Server functions for tenants.
#[cfg(feature = "ssr")]
use crate::model::{fields, identifiers};
use crate::model::{ApiError, TenantDetail, TenantSummary};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

/// Tenant ids are UUIDs; anything else is a bad link, not a server error.
#[cfg(feature = "ssr")]
pub(crate) fn check_id(id: &str, what: &str) -> Result<(), ApiError> {
    if identifiers::is_guid(id) {
        Ok(())
    } else {
        Err(super::fail(ApiError::NotFound(format!(
            "No {what} has the id {id:?}."
        ))))
    }
}

#[server(prefix = "/api", endpoint = "list_tenants", input = Json)]
pub async fn list_tenants() -> Result<Vec<TenantSummary>, ApiError> {
    let backend = super::backend()?;
    backend.list_tenants().await.map_err(super::port)
}

#[server(prefix = "/api", endpoint = "create_tenant", input = Json)]
pub async fn create_tenant(name: String) -> Result<TenantSummary, ApiError> {
    let (backend, actor) = super::admin()?;
    identifiers::validate_tenant_name(&name)
        .map_err(|m| super::fail(ApiError::invalid(fields::TENANT_NAME, m)))?;
    backend
        .create_tenant(&actor, name.trim())
        .await
        .map_err(super::port)
}

#[server(prefix = "/api", endpoint = "get_tenant", input = Json)]
pub async fn get_tenant(tenant_id: String) -> Result<TenantDetail, ApiError> {
    let backend = super::backend()?;
    check_id(&tenant_id, "tenant")?;
    backend.get_tenant(&tenant_id).await.map_err(super::port)
}

#[server(prefix = "/api", endpoint = "rename_tenant", input = Json)]
pub async fn rename_tenant(
    tenant_id: String,
    version: i32,
    name: String,
) -> Result<TenantDetail, ApiError> {
    let (backend, actor) = super::admin()?;
    check_id(&tenant_id, "tenant")?;
    identifiers::validate_tenant_name(&name)
        .map_err(|m| super::fail(ApiError::invalid(fields::TENANT_NAME, m)))?;
    backend
        .rename_tenant(&actor, &tenant_id, version, name.trim())
        .await
        .map_err(super::port)
}

#[server(prefix = "/api", endpoint = "delete_tenant", input = Json)]
pub async fn delete_tenant(tenant_id: String) -> Result<(), ApiError> {
    let (backend, actor) = super::admin()?;
    check_id(&tenant_id, "tenant")?;
    backend
        .delete_tenant(&actor, &tenant_id)
        .await
        .map_err(super::port)
}
