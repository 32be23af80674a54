//! Routes outside Leptos: health checks (and later the OAuth callback and host API).
pub mod api_status;
pub mod health;
