//! Server functions for a tenant's host-API tokens: list, create (the token
//! is returned once), revoke.
#[cfg(feature = "ssr")]
use crate::model::api_token::{validate_token_name, TOKEN_NAME};
use crate::model::api_token::{ApiTokenView, CreatedApiToken};
use crate::model::ApiError;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

#[server(prefix = "/api", endpoint = "list_api_tokens", input = Json)]
pub async fn list_api_tokens(tenant_id: String) -> Result<Vec<ApiTokenView>, ApiError> {
    let backend = super::backend()?;
    super::tenants::check_id(&tenant_id, "tenant")?;
    backend
        .list_api_tokens(&tenant_id)
        .await
        .map_err(super::port)
}

#[server(prefix = "/api", endpoint = "create_api_token", input = Json)]
pub async fn create_api_token(
    tenant_id: String,
    name: String,
) -> Result<CreatedApiToken, ApiError> {
    let (backend, actor) = super::admin()?;
    super::tenants::check_id(&tenant_id, "tenant")?;
    validate_token_name(&name).map_err(|m| super::fail(ApiError::invalid(TOKEN_NAME, m)))?;
    backend
        .create_api_token(&actor, &tenant_id, name.trim())
        .await
        .map_err(super::port)
}

#[server(prefix = "/api", endpoint = "revoke_api_token", input = Json)]
pub async fn revoke_api_token(
    tenant_id: String,
    token_id: String,
) -> Result<ApiTokenView, ApiError> {
    let (backend, actor) = super::admin()?;
    super::tenants::check_id(&tenant_id, "tenant")?;
    super::tenants::check_id(&token_id, "API token")?;
    backend
        .revoke_api_token(&actor, &tenant_id, &token_id)
        .await
        .map_err(super::port)
}
