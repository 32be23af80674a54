//! Every server function. Thin: pass the guard, validate with `model`, call
//! the backend port, map errors to HTTP statuses.
mod app_info;
mod tenant_emails;
mod tenants;

pub use app_info::*;
pub use tenant_emails::*;
pub use tenants::*;

#[cfg(feature = "ssr")]
mod guard;
#[cfg(feature = "ssr")]
pub use guard::{backend, error_id, fail, port};
