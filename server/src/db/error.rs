//! What storage can fail with. Expected outcomes of a guarded write (the row
//! is gone, someone saved first, a unique value is taken) are not errors:
//! they come back as [`Saved`], so callers handle them where they decide
//! what the user reads, and use `?` for everything else.
use crate::secrets::SecretError;
use sea_orm::{DbErr, SqlErr};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Db(#[from] DbErr),
    /// One failed commit shared by every write batched into it.
    #[error("database: {0}")]
    Batch(Arc<DbErr>),
    /// A stored secret does not open (or a new one cannot be sealed).
    #[error("stored secret: {0}")]
    Secret(#[from] SecretError),
    /// A row holds something this version cannot read.
    #[error("unreadable row: {0}")]
    Corrupt(String),
    /// The writer that batches outbox commits has stopped.
    #[error("the outbox commit task has stopped")]
    Stopped,
}

/// The outcome of a write guarded by existence, version or uniqueness.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Saved<T> {
    Done(T),
    /// The row does not exist (or not for this owner).
    Missing,
    /// Someone else changed it since the version the caller read.
    Stale,
    /// A value that must be unique is taken.
    Duplicate,
}

pub(crate) fn is_unique_violation(e: &DbErr) -> bool {
    matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}
