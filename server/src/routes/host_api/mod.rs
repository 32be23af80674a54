//! The host-application REST API (`/v1`): the application that owns the
//! tenants queues mail and reads its status, and reads (and acknowledges)
//! received mail, with a per-tenant bearer token.
//!
//! Authentication is the bearer token alone. These routes are public to the
//! admin sign-in gate and exempt from the browser CSRF check (see
//! `auth::gate::is_public` and `web_security::csrf`): no cookie is read here,
//! so an admin session in the same browser grants nothing on `/v1`.
mod attachments;
mod bearer;
mod body;
mod failure;
mod messages;
pub mod openapi;
mod received;

use crate::db::Store;
use axum::extract::DefaultBodyLimit;
use axum::routing::{any, get, post};
use axum::Router;
use std::sync::Arc;

pub use bearer::Caller;
pub use failure::{ErrorBody, Failure};

/// Attachments travel as base64 inside the JSON (35 MB of attachments is
/// about 47 MB encoded), so the limit is well above axum's 2 MB default.
pub const MAX_BODY_BYTES: usize = 50 * 1024 * 1024;

#[derive(Clone)]
pub struct HostApiState {
    pub store: Store,
    /// Wakes the outbox workers right after an enqueue.
    pub outbox_wake: Arc<tokio::sync::Notify>,
}

/// Generic over the outer router's state: these routes carry their own.
pub fn routes<S: Clone + Send + Sync + 'static>(state: HostApiState) -> Router<S> {
    Router::new()
        .route(
            "/v1/mailboxes/{tenant_email_id}/messages",
            post(messages::send),
        )
        .route("/v1/messages/{id}", get(messages::status))
        .route(
            "/v1/mailboxes/{tenant_email_id}/received",
            get(received::list),
        )
        .route(
            "/v1/mailboxes/{tenant_email_id}/received/acknowledge",
            post(received::acknowledge),
        )
        .route(
            "/v1/received/{message_id}/attachments/{attachment_id}",
            get(attachments::attachment),
        )
        .route("/v1/openapi.json", get(openapi::document))
        // Unknown `/v1` paths answer in JSON too, not with the admin UI's 404 page.
        .route("/v1/{*rest}", any(|| async { Failure::NotFound }))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}
