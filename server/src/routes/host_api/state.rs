//! What every `/v1` handler shares.
use crate::db::Store;
use std::sync::Arc;

/// Attachments travel as base64 inside the JSON (35 MB of attachments is
/// about 47 MB encoded), so the limit is well above axum's 2 MB default.
pub const MAX_BODY_BYTES: usize = 50 * 1024 * 1024;

#[derive(Clone)]
pub struct HostApiState {
    pub store: Store,
    /// Wakes the outbox workers right after an enqueue.
    pub outbox_wake: Arc<tokio::sync::Notify>,
}
