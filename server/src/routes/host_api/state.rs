//! What every `/v1` handler shares.
use crate::db::Store;
use std::sync::Arc;

/// See `config::HOST_API_MAX_BODY` (the one limit policy is in `web_security::body_limit`).
pub const MAX_BODY_BYTES: usize = crate::config::HOST_API_MAX_BODY;

#[derive(Clone)]
pub struct HostApiState {
    pub store: Store,
    /// Wakes the outbox workers right after an enqueue.
    pub outbox_wake: Arc<tokio::sync::Notify>,
    /// Room for message sends in flight (see `admission`).
    pub send_budget: super::admission::SendBudget,
    /// Wakes the inbox sync. Not the host API's: the router hands it, with
    /// the store, to Graph's change-notification endpoint.
    pub inbox_wake: Arc<tokio::sync::Notify>,
}

impl axum::extract::FromRef<HostApiState> for super::admission::SendBudget {
    fn from_ref(state: &HostApiState) -> Self {
        state.send_budget.clone()
    }
}
