//! Receiving: for each due mailbox, take its sync lease, page through the
//! folder's delta (each page committed with the link after it), then apply
//! the after-processing action to what was stored.
//!
//! Why this loses and duplicates nothing: a page and its continuation link
//! are one transaction, so a crash refetches at most the page in flight;
//! messages are keyed by (mailbox, immutable id), so a refetched or replayed
//! page stores nothing twice; the delta link is stored only with a round's
//! last page; when Graph forgets the delta state (410) a full round runs
//! again under the same key.
use crate::db::{Store, StoreError};
use crate::identity::{AccessToken, Identity, TokenError};
use crate::mail::graph::{GraphClient, GraphError};
use crate::mail::slots::MailboxSlots;
use app::model::inbox::AfterProcessing;
use chrono::{DateTime, Utc};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

#[derive(Debug, Clone)]
pub struct InboxConfig {
    /// How often due mailboxes are looked for (Sync now wakes it at once).
    pub tick: Duration,
    /// Longer than the slowest page (a page plus its attachments).
    pub lease: chrono::Duration,
    /// After-processing actions applied per batch (the lease is renewed between batches).
    pub action_batch: u64,
    /// Full resyncs allowed in one run, so a Graph that keeps answering 410
    /// cannot keep a worker busy forever.
    pub max_resyncs: u32,
    /// Bytes of bodies and attachments a page may gather before what it has
    /// is committed (the page's link moves only with its last part): a page
    /// of large mails holds about this much, not fifty messages' worth.
    pub page_bytes: usize,
    /// Where Microsoft posts change notifications; `None` when this
    /// deployment cannot receive them (its public URL is not https), and
    /// every mailbox polls only.
    pub notification_url: Option<String>,
}

impl Default for InboxConfig {
    fn default() -> Self {
        Self {
            tick: Duration::from_secs(5),
            lease: chrono::Duration::minutes(5),
            action_batch: 200,
            max_resyncs: 2,
            page_bytes: 32 * 1024 * 1024,
            notification_url: None,
        }
    }
}

/// How one sync of one mailbox ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncOutcome {
    /// A round completed: this many new messages, over this many pages.
    Synced {
        new: usize,
        pages: usize,
    },
    /// Another sync holds the mailbox, or it no longer exists.
    Skipped,
    /// Graph asked us to slow down; the next poll continues where this stopped.
    Busy(String),
    /// The mailbox needs re-authentication (or is not connected).
    Waiting(String),
    Failed(String),
    /// Our lease ran out and another sync took over.
    LostLease,
}

impl SyncOutcome {
    fn error(&self) -> Option<String> {
        match self {
            SyncOutcome::Synced { .. } | SyncOutcome::Skipped | SyncOutcome::LostLease => None,
            SyncOutcome::Busy(why) | SyncOutcome::Waiting(why) | SyncOutcome::Failed(why) => {
                Some(why.clone())
            }
        }
    }
}

/// Mail clocks are Exchange's, not ours, and `receivedDateTime` has whole
/// seconds: "from now" starts a little earlier, so a message that arrives as
/// receiving starts is not lost to a few seconds of clock difference.
const CLOCK_ALLOWANCE_SECONDS: i64 = 60;

fn default_start(now: DateTime<Utc>) -> DateTime<Utc> {
    let whole = DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now);
    whole - chrono::Duration::seconds(CLOCK_ALLOWANCE_SECONDS)
}

/// Where the next delta page comes from.
pub(super) enum Link {
    /// A full round from the start (first sync, or after a reset).
    Start,
    /// A new round of changes.
    Delta(String),
    /// The rest of the round in progress.
    Next(String),
}

pub struct Inbox {
    pub(super) store: Store,
    identity: Arc<Identity>,
    pub(super) graph: GraphClient,
    slots: Arc<MailboxSlots>,
    wake: Arc<Notify>,
    pub(super) config: InboxConfig,
    stored_total: std::sync::atomic::AtomicU64,
}

