//! Routes outside Leptos: health checks, the OAuth connect flow and the host-application API (`/v1`).
pub mod api_status;
pub mod health;
pub mod host_api;
pub mod oauth_callback;
