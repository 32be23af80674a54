//! One routed page per module.
pub mod admins;
pub mod alerts;
pub mod api_tokens;
pub mod audit;
pub mod inbox;
pub mod inbox_reply;
pub mod not_found;
pub mod outbox;
pub mod setup;
pub mod sign_in;
pub mod tenant;
pub mod tenant_email;
pub mod tenants;
