//! Internal errors are logged under a reference id, and only the id reaches
//! the user ("Something went wrong (reference …)"). Every outer edge (the
//! admin console's port, the host API, plain routes, the OAuth pages) turns
//! its internal errors into ids here, so they are all logged alike.
use std::fmt::Display;

/// Logs `error` with `context` under a new reference id; returns the id.
pub fn logged(context: &str, error: impl Display) -> String {
    let id = app::api::error_id();
    tracing::error!(error_id = %id, %error, "{context}");
    id
}

/// [`logged`], with the caller's source location as the context: for the
/// `From` conversions that `?` calls, so the log says where it failed.
#[track_caller]
pub fn logged_here(error: impl Display) -> String {
    let at = std::panic::Location::caller();
    logged(&format!("internal error at {at}"), error)
}
