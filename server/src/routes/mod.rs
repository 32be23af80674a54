//! Routes outside Leptos: health checks (and later the OAuth callback and host API).
pub mod health;
