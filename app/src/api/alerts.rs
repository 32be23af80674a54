//! Server functions for alerts: the Alerts page and the banner on every
//! admin page.
#[cfg(feature = "ssr")]
use crate::model::alerts::validate_destination;
use crate::model::alerts::{
    AlertsPageData, AttentionItem, CreatedDestination, NewDestinationInput,
};
use crate::model::ApiError;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

#[server(prefix = "/api", endpoint = "alerts_overview", input = Json)]
pub async fn alerts_overview() -> Result<AlertsPageData, ApiError> {
    let (backend, _) = super::admin()?;
    backend.alerts_overview().await.map_err(super::port)
}

/// What needs attention now. Empty for a visitor who is not signed in (the
/// banner is for admins; the sign-in page has none).
#[server(prefix = "/api", endpoint = "attention", input = Json)]
pub async fn attention() -> Result<Vec<AttentionItem>, ApiError> {
    let actor = super::actor();
    if !actor.is_admin() {
        return Ok(Vec::new());
    }
    let backend = super::backend()?;
    backend.attention().await.map_err(super::port)
}

#[server(prefix = "/api", endpoint = "create_alert_destination", input = Json)]
pub async fn create_alert_destination(
    input: NewDestinationInput,
) -> Result<CreatedDestination, ApiError> {
    let (backend, actor) = super::admin()?;
    let errors = validate_destination(&input);
    if !errors.is_empty() {
        return Err(super::fail(ApiError::Invalid(errors)));
    }
    backend
        .create_alert_destination(&actor, &input)
        .await
        .map_err(super::port)
}

#[server(prefix = "/api", endpoint = "delete_alert_destination", input = Json)]
pub async fn delete_alert_destination(id: String) -> Result<(), ApiError> {
    let (backend, actor) = super::admin()?;
    super::tenants::check_id(&id, "alert destination")?;
    backend
        .delete_alert_destination(&actor, &id)
        .await
        .map_err(super::port)
}

#[server(prefix = "/api", endpoint = "test_alert_destination", input = Json)]
pub async fn test_alert_destination(id: String) -> Result<(), ApiError> {
    let (backend, actor) = super::admin()?;
    super::tenants::check_id(&id, "alert destination")?;
    backend
        .test_alert_destination(&actor, &id)
        .await
        .map_err(super::port)
}

/// Runs the pre-flight doctor on a saved Tenant Email.
#[server(prefix = "/api", endpoint = "check_configuration", input = Json)]
pub async fn check_configuration(
    tenant_id: String,
    email_id: String,
) -> Result<crate::model::doctor::DoctorReport, ApiError> {
    let (backend, actor) = super::admin()?;
    super::tenants::check_id(&tenant_id, "tenant")?;
    super::tenants::check_id(&email_id, "tenant email")?;
    backend
        .check_configuration(&actor, &tenant_id, &email_id)
        .await
        .map_err(super::port)
}

/// Sends a message from the mailbox to itself and follows it out and back in.
#[server(prefix = "/api", endpoint = "round_trip_check", input = Json)]
pub async fn round_trip_check(
    tenant_id: String,
    email_id: String,
) -> Result<crate::model::doctor::DoctorCheck, ApiError> {
    let (backend, actor) = super::admin()?;
    super::tenants::check_id(&tenant_id, "tenant")?;
    super::tenants::check_id(&email_id, "tenant email")?;
    backend
        .round_trip_check(&actor, &tenant_id, &email_id)
        .await
        .map_err(super::port)
}

/// "Check access" for an application (client-credentials) mailbox.
#[server(prefix = "/api", endpoint = "check_app_access", input = Json)]
pub async fn check_app_access(
    tenant_id: String,
    email_id: String,
) -> Result<crate::model::doctor::DoctorReport, ApiError> {
    let (backend, actor) = super::admin()?;
    super::tenants::check_id(&tenant_id, "tenant")?;
    super::tenants::check_id(&email_id, "tenant email")?;
    backend
        .check_app_access(&actor, &tenant_id, &email_id)
        .await
        .map_err(super::port)
}
