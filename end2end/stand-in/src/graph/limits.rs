//! Per app, per mailbox limits: concurrent requests (429 MailboxConcurrency) and a request budget per window.

use axum::http::StatusCode;

use super::Caller;
use crate::errors::GraphError;
use crate::model::User;
use crate::state::Shared;

/// Holds one of the mailbox's concurrent-request slots until dropped.
pub struct Slot {
    shared: Shared,
    key: (String, String),
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut store = self.shared.lock();
        if let Some(t) = store.throttles.get_mut(&self.key) {
            t.in_flight = t.in_flight.saturating_sub(1);
        }
    }
}

/// Admits a request to `mailbox` (the target mailbox, else the signed-in user's; an app-only
/// request without a mailbox counts against its tenant) or answers 429 with `Retry-After`.
pub fn enter(shared: &Shared, caller: &Caller, mailbox: Option<&User>) -> Result<Slot, GraphError> {
    let now = shared.now();
    let mut store = shared.lock();
    let limits = store.limits.clone();
    let mailbox = mailbox.or(caller.user.as_ref());
    let key = (
        caller.client_id.to_ascii_lowercase(),
        mailbox.map_or_else(|| caller.tenant_id.clone(), |u| u.oid.clone()),
    );
    let throttle = store.throttles.entry(key.clone()).or_default();
    if throttle.in_flight >= limits.max_concurrent {
        return Err(GraphError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "ApplicationThrottled",
            "Application is over its MailboxConcurrency limit.",
        )
        .retry_after(limits.concurrency_retry_after.to_string()));
    }
    if now - throttle.window_start >= limits.window_seconds {
        throttle.window_start = now;
        throttle.window_count = 0;
    }
    if throttle.window_count >= limits.request_budget {
        let wait = (throttle.window_start + limits.window_seconds - now).max(1);
        return Err(GraphError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequests",
            "Application is over its MailboxRequests limit.",
        )
        .retry_after(wait.to_string()));
    }
    throttle.window_count += 1;
    throttle.in_flight += 1;
    let in_flight = throttle.in_flight;
    if let Some(user) = mailbox {
        let high = store
            .ledger
            .concurrency_high_water
            .entry(user.mailbox_key())
            .or_insert(0);
        *high = (*high).max(in_flight);
    }
    drop(store);
    Ok(Slot {
        shared: shared.clone(),
        key,
    })
}
