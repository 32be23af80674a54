//! Server functions for a tenant email's outbox: send a test message, list
//! the outbox, retry or cancel a message.
use crate::model::mail::OutboxEntryView;
#[cfg(feature = "ssr")]
use crate::model::mail::{OutboxState, BODY, TO};
use crate::model::ApiError;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

#[server(prefix = "/api", endpoint = "send_test_email", input = Json)]
pub async fn send_test_email(
    tenant_id: String,
    email_id: String,
    to: String,
) -> Result<OutboxEntryView, ApiError> {
    let (backend, actor) = super::admin()?;
    super::tenants::check_id(&tenant_id, "tenant")?;
    super::tenants::check_id(&email_id, "tenant email")?;
    crate::model::identifiers::validate_address(to.trim())
        .map_err(|m| super::fail(ApiError::invalid(TO, m)))?;
    backend
        .send_test_email(&actor, &tenant_id, &email_id, to.trim())
        .await
        .map_err(super::port)
}

/// Replies to a received message from its mailbox (the Inbox reader's Reply).
#[server(prefix = "/api", endpoint = "reply_received", input = Json)]
pub async fn reply_received(
    tenant_id: String,
    email_id: String,
    message_id: String,
    text: String,
    reply_all: bool,
) -> Result<OutboxEntryView, ApiError> {
    let (backend, actor) = super::admin()?;
    super::tenants::check_id(&tenant_id, "tenant")?;
    super::tenants::check_id(&email_id, "tenant email")?;
    super::tenants::check_id(&message_id, "message")?;
    if let Some(message) = crate::model::mail::check_reply_text(&text) {
        return Err(super::fail(ApiError::invalid(BODY, message)));
    }
    backend
        .reply_to_received(&actor, &tenant_id, &email_id, &message_id, &text, reply_all)
        .await
        .map_err(super::port)
}

#[server(prefix = "/api", endpoint = "list_outbox", input = Json)]
pub async fn list_outbox(
    tenant_id: String,
    email_id: String,
) -> Result<Vec<OutboxEntryView>, ApiError> {
    let backend = super::backend()?;
    super::tenants::check_id(&tenant_id, "tenant")?;
    super::tenants::check_id(&email_id, "tenant email")?;
    backend
        .list_outbox(&tenant_id, &email_id)
        .await
        .map_err(super::port)
}

/// `action` is `retry` (failed or held → queued now) or `cancel`.
#[server(prefix = "/api", endpoint = "change_outbox_message", input = Json)]
pub async fn change_outbox_message(
    tenant_id: String,
    email_id: String,
    message_id: String,
    action: String,
) -> Result<(), ApiError> {
    let (backend, actor) = super::admin()?;
    super::tenants::check_id(&tenant_id, "tenant")?;
    super::tenants::check_id(&email_id, "tenant email")?;
    super::tenants::check_id(&message_id, "message")?;
    let to = match action.as_str() {
        "retry" => OutboxState::Queued,
        "cancel" => OutboxState::Cancelled,
        _ => {
            return Err(super::fail(ApiError::BadRequest(
                "action must be retry or cancel".into(),
            )))
        }
    };
    backend
        .change_outbox_message(&actor, &tenant_id, &email_id, &message_id, to)
        .await
        .map_err(super::port)
}
