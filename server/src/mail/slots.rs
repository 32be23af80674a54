//! Microsoft allows four concurrent Graph requests per app per mailbox. Every
//! Graph call for a mailbox (sending and receiving alike) first takes one of
//! its four slots. Within a process a semaphore does it; with PostgreSQL
//! (several instances) each slot is also a leased row, so the limit holds
//! across instances. A crashed holder's lease simply expires.
use crate::db::{Store, StoreError};
use crate::mail::graph::GraphError;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

pub const SLOTS_PER_MAILBOX: usize = 4;

#[derive(Debug, thiserror::Error)]
pub enum SlotError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the mailbox's slots were closed")]
    Closed,
}

pub struct MailboxSlots {
    local: Mutex<HashMap<String, Arc<Semaphore>>>,
    /// Set on PostgreSQL only: SQLite means one instance, so the semaphore suffices.
    shared: Option<Store>,
    /// Longer than the Graph client's total timeout, so a live holder never loses it.
    lease: chrono::Duration,
}

/// A held slot. Give it back with [`Slot::release`]; dropping it frees the
/// local permit at once and the shared row when its lease runs out.
pub struct Slot {
    _permit: OwnedSemaphorePermit,
    shared: Option<(Store, String, i32, String)>,
}

impl Slot {
    pub async fn release(mut self) {
        if let Some((store, mailbox, slot, owner)) = self.shared.take() {
            if let Err(e) = store.slots().release(&mailbox, slot, &owner).await {
                tracing::warn!(error = %e, "cannot release a Graph slot; it frees itself when its lease ends");
            }
        }
    }
}

impl MailboxSlots {
    pub fn new(store: &Store) -> Self {
        Self {
            local: Mutex::new(HashMap::new()),
            shared: store.is_shared().then(|| store.clone()),
            lease: chrono::Duration::seconds(90),
        }
    }

    fn semaphore(&self, mailbox: &str) -> Arc<Semaphore> {
        let mut map = self.local.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(mailbox.to_string())
            .or_insert_with(|| Arc::new(Semaphore::new(SLOTS_PER_MAILBOX)))
            .clone()
    }

    /// Runs one Graph request inside one of the mailbox's slots (the request
    /// future does nothing until it is awaited here, after the slot is held).
    pub async fn run<T>(
        &self,
        mailbox: &str,
        request: impl std::future::Future<Output = Result<T, GraphError>>,
    ) -> Result<T, GraphError> {
        let slot = self
            .acquire(mailbox)
            .await
            .map_err(|e| GraphError::Internal(format!("slot: {e}")))?;
        let result = request.await;
        slot.release().await;
        result
    }

    /// Waits for one of the mailbox's slots.
    pub async fn acquire(&self, mailbox: &str) -> Result<Slot, SlotError> {
        let permit = self
            .semaphore(mailbox)
            .acquire_owned()
            .await
            .map_err(|_| SlotError::Closed)?;
        let Some(store) = &self.shared else {
            return Ok(Slot {
                _permit: permit,
                shared: None,
            });
        };
        store.slots().ensure(mailbox, SLOTS_PER_MAILBOX).await?;
        // One owner per acquisition, so releasing can only free this slot.
        let owner = uuid::Uuid::new_v4().to_string();
        let mut wait = Duration::from_millis(5);
        loop {
            let won = store
                .slots()
                .try_acquire(mailbox, SLOTS_PER_MAILBOX, &owner, self.lease)
                .await?;
            if let Some(slot) = won {
                return Ok(Slot {
                    _permit: permit,
                    shared: Some((store.clone(), mailbox.to_string(), slot, owner)),
                });
            }
            // All four are busy in other instances: back off a little.
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_millis(200));
        }
    }
}
