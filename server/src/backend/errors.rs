//! Turning database errors into port errors: expected ones become messages,
//! everything else is logged with a reference id that the admin sees.
use app::port::PortError;
use sea_orm::{DbErr, SqlErr};

pub fn internal(context: &str, error: impl std::fmt::Display) -> PortError {
    let id = app::api::error_id();
    tracing::error!(error_id = %id, %error, "{context}");
    PortError::Internal(id)
}

pub fn is_unique_violation(e: &DbErr) -> bool {
    matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

pub fn not_found(what: &str) -> PortError {
    PortError::NotFound(format!(
        "This {what} does not exist (it may have been deleted)."
    ))
}
