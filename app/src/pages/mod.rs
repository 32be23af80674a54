//! One routed page per module.
pub mod not_found;
pub mod tenant;
pub mod tenant_email;
pub mod tenants;
