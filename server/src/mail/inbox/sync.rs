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
use super::store::{self, CommitError, Continue, NewMessage};
use crate::clock::Clock;
use crate::db::entities::tenant_email;
use crate::identity::tokens::TokenError;
use crate::identity::Identity;
use crate::mail::graph::{DeltaMessage, DeltaPage, GraphClient, GraphError};
use crate::mail::slots::MailboxSlots;
use app::model::inbox::{ActionState, AfterProcessing};
use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, EntityTrait};
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
}

impl Default for InboxConfig {
    fn default() -> Self {
        Self {
            tick: Duration::from_secs(5),
            lease: chrono::Duration::minutes(5),
            action_batch: 200,
            max_resyncs: 2,
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
enum Link {
    /// A full round from the start (first sync, or after a reset).
    Start,
    /// A new round of changes.
    Delta(String),
    /// The rest of the round in progress.
    Next(String),
}

pub struct Inbox {
    db: DatabaseConnection,
    identity: Arc<Identity>,
    graph: GraphClient,
    slots: Arc<MailboxSlots>,
    clock: Arc<dyn Clock>,
    wake: Arc<Notify>,
    config: InboxConfig,
    stored_total: std::sync::atomic::AtomicU64,
}

impl Inbox {
    pub fn new(
        db: DatabaseConnection,
        identity: Arc<Identity>,
        graph: GraphClient,
        slots: Arc<MailboxSlots>,
        clock: Arc<dyn Clock>,
        wake: Arc<Notify>,
        config: InboxConfig,
    ) -> Self {
        Self {
            db,
            identity,
            graph,
            slots,
            clock,
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
        let due = match store::due(&self.db, self.clock.now()).await {
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
                match store::due(&self.db, self.clock.now()).await {
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
        let email = match tenant_email::Entity::find_by_id(tenant_email_id.to_string())
            .one(&self.db)
            .await
        {
            Ok(Some(e)) => e,
            Ok(None) => return SyncOutcome::Skipped,
            Err(e) => return SyncOutcome::Failed(format!("database: {e}")),
        };
        let now = self.clock.now();
        let owner = uuid::Uuid::new_v4().to_string();
        let wanted_since = email.import_since.unwrap_or_else(|| default_start(now));
        let state = match store::claim(
            &self.db,
            tenant_email_id,
            &email.receive_folder,
            wanted_since,
            &owner,
            now,
            self.config.lease,
        )
        .await
        {
            Ok(Some(s)) => s,
            Ok(None) => return SyncOutcome::Skipped,
            Err(e) => return SyncOutcome::Failed(format!("database: {e}")),
        };
        // Cleared "import since" keeps the start already in use.
        let since = email.import_since.unwrap_or(state.since);
        let mut link = match (&state.next_link, &state.delta_link) {
            (Some(next), _) => Link::Next(next.clone()),
            (None, Some(delta)) => Link::Delta(delta.clone()),
            (None, None) => Link::Start,
        };
        if state.folder != email.receive_folder || state.since != since {
            // Another folder, or an earlier start: a full round. Nothing already
            // stored is stored again.
            if let Err(e) = store::start_over(
                &self.db,
                tenant_email_id,
                &owner,
                &email.receive_folder,
                since,
            )
            .await
            {
                return self
                    .finish(
                        tenant_email_id,
                        &owner,
                        SyncOutcome::Failed(format!("database: {e}")),
                    )
                    .await;
            }
            link = Link::Start;
        }
        let after =
            AfterProcessing::from_code(&email.after_processing).unwrap_or(AfterProcessing::Leave);
        let mut outcome = self.rounds(&email, &owner, link, since, after).await;
        if matches!(outcome, SyncOutcome::Synced { .. }) && after != AfterProcessing::Leave {
            if let Some(problem) = self.apply_actions(&email, &owner, after).await {
                outcome = problem;
            }
        }
        if let SyncOutcome::Synced { new, .. } = outcome {
            self.stored_total
                .fetch_add(new as u64, std::sync::atomic::Ordering::Relaxed);
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
        if let Err(e) = store::release(&self.db, tenant_email_id, owner, error.as_deref()).await {
            tracing::warn!(tenant_email_id, error = %e, "inbox: cannot release the sync lease; it will expire");
        }
        outcome
    }

    async fn token(&self, tenant_email_id: &str) -> Result<String, SyncOutcome> {
        match self.identity.access_token(tenant_email_id).await {
            Ok(t) => Ok(t.token),
            Err(TokenError::NeedsReauth(why)) | Err(TokenError::CredentialsInvalid(why)) => {
                Err(SyncOutcome::Waiting(why))
            }
            Err(TokenError::NotConnected) => Err(SyncOutcome::Waiting(
                "The mailbox is not connected yet: click Authenticate on its Tenant Email.".into(),
            )),
            Err(e) => Err(SyncOutcome::Failed(e.to_string())),
        }
    }

    /// Pages until a round completes (or something stops it).
    async fn rounds(
        &self,
        email: &tenant_email::Model,
        owner: &str,
        mut link: Link,
        since: DateTime<Utc>,
        after: AfterProcessing,
    ) -> SyncOutcome {
        let id = email.id.as_str();
        let (mut pages, mut new, mut resyncs) = (0usize, 0usize, 0u32);
        // The next page, fetched while the previous one was being committed.
        let mut prefetched: Option<Result<DeltaPage, GraphError>> = None;
        loop {
            let url = match link {
                Link::Start => match self.graph.delta_start(&email.receive_folder, since) {
                    Ok(u) => u,
                    Err(e) => return SyncOutcome::Failed(e.describe()),
                },
                Link::Delta(ref d) => d.clone(),
                Link::Next(ref n) => n.clone(),
            };
            if !matches!(link, Link::Next(_)) {
                if let Err(e) = store::round_started(&self.db, id, owner, self.clock.now()).await {
                    return SyncOutcome::Failed(format!("database: {e}"));
                }
            }
            let token = match self.token(id).await {
                Ok(t) => t,
                Err(outcome) => return outcome,
            };
            let fetched = match prefetched.take() {
                Some(page) => page,
                None => self.call(id, |g| g.delta_page(&token, &url)).await,
            };
            let page = match fetched {
                Ok(p) => p,
                Err(e) if e.is_sync_state_lost() && resyncs < self.config.max_resyncs => {
                    resyncs += 1;
                    tracing::info!(
                        tenant_email_id = id,
                        "inbox: Graph lost the delta state; full resync"
                    );
                    if let Err(e) =
                        store::start_over(&self.db, id, owner, &email.receive_folder, since).await
                    {
                        return SyncOutcome::Failed(format!("database: {e}"));
                    }
                    link = Link::Start;
                    continue;
                }
                Err(e) => return self.graph_problem(id, e).await,
            };
            let (messages, continue_at) = match self.prepare(id, &token, page, since).await {
                Ok(p) => p,
                Err(outcome) => return outcome,
            };
            let complete = matches!(continue_at.0, Continue::Delta(_));
            let next_link = match &continue_at.0 {
                Continue::Next(n) => Some(n.clone()),
                Continue::Delta(_) => None,
            };
            // Commit this page while the next one travels: Graph's latency
            // hides the durable commit. What is stored is the same either way;
            // a prefetched page whose commit failed is simply dropped.
            let commit = store::commit_page(
                &self.db,
                id,
                owner,
                after,
                messages,
                &continue_at.1,
                continue_at.0,
                self.clock.now(),
                self.config.lease,
            );
            let fetch_next = async {
                match (&next_link, complete) {
                    (Some(n), false) => Some(self.call(id, |g| g.delta_page(&token, n)).await),
                    _ => None,
                }
            };
            let (committed, next_page) = tokio::join!(commit, fetch_next);
            match committed {
                Ok(n) => new += n,
                Err(CommitError::LostLease) => return SyncOutcome::LostLease,
                Err(CommitError::Db(e)) => return SyncOutcome::Failed(format!("database: {e}")),
            }
            prefetched = next_page;
            pages += 1;
            match next_link {
                Some(n) if !complete => link = Link::Next(n),
                _ => return SyncOutcome::Synced { new, pages },
            }
        }
    }

    /// The page's messages worth storing (received since the start, not yet
    /// stored), with their attachments; and where to continue.
    async fn prepare(
        &self,
        id: &str,
        token: &str,
        page: DeltaPage,
        since: DateTime<Utc>,
    ) -> Result<(Vec<NewMessage>, (Continue, Vec<String>)), SyncOutcome> {
        let continue_at = match (page.next_link, page.delta_link) {
            (Some(n), _) => Continue::Next(n),
            (None, Some(d)) => Continue::Delta(d),
            (None, None) => {
                return Err(SyncOutcome::Failed(
                    "Graph's delta page had no link to continue from.".into(),
                ))
            }
        };
        let wanted: Vec<DeltaMessage> = page
            .messages
            .into_iter()
            .filter(|m| m.received_at >= since)
            .collect();
        let ids: Vec<String> = wanted.iter().map(|m| m.id.clone()).collect();
        let known = store::known_ids(&self.db, id, &ids)
            .await
            .map_err(|e| SyncOutcome::Failed(format!("database: {e}")))?;
        let mut out = Vec::new();
        for m in wanted {
            if known.contains(&m.id) {
                continue;
            }
            let attachments = if m.has_attachments {
                match self.call(id, |g| g.attachments(token, &m.id)).await {
                    Ok(a) => a,
                    // Gone between the page and now: store what the page said.
                    Err(GraphError::Rejected { status: 404, .. }) => Vec::new(),
                    Err(e) => return Err(self.graph_problem(id, e).await),
                }
            } else {
                Vec::new()
            };
            out.push(NewMessage {
                message: m,
                attachments,
            });
        }
        Ok((out, (continue_at, page.removed)))
    }

    async fn graph_problem(&self, id: &str, e: GraphError) -> SyncOutcome {
        match e {
            GraphError::Busy { .. } => SyncOutcome::Busy(e.describe()),
            GraphError::Unauthorized { .. } => {
                // A refused token: get a new one before the next sync; a dead
                // grant shows up there and marks the mailbox.
                let cutoff = self.clock.now() + chrono::Duration::hours(1);
                match self.identity.refresh_if_unused_since(id, cutoff).await {
                    Err(TokenError::NeedsReauth(why))
                    | Err(TokenError::CredentialsInvalid(why)) => SyncOutcome::Waiting(why),
                    _ => SyncOutcome::Failed(e.describe()),
                }
            }
            _ => SyncOutcome::Failed(e.describe()),
        }
    }

    /// Applies the after-processing action to stored messages still waiting
    /// for it. Returns why it stopped early, if it did.
    async fn apply_actions(
        self: &Arc<Self>,
        email: &tenant_email::Model,
        owner: &str,
        after: AfterProcessing,
    ) -> Option<SyncOutcome> {
        let id = email.id.as_str();
        let destination = email.move_to_folder.clone().unwrap_or_default();
        loop {
            let pending = match store::pending_actions(&self.db, id, self.config.action_batch).await
            {
                Ok(p) if p.is_empty() => return None,
                Ok(p) => p,
                Err(e) => return Some(SyncOutcome::Failed(format!("database: {e}"))),
            };
            // Only the lease holder acts; renewing it also proves we still are.
            match store::renew(&self.db, id, owner, self.clock.now(), self.config.lease).await {
                Ok(true) => {}
                Ok(false) => return Some(SyncOutcome::LostLease),
                Err(e) => return Some(SyncOutcome::Failed(format!("database: {e}"))),
            }
            let token = match self.token(id).await {
                Ok(t) => t,
                Err(outcome) => return Some(outcome),
            };
            let mut tasks = tokio::task::JoinSet::new();
            for (message_id, graph_id) in pending {
                let this = self.clone();
                let (token, destination, mailbox) =
                    (token.clone(), destination.clone(), id.to_string());
                tasks.spawn(async move {
                    let result = this
                        .call(&mailbox, |g| async move {
                            match after {
                                AfterProcessing::MarkRead => g.mark_read(&token, &graph_id).await,
                                AfterProcessing::Move => {
                                    g.move_message(&token, &graph_id, &destination).await
                                }
                                AfterProcessing::Leave => Ok(()),
                            }
                        })
                        .await;
                    (message_id, result)
                });
            }
            let mut stop = None;
            while let Some(joined) = tasks.join_next().await {
                let Ok((message_id, result)) = joined else {
                    continue;
                };
                let recorded = match result {
                    Ok(()) => store::action_outcome(&self.db, &message_id, ActionState::Done, None).await,
                    Err(GraphError::Rejected { status: 404, .. }) => {
                        store::action_outcome(
                            &self.db,
                            &message_id,
                            ActionState::Failed,
                            Some("The message is no longer in the mailbox (deleted or moved by someone else)."),
                        )
                        .await
                    }
                    Err(e @ GraphError::Rejected { .. }) => {
                        store::action_outcome(
                            &self.db,
                            &message_id,
                            ActionState::Failed,
                            Some(&e.describe()),
                        )
                        .await
                    }
                    // Temporary: left pending for the next sync.
                    Err(e) => {
                        stop.get_or_insert(self.graph_problem(id, e).await);
                        Ok(())
                    }
                };
                if let Err(e) = recorded {
                    stop.get_or_insert(SyncOutcome::Failed(format!("database: {e}")));
                }
            }
            if stop.is_some() {
                return stop;
            }
        }
    }

    async fn call<'a, T, F, Fut>(&'a self, mailbox: &str, f: F) -> Result<T, GraphError>
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
