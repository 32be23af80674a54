//! Server functions for admin accounts: list, add, disable/enable, change own password.
use crate::model::admin::AdminView;
#[cfg(feature = "ssr")]
use crate::model::admin::{self as rules, CURRENT_PASSWORD, PASSWORD, PASSWORD_CONFIRM, USERNAME};
use crate::model::ApiError;
#[cfg(feature = "ssr")]
use crate::model::FieldErrors;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

#[server(prefix = "/api", endpoint = "list_admins", input = Json)]
pub async fn list_admins() -> Result<Vec<AdminView>, ApiError> {
    let (backend, actor) = super::admin()?;
    backend.list_admins(&actor).await.map_err(super::port)
}

#[server(prefix = "/api", endpoint = "add_admin", input = Json)]
pub async fn add_admin(
    username: String,
    password: String,
    password_confirm: String,
) -> Result<AdminView, ApiError> {
    let (backend, actor) = super::admin()?;
    let mut errors = FieldErrors::new();
    errors.merge(USERNAME, rules::validate_username(&username));
    errors.merge(PASSWORD, rules::validate_new_password(&password, &username));
    errors.merge(
        PASSWORD_CONFIRM,
        rules::validate_confirmation(&password, &password_confirm),
    );
    errors
        .into_result()
        .map_err(|e| super::fail(ApiError::Invalid(e)))?;
    backend
        .add_admin(&actor, &rules::normalize_username(&username), &password)
        .await
        .map_err(super::port)
}

#[server(prefix = "/api", endpoint = "set_admin_disabled", input = Json)]
pub async fn set_admin_disabled(admin_id: String, disabled: bool) -> Result<AdminView, ApiError> {
    let (backend, actor) = super::admin()?;
    super::tenants::check_id(&admin_id, "admin")?;
    backend
        .set_admin_disabled(&actor, &admin_id, disabled)
        .await
        .map_err(super::port)
}

#[server(prefix = "/api", endpoint = "change_password", input = Json)]
pub async fn change_password(
    current_password: String,
    password: String,
    password_confirm: String,
) -> Result<(), ApiError> {
    let (backend, actor) = super::admin()?;
    let mut errors = FieldErrors::new();
    if current_password.is_empty() {
        errors.add(CURRENT_PASSWORD, "Enter your current password.");
    }
    errors.merge(
        PASSWORD,
        rules::validate_new_password(&password, &actor.username),
    );
    errors.merge(
        PASSWORD_CONFIRM,
        rules::validate_confirmation(&password, &password_confirm),
    );
    if errors.get(PASSWORD).is_none() && password == current_password {
        errors.add(
            PASSWORD,
            "Choose a password different from the current one.",
        );
    }
    errors
        .into_result()
        .map_err(|e| super::fail(ApiError::Invalid(e)))?;
    backend
        .change_password(&actor, &current_password, &password)
        .await
        .map_err(super::port)
}
