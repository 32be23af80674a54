//! How much mail the host API accepts at once. Every message send reserves
//! room for its body (twice: the bytes as received and the message parsed
//! from them) in a shared budget before the body is read, and gives it back
//! when it is done. A few hundred parallel 50 MB sends then queue for the
//! budget (and, past a wait, are told to retry) instead of taking the memory.
use super::Failure;
use crate::config::HOST_API_MAX_BODY as MAX_BODY_BYTES;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Request bytes (as received and as parsed) that may be in flight at once.
pub const BUDGET_BYTES: usize = 256 * 1024 * 1024;
/// How long a send waits for room before it is told to retry.
pub const WAIT: Duration = Duration::from_secs(20);

/// The budget, counted in KiB (one semaphore permit each).
#[derive(Clone)]
pub struct SendBudget(Arc<Semaphore>);

impl Default for SendBudget {
    fn default() -> Self {
        Self(Arc::new(Semaphore::new(BUDGET_BYTES / 1024)))
    }
}

impl SendBudget {
    /// Room for a body of `declared` bytes (the limit when undeclared).
    async fn admit(&self, declared: Option<u64>) -> Result<OwnedSemaphorePermit, Failure> {
        let body = declared
            .map_or(MAX_BODY_BYTES, |n| {
                usize::try_from(n).unwrap_or(MAX_BODY_BYTES)
            })
            .min(MAX_BODY_BYTES);
        let kib = u32::try_from((2 * body).div_ceil(1024).max(1)).unwrap_or(u32::MAX);
        tokio::time::timeout(WAIT, self.0.clone().acquire_many_owned(kib))
            .await
            .map_err(|_| Failure::Busy)?
            .map_err(|_| Failure::Busy)
    }
}

/// A send admitted into the budget; the room is given back when it drops.
pub struct Admitted(#[allow(dead_code)] OwnedSemaphorePermit);

impl<S> FromRequestParts<S> for Admitted
where
    SendBudget: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let declared = parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        SendBudget::from_ref(state)
            .admit(declared)
            .await
            .map(Admitted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn sends_wait_for_room_and_are_told_to_retry_past_the_wait() {
        let budget = SendBudget::default();
        let big = Some(MAX_BODY_BYTES as u64);
        let mut held = Vec::new();
        // Two 50 MB sends take 200 MB of the 256: a third must wait.
        for _ in 0..2 {
            held.push(budget.admit(big).await.unwrap());
        }
        let small = budget.admit(Some(10 * 1024)).await;
        assert!(small.is_ok(), "small sends still fit");
        let waiting = tokio::spawn({
            let budget = budget.clone();
            async move { budget.admit(big).await.is_ok() }
        });
        tokio::time::sleep(Duration::from_secs(1)).await;
        held.pop();
        assert!(waiting.await.unwrap(), "admitted once room was given back");
        // 100 MB held and a small send: one more 50 MB send fits, a second
        // waits out the wait and is told to retry.
        let _second = budget.admit(big).await.unwrap();
        let refused = budget.admit(big).await;
        assert!(matches!(refused, Err(Failure::Busy)), "{refused:?}");
    }
}