/// A storage failure ends this sync; the next poll starts again.
impl From<StoreError> for SyncOutcome {
    fn from(e: StoreError) -> Self {
        SyncOutcome::Failed(format!("database: {e}"))
    }
}

impl Inbox {
    pub fn new(
        store: Store,
        identity: Arc<Identity>,
        graph: GraphClient,
        slots: Arc<MailboxSlots>,
        wake: Arc<Notify>,
        config: InboxConfig,
    ) -> Self {
        Self {
            store,
            identity,
            graph,
            slots,
            wake,
            config,
            stored_total: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Messages this instance has stored since it started.
    pub fn stored_total(&self) -> u64 {
        self.stored_total.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Syncs every due mailbox once, concurrently; returns each outcome.
    pub async fn run_once(self: &Arc<Self>) -> Vec<(String, SyncOutcome)> {
        let due = match self.store.inbox().due().await {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(error = %e, "inbox: cannot list due mailboxes");
                return Vec::new();
            }
        };
        let mut tasks = tokio::task::JoinSet::new();
        for m in due {
            let this = self.clone();
            tasks.spawn(async move {
                let outcome = this.sync_mailbox(&m.tenant_email_id).await;
                (m.tenant_email_id, outcome)
            });
        }
        crate::mail::outcomes(tasks, "inbox: a sync").await
    }

    /// Runs until the process ends: every tick (or at once on Sync now),
    /// starts a sync for each due mailbox not already being synced here.
    pub fn spawn(self: Arc<Self>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut tasks = tokio::task::JoinSet::new();
            let running = Arc::new(std::sync::Mutex::new(HashSet::<String>::new()));
            loop {
                while let Some(done) = tasks.try_join_next() {
                    if let Err(e) = done {
                        tracing::error!(error = %e, "inbox: a sync task panicked");
                    }
                }
                match self.store.inbox().due().await {
                    Ok(due) => {
                        for m in due {
                            let id = m.tenant_email_id;
                            let fresh = running.lock().map(|mut r| r.insert(id.clone()));
                            if !matches!(fresh, Ok(true)) {
                                continue;
                            }
                            let this = self.clone();
                            let running = running.clone();
                            tasks.spawn(async move {
                                this.sync_mailbox(&id).await;
                                if let Ok(mut r) = running.lock() {
                                    r.remove(&id);
                                }
                            });
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "inbox: cannot list due mailboxes"),
                }
                let _ = tokio::time::timeout(self.config.tick, self.wake.notified()).await;
            }
        })
    }

    /// One sync of one mailbox: its delta pages, then its pending actions.
    pub async fn sync_mailbox(self: &Arc<Self>, tenant_email_id: &str) -> SyncOutcome {
        let email = match self.store.tenant_emails().get(tenant_email_id).await {
            Ok(Some(e)) => e,
            Ok(None) => return SyncOutcome::Skipped,
            Err(e) => return e.into(),
        };
        let receiving = &email.settings.receiving;
        let owner = uuid::Uuid::new_v4().to_string();
        let wanted_since = receiving
            .import_since
            .unwrap_or_else(|| default_start(self.store.now()));
        let state = match self
            .store
            .inbox()
            .claim(
                tenant_email_id,
                &receiving.folder,
                wanted_since,
                &owner,
                self.config.lease,
            )
            .await
        {
            Ok(Some(s)) => s,
            Ok(None) => return SyncOutcome::Skipped,
            Err(e) => return e.into(),
        };
        // Holding the lease now, no other sync of this mailbox can commit:
        // blobs no attachment points to were left by one that stopped.
        match self
            .store
            .inbox()
            .sweep_blobs(tenant_email_id, self.config.lease)
            .await
        {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                tenant_email_id,
                blobs = n,
                "inbox: swept unfinished attachment downloads"
            ),
            Err(e) => {
                tracing::warn!(tenant_email_id, error = %e, "inbox: cannot sweep unfinished attachment downloads")
            }
        }
        // Cleared "import since" keeps the start already in use.
        let since = receiving.import_since.unwrap_or(state.since);
        let mut link = match (&state.next_link, &state.delta_link) {
            (Some(next), _) => Link::Next(next.clone()),
            (None, Some(delta)) => Link::Delta(delta.clone()),
            (None, None) => Link::Start,
        };
        if state.folder != receiving.folder || state.since != since {
            // Another folder, or an earlier start: a full round. Nothing already
            // stored is stored again.
            let reset = self
                .store
                .inbox()
                .start_over(tenant_email_id, &owner, &receiving.folder, since)
                .await;
            if let Err(e) = reset {
                return self.finish(tenant_email_id, &owner, e.into()).await;
            }
            link = Link::Start;
        }
        let after = receiving.after;
        let mut outcome = self.rounds(&email, &owner, link, since, after).await;
        if matches!(outcome, SyncOutcome::Synced { .. }) && after != AfterProcessing::Leave {
            if let Some(problem) = self.apply_actions(&email, &owner, after).await {
                outcome = problem;
            }
        }
        if let SyncOutcome::Synced { new, .. } = outcome {
            self.stored_total
                .fetch_add(new as u64, std::sync::atomic::Ordering::Relaxed);
            // Still holding the lease: the subscription, if wanted, is kept
            // by one instance at a time.
            if let Ok(token) = self.token(tenant_email_id).await {
                self.keep_subscription(&email, &token).await;
            }
        }
        self.finish(tenant_email_id, &owner, outcome).await
    }

