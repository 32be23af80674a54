//! Sending: claim due messages, then for each one draft → remember the draft
//! id → send. Whenever a message comes back with a draft id (a retry, a crash,
//! an ambiguous answer) the draft is looked up first: already sent → done,
//! still a draft → send it. So a message is sent at most once by Tenant Mail;
//! a crash between creating a draft and storing its id leaves an unsent
//! draft in the mailbox, never a second copy at the recipient.
use super::recent_tokens::RecentTokens;
use crate::db::outbox::GroupCommit;
use crate::db::Store;
use crate::identity::Identity;
use crate::mail::graph::GraphClient;
use crate::mail::slots::MailboxSlots;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// How long a finished send waits for others before more work is claimed.
const CLAIM_COALESCE: Duration = Duration::from_millis(20);

#[derive(Debug, Clone)]
pub struct OutboxConfig {
    /// Messages claimed at most at once.
    pub batch: u64,
    /// Messages being worked on at once by this instance (the per-mailbox
    /// slots still allow only four Graph requests per mailbox).
    pub max_in_flight: usize,
    /// Longer than the slowest send (two Graph calls plus waiting for a slot).
    pub lease: chrono::Duration,
    /// A message not sent by then fails, with the last reason.
    pub max_age: chrono::Duration,
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
    /// How often an idle worker looks for due messages (enqueues wake it at once).
    pub idle_poll: Duration,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        Self {
            batch: 128,
            // Messages waiting for one of their mailbox's four slots cost a
            // parked task each; enough of them in flight keeps every mailbox
            // busy instead of a few mailboxes queueing while others idle.
            max_in_flight: 2048,
            lease: chrono::Duration::minutes(5),
            max_age: chrono::Duration::hours(24),
            backoff_base: Duration::from_secs(2),
            backoff_cap: Duration::from_secs(600),
            idle_poll: Duration::from_secs(1),
        }
    }
}

pub struct Outbox {
    pub(super) store: Store,
    pub(super) identity: Arc<Identity>,
    pub(super) graph: GraphClient,
    pub(super) slots: Arc<MailboxSlots>,
    wake: Arc<Notify>,
    pub(super) config: OutboxConfig,
    /// "Draft recorded" and "sent" share commits under load.
    pub(super) commits: GroupCommit,
    pub(super) recent_tokens: RecentTokens,
    pub(super) sent_total: std::sync::atomic::AtomicU64,
}

/// What became of one message in one round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    Retrying,
    Held,
    Failed,
    /// Our lease was taken over (we were too slow); the new owner decides.
    LostLease,
}

impl Outbox {
    pub fn new(
        store: Store,
        identity: Arc<Identity>,
        graph: GraphClient,
        slots: Arc<MailboxSlots>,
        wake: Arc<Notify>,
        config: OutboxConfig,
    ) -> Self {
        Self {
            commits: GroupCommit::start(&store),
            recent_tokens: RecentTokens::new(store.clock().clone()),
            store,
            identity,
            graph,
            slots,
            wake,
            config,
            sent_total: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// A lease owner for one claim. Unique per claim, not per instance: if
    /// this instance re-claims a message whose lease ran out while a slow task
    /// of its own still holds it, the slow task's writes must fail.
    fn claim_token(&self) -> String {
        uuid::Uuid::new_v4().to_string()
    }

    /// Messages this instance has sent since it started.
    pub fn sent_total(&self) -> u64 {
        self.sent_total.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Claims one batch and processes it; returns what happened to each message.
    pub async fn run_once(self: &Arc<Self>) -> Vec<Outcome> {
        let claimed = match self
            .store
            .outbox()
            .claim(&self.claim_token(), self.config.lease, self.config.batch)
            .await
        {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "outbox: cannot claim messages");
                return Vec::new();
            }
        };
        let mut tasks = tokio::task::JoinSet::new();
        for m in claimed {
            let this = self.clone();
            tasks.spawn(async move { this.process(m).await });
        }
        crate::mail::outcomes(tasks, "outbox: a send").await
    }

    /// Runs until the process ends. Claims more work whenever a send
    /// finishes (it never waits for a whole batch), when woken by an enqueue,
    /// and every `idle_poll`, keeping up to `max_in_flight` messages going.
    pub fn spawn(self: Arc<Self>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut tasks = tokio::task::JoinSet::new();
            // When to ask the database for more work. After a claim that came
            // back short the queue is drained: finishing sends then need not
            // ask again (each ask is a write on the database) until an
            // enqueue wakes us or `idle_poll` passes.
            let mut next_claim = tokio::time::Instant::now();
            // The last claim found work: a finishing send may make room for
            // more of it (a mailbox has at most `PER_MAILBOX` in flight, so
            // a short claim does not mean the queue is drained).
            let mut found_work = false;
            loop {
                let room = self.config.max_in_flight.saturating_sub(tasks.len());
                if room > 0 && tokio::time::Instant::now() >= next_claim {
                    let limit = (room as u64).min(self.config.batch);
                    let drained = match self
                        .store
                        .outbox()
                        .claim(&self.claim_token(), self.config.lease, limit)
                        .await
                    {
                        Ok(claimed) => {
                            let short = (claimed.len() as u64) < limit;
                            found_work = !claimed.is_empty();
                            for m in claimed {
                                let this = self.clone();
                                tasks.spawn(async move { this.process(m).await });
                            }
                            short
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "outbox: cannot claim messages");
                            found_work = false;
                            true
                        }
                    };
                    next_claim = tokio::time::Instant::now()
                        + if drained {
                            self.config.idle_poll
                        } else {
                            Duration::ZERO
                        };
                }
                if tasks.is_empty() {
                    let _ = tokio::time::timeout_at(next_claim, self.wake.notified()).await;
                    next_claim = tokio::time::Instant::now();
                    continue;
                }
                tokio::select! {
                    done = tasks.join_next() => {
                        if let Some(Err(e)) = done {
                            tracing::error!(error = %e, "outbox: a send task panicked");
                        }
                        // Sends finishing together share one claim: a claim
                        // is a durable write, and one per finished send held
                        // PostgreSQL with fsync to ~22 messages/s.
                        if found_work {
                            next_claim = next_claim
                                .min(tokio::time::Instant::now() + CLAIM_COALESCE);
                        }
                    }
                    _ = self.wake.notified() => next_claim = tokio::time::Instant::now(),
                    _ = tokio::time::sleep_until(next_claim) => {}
                }
            }
        })
    }
}
