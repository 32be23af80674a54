//! Routes outside Leptos: health checks, the OAuth connect flow (and later the host API).
pub mod api_status;
pub mod health;
pub mod oauth_callback;
