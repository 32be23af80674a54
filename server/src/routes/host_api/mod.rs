//! The host-application REST API (`/v1`): the application that owns the
//! tenants queues mail and reads its status, and reads (and acknowledges)
//! received mail, with a per-tenant bearer token.
//!
//! Authentication is the bearer token alone. These routes are public to the
//! admin sign-in gate and exempt from the browser CSRF check (see
//! `auth::gate::is_public` and `web_security::csrf`): no cookie is read here,
//! so an admin session in the same browser grants nothing on `/v1`.
mod admission;
mod attachments;
mod bearer;
mod body;
mod failure;
mod messages;
pub mod openapi;
mod received;
mod state;

use axum::extract::DefaultBodyLimit;
use axum::routing::{any, get, post};
use axum::Router;

pub use admission::SendBudget;
pub use bearer::Caller;
pub use failure::{ErrorBody, Failure};
pub use state::{HostApiState, MAX_BODY_BYTES};

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
