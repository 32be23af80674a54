//! Turning storage outcomes into port errors: expected ones become messages
//! for the admin (below); everything else is logged under a reference id,
//! which is all the admin sees (the `From` conversion `?` uses).
use crate::db::StoreError;
use app::port::PortError;

impl From<StoreError> for PortError {
    #[track_caller]
    fn from(e: StoreError) -> Self {
        PortError::Internal(crate::reference::logged_here(e))
    }
}

pub fn not_found(what: &str) -> PortError {
    PortError::NotFound(format!(
        "This {what} does not exist (it may have been deleted)."
    ))
}

/// A password hashing failure (the blocking pool is gone, say).
pub fn internal(context: &str, e: impl std::fmt::Display) -> PortError {
    PortError::Internal(crate::reference::logged(context, e))
}
