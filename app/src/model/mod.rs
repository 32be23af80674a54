//! Data shapes and validation shared by the browser (WASM) and the server.
//!
//! Everything here is pure: no I/O, no clocks, so the same rules run in the
//! form on every keystroke and again in the server function before a write.
pub mod admin;
pub mod alerts;
pub mod api_token;
pub mod authority;
pub mod cloud;
pub mod connection;
pub mod doctor;
pub mod errors;
pub mod fields;
pub mod identifiers;
pub mod inbox;
pub mod mail;
pub mod scopes;
pub mod tenant;
pub mod tenant_email;

pub use cloud::Cloud;
pub use connection::ConnectionView;
pub use errors::{ApiError, FieldErrors};
pub use tenant::{TenantDetail, TenantSummary};
pub use tenant_email::{
    AccountType, ConnectionStatus, Direction, EditorContext, TenantEmailInput, TenantEmailView,
};

#[cfg(test)]
mod tests;
