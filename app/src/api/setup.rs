//! First start: create the first admin with the setup token from the server log.
//! Public by design (nobody can sign in yet); useless once an admin exists.
#[cfg(feature = "ssr")]
use crate::model::admin::{self as rules, PASSWORD, PASSWORD_CONFIRM, SETUP_TOKEN, USERNAME};
use crate::model::ApiError;
#[cfg(feature = "ssr")]
use crate::model::FieldErrors;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

#[server(prefix = "/api", endpoint = "setup_status", input = Json)]
pub async fn setup_status() -> Result<bool, ApiError> {
    let backend = super::public_backend()?;
    backend.needs_setup().await.map_err(super::port)
}

#[server(prefix = "/api", endpoint = "complete_setup", input = Json)]
pub async fn complete_setup(
    setup_token: String,
    username: String,
    password: String,
    password_confirm: String,
) -> Result<(), ApiError> {
    let backend = super::public_backend()?;
    let mut errors = FieldErrors::new();
    if setup_token.trim().is_empty() {
        errors.add(
            SETUP_TOKEN,
            "Enter the setup token printed in the server log.",
        );
    }
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
        .complete_setup(
            &super::actor(),
            setup_token.trim(),
            &rules::normalize_username(&username),
            &password,
        )
        .await
        .map_err(super::port)
}
