//! Every server function. Thin: pass the guard, validate with `model`, call
//! the backend port, map errors to HTTP statuses.
mod admins;
mod alerts;
mod api_tokens;
mod app_info;
mod audit;
mod inbox;
mod outbox;
mod setup;
mod tenant_emails;
mod tenants;

pub use admins::*;
pub use alerts::*;
pub use api_tokens::*;
pub use app_info::*;
pub use audit::*;
pub use inbox::*;
pub use outbox::*;
pub use setup::*;
pub use tenant_emails::*;
pub use tenants::*;

#[cfg(feature = "ssr")]
mod guard;
#[cfg(feature = "ssr")]
pub use guard::{actor, admin, backend, error_id, fail, port, public_backend, SIGN_IN_REQUIRED};
