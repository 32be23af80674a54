//! Routes outside Leptos: health checks, the OAuth connect flow, the host-application API (`/v1`)
//! and attachment downloads for the Inbox reader.
pub mod api_status;
pub mod health;
pub mod host_api;
pub mod oauth_callback;
pub mod received_files;