    async fn finish(
        &self,
        tenant_email_id: &str,
        owner: &str,
        outcome: SyncOutcome,
    ) -> SyncOutcome {
        if outcome == SyncOutcome::LostLease {
            return outcome;
        }
        let error = outcome.error();
        if let Some(why) = &error {
            tracing::info!(tenant_email_id, reason = %why, "inbox: sync stopped early");
        }
        let released = self
            .store
            .inbox()
            .release(tenant_email_id, owner, error.as_deref())
            .await;
        if let Err(e) = released {
            tracing::warn!(tenant_email_id, error = %e, "inbox: cannot release the sync lease; it will expire");
        }
        outcome
    }

    pub(super) async fn token(&self, tenant_email_id: &str) -> Result<AccessToken, SyncOutcome> {
        match self.identity.access_token(tenant_email_id).await {
            Ok(t) => Ok(t),
            Err(TokenError::NeedsReauth(why)) | Err(TokenError::CredentialsInvalid(why)) => {
                Err(SyncOutcome::Waiting(why))
            }
            Err(TokenError::NotConnected) => Err(SyncOutcome::Waiting(
                "The mailbox is not connected yet: click Authenticate on its Tenant Email.".into(),
            )),
            Err(e) => Err(SyncOutcome::Failed(e.to_string())),
        }
    }

    pub(super) async fn graph_problem(&self, id: &str, e: GraphError) -> SyncOutcome {
        match e {
            GraphError::Busy { .. } => SyncOutcome::Busy(e.describe()),
            GraphError::Unauthorized { .. } => {
                // A refused token: get a new one before the next sync; a dead
                // grant shows up there and marks the mailbox.
                let cutoff = self.store.now() + chrono::Duration::hours(1);
                match self.identity.refresh_if_unused_since(id, cutoff).await {
                    Err(TokenError::NeedsReauth(why))
                    | Err(TokenError::CredentialsInvalid(why)) => SyncOutcome::Waiting(why),
                    _ => SyncOutcome::Failed(e.describe()),
                }
            }
            _ => SyncOutcome::Failed(e.describe()),
        }
    }

    pub(super) async fn call<'a, T, F, Fut>(&'a self, mailbox: &str, f: F) -> Result<T, GraphError>
    where
        F: FnOnce(&'a GraphClient) -> Fut,
        Fut: std::future::Future<Output = Result<T, GraphError>>,
    {
        self.slots.run(mailbox, f(&self.graph)).await
    }

    /// Sync now: wake the loop so due mailboxes start at once.
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}
