//! Sending: claim due messages, then for each one draft → remember the draft
//! id → send. Whenever a message comes back with a draft id (a retry, a crash,
//! an ambiguous answer) the draft is looked up first: already sent → done,
//! still a draft → send it. So a message is sent at most once by Tenant Mail;
//! a crash between creating a draft and storing its id leaves an unsent
//! draft in the mailbox, never a second copy at the recipient.
use super::group_commit::GroupCommit;
use super::store;
use crate::clock::Clock;
use crate::db::entities::outbox_message;
use crate::identity::tokens::TokenError;
use crate::identity::Identity;
use crate::mail::graph::{backoff, DraftState, GraphClient, GraphError, PreparedAttachment};
use crate::mail::slots::MailboxSlots;
use app::model::mail::{OutboxState, OutgoingMessage};
use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

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
    db: DatabaseConnection,
    identity: Arc<Identity>,
    graph: GraphClient,
    slots: Arc<MailboxSlots>,
    clock: Arc<dyn Clock>,
    wake: Arc<Notify>,
    config: OutboxConfig,
    /// "Draft recorded" and "sent" share commits under load.
    commits: GroupCommit,
    recent_tokens: RecentTokens,
    sent_total: std::sync::atomic::AtomicU64,
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

/// Access tokens looked up in the last moments, per mailbox. A burst of
/// messages for one mailbox would otherwise read and decrypt the same token
/// once per message. Kept for two seconds only, so a mailbox that needs
/// re-authentication, or was re-pointed, is noticed as quickly as before (a
/// token is always read just before the calls that use it anyway); dropped
/// at once when Graph refuses it.
#[derive(Default)]
struct RecentTokens(std::sync::Mutex<std::collections::HashMap<String, RecentToken>>);

/// The token, when it was read, and when Microsoft said it expires.
type RecentToken = (String, std::time::Instant, DateTime<Utc>);

const RECENT_TOKEN_TTL: Duration = Duration::from_secs(2);

impl RecentTokens {
    fn get(&self, mailbox: &str) -> Option<String> {
        let map = self.0.lock().ok()?;
        let (token, at, expires_at) = map.get(mailbox)?;
        let fresh = at.elapsed() < RECENT_TOKEN_TTL
            && *expires_at - chrono::Duration::minutes(1) > Utc::now();
        fresh.then(|| token.clone())
    }
    fn put(&self, mailbox: &str, token: &crate::identity::tokens::AccessToken) {
        if let Ok(mut map) = self.0.lock() {
            map.insert(
                mailbox.to_string(),
                (
                    token.token.clone(),
                    std::time::Instant::now(),
                    token.expires_at,
                ),
            );
        }
    }
    fn forget(&self, mailbox: &str) {
        if let Ok(mut map) = self.0.lock() {
            map.remove(mailbox);
        }
    }
}

/// The lease the message was claimed under (every state change names it).
fn lease_of(m: &outbox_message::Model) -> &str {
    m.lease_owner.as_deref().unwrap_or_default()
}

impl Outbox {
    pub fn new(
        db: DatabaseConnection,
        identity: Arc<Identity>,
        graph: GraphClient,
        slots: Arc<MailboxSlots>,
        clock: Arc<dyn Clock>,
        wake: Arc<Notify>,
        config: OutboxConfig,
    ) -> Self {
        Self {
            commits: GroupCommit::start(db.clone()),
            recent_tokens: RecentTokens::default(),
            db,
            identity,
            graph,
            slots,
            clock,
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
        let now = self.clock.now();
        let claimed = match store::claim(
            &self.db,
            &self.claim_token(),
            now,
            self.config.lease,
            self.config.batch,
        )
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
            loop {
                let room = self.config.max_in_flight.saturating_sub(tasks.len());
                if room > 0 && tokio::time::Instant::now() >= next_claim {
                    let limit = (room as u64).min(self.config.batch);
                    let now = self.clock.now();
                    let drained = match store::claim(
                        &self.db,
                        &self.claim_token(),
                        now,
                        self.config.lease,
                        limit,
                    )
                    .await
                    {
                        Ok(claimed) => {
                            let short = (claimed.len() as u64) < limit;
                            for m in claimed {
                                let this = self.clone();
                                tasks.spawn(async move { this.process(m).await });
                            }
                            short
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "outbox: cannot claim messages");
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
                    }
                    _ = self.wake.notified() => next_claim = tokio::time::Instant::now(),
                    _ = tokio::time::sleep_until(next_claim) => {}
                }
            }
        })
    }

    async fn process(&self, m: outbox_message::Model) -> Outcome {
        fail::fail_point!("outbox::claimed", |_| crate::failpoints::stop_here(
            "outbox::claimed"
        ));
        let now = self.clock.now();
        if now - m.created_at > self.config.max_age {
            // Before giving up, make sure it did not go out after all.
            if let Some(id) = &m.graph_message_id {
                if let Ok(token) = self.identity.access_token(&m.tenant_email_id).await {
                    if let Ok(DraftState::Sent) =
                        self.call(&m, |g| g.draft_state(&token.token, id)).await
                    {
                        return self.sent(&m).await;
                    }
                }
            }
            let reason = format!(
                "Not sent within {} hours{}.",
                self.config.max_age.num_hours(),
                m.last_error
                    .as_deref()
                    .map(|e| format!(" (last problem: {e})"))
                    .unwrap_or_default()
            );
            return self.finish(&m, OutboxState::Failed, &reason).await;
        }
        let token = match self.token(&m.tenant_email_id).await {
            Ok(t) => t,
            Err(TokenError::NeedsReauth(why)) | Err(TokenError::CredentialsInvalid(why)) => {
                return self.finish(&m, OutboxState::Held, &why).await;
            }
            Err(TokenError::NotConnected) => {
                return self
                    .finish(
                        &m,
                        OutboxState::Held,
                        "The mailbox is not connected yet: click Authenticate on its Tenant Email.",
                    )
                    .await;
            }
            Err(e) => return self.retry(&m, None, &e.to_string()).await,
        };

        let draft_id = match &m.graph_message_id {
            // Seen before: find out whether it already went out.
            Some(id) => match self.call(&m, |g| g.draft_state(&token, id)).await {
                Ok(DraftState::Sent) => return self.sent(&m).await,
                Ok(DraftState::Draft) => id.clone(),
                Ok(DraftState::Missing) => return self.draft_vanished(&m).await,
                Err(e) => return self.graph_error(&m, &e).await,
            },
            None => match self.create_draft(&m, &token).await {
                Ok(id) => id,
                Err(outcome) => return outcome,
            },
        };

        fail::fail_point!("outbox::before_send", |_| {
            crate::failpoints::stop_here("outbox::before_send")
        });
        match self.call(&m, |g| g.send_draft(&token, &draft_id)).await {
            Ok(()) => self.sent(&m).await,
            Err(GraphError::Ambiguous(why)) => {
                // It may have gone out: ask before doing anything else.
                match self.call(&m, |g| g.draft_state(&token, &draft_id)).await {
                    Ok(DraftState::Sent) => self.sent(&m).await,
                    _ => {
                        self.retry(
                            &m,
                            None,
                            &format!("Sending was interrupted ({why}); checking again shortly."),
                        )
                        .await
                    }
                }
            }
            // A 404 on send: another worker that took over a stalled lease may
            // have sent it already. Ask before calling it a failure.
            Err(e @ GraphError::Rejected { status: 404, .. }) => {
                match self.call(&m, |g| g.draft_state(&token, &draft_id)).await {
                    Ok(DraftState::Sent) => self.sent(&m).await,
                    Ok(DraftState::Missing) => self.draft_vanished(&m).await,
                    _ => self.graph_error(&m, &e).await,
                }
            }
            Err(e) => self.graph_error(&m, &e).await,
        }
    }

    async fn draft_vanished(&self, m: &outbox_message::Model) -> Outcome {
        let why = "The draft disappeared from the mailbox before Tenant Mail saw it sent (deleted in Outlook, or sent and then deleted from Sent Items). Retry sends a new copy.";
        match store::fail_and_forget_draft(&self.db, &m.id, lease_of(m), why, self.clock.now())
            .await
        {
            Ok(true) => Outcome::Failed,
            Ok(false) => Outcome::LostLease,
            Err(e) => {
                tracing::warn!(outbox_id = %m.id, error = %e, "outbox: cannot record the outcome; the lease will expire");
                Outcome::Retrying
            }
        }
    }

    async fn create_draft(
        &self,
        m: &outbox_message::Model,
        token: &str,
    ) -> Result<String, Outcome> {
        let message: OutgoingMessage = match serde_json::from_str(&m.message) {
            Ok(msg) => msg,
            Err(e) => {
                return Err(self
                    .finish(
                        m,
                        OutboxState::Failed,
                        &format!("The stored message is unreadable ({e})."),
                    )
                    .await)
            }
        };
        // Most messages have none: skip the query then.
        let stored = if message.attachments.is_empty() {
            Ok(Vec::new())
        } else {
            store::attachments(&self.db, &m.id).await
        };
        let attachments = match stored {
            Ok(list) => list
                .into_iter()
                .map(|a| PreparedAttachment {
                    name: a.name,
                    content_type: a.content_type,
                    bytes: a.content,
                })
                .collect::<Vec<_>>(),
            Err(e) => return Err(self.retry(m, None, &format!("database: {e}")).await),
        };
        // Claimed before: an earlier attempt may have made a draft and died
        // before recording it. Such a draft was never sent; delete it, so
        // the mailbox's Drafts folder is left as the admin knows it.
        if m.attempts > 1 {
            self.delete_orphan_drafts(m, token).await;
        }
        match self
            .call(m, |g| g.create_draft(token, &message, &attachments, &m.id))
            .await
        {
            Ok(id) => {
                fail::fail_point!("outbox::after_draft", |_| {
                    crate::failpoints::stop_here("outbox::after_draft")
                });
                match self
                    .commits
                    .record_draft(&m.id, lease_of(m), &id, self.clock.now())
                    .await
                {
                    Ok(true) => Ok(id),
                    Ok(false) => Err(Outcome::LostLease),
                    // The draft exists but we could not remember it: an unsent
                    // draft stays behind; the next attempt makes a new one.
                    Err(e) => Err(self.retry(m, None, &format!("database: {e}")).await),
                }
            }
            Err(e) => Err(self.graph_error(m, &e).await),
        }
    }

    /// Best effort: a failed lookup or delete leaves an unsent draft behind,
    /// which is untidy but can never become a second mail, so it must not
    /// hold up sending.
    async fn delete_orphan_drafts(&self, m: &outbox_message::Model, token: &str) {
        match self.call(m, |g| g.tagged_drafts(token, &m.id)).await {
            Ok(orphans) => {
                for id in orphans {
                    self.call(m, |g| async move {
                        g.discard(token, &id).await;
                        Ok::<(), GraphError>(())
                    })
                    .await
                    .ok();
                    tracing::info!(outbox_id = %m.id, "outbox: deleted the unsent draft of an interrupted attempt");
                }
            }
            Err(e) => {
                tracing::warn!(outbox_id = %m.id, error = %e.describe(), "outbox: cannot look for drafts of an interrupted attempt");
            }
        }
    }

    /// The mailbox's access token. Messages of one mailbox that go out
    /// together share one lookup (see [`RecentTokens`]).
    async fn token(&self, tenant_email_id: &str) -> Result<String, TokenError> {
        if let Some(token) = self.recent_tokens.get(tenant_email_id) {
            return Ok(token);
        }
        let token = self.identity.access_token(tenant_email_id).await?;
        self.recent_tokens.put(tenant_email_id, &token);
        Ok(token.token)
    }

    /// One Graph request inside one of the mailbox's four slots.
    async fn call<'a, T, F, Fut>(&'a self, m: &outbox_message::Model, f: F) -> Result<T, GraphError>
    where
        F: FnOnce(&'a GraphClient) -> Fut,
        Fut: std::future::Future<Output = Result<T, GraphError>>,
    {
        self.slots.run(&m.tenant_email_id, f(&self.graph)).await
    }

    async fn graph_error(&self, m: &outbox_message::Model, e: &GraphError) -> Outcome {
        match e {
            GraphError::Busy { retry_after, .. } => {
                self.retry(m, *retry_after, &e.describe()).await
            }
            GraphError::Ambiguous(_) | GraphError::Unreachable(_) | GraphError::Internal(_) => {
                self.retry(m, None, &e.describe()).await
            }
            GraphError::Unauthorized { .. } => {
                self.recent_tokens.forget(&m.tenant_email_id);
                // The access token was refused early (revoked, rotated keys):
                // get a new one before the next attempt; a dead grant shows up there.
                let cutoff = self.clock.now() + chrono::Duration::hours(1);
                match self
                    .identity
                    .refresh_if_unused_since(&m.tenant_email_id, cutoff)
                    .await
                {
                    Err(TokenError::NeedsReauth(why))
                    | Err(TokenError::CredentialsInvalid(why)) => {
                        self.finish(m, OutboxState::Held, &why).await
                    }
                    _ => self.retry(m, None, &e.describe()).await,
                }
            }
            GraphError::Rejected { .. } => self.finish(m, OutboxState::Failed, &e.describe()).await,
        }
    }

    async fn sent(&self, m: &outbox_message::Model) -> Outcome {
        fail::fail_point!("outbox::after_send", |_| crate::failpoints::stop_here(
            "outbox::after_send"
        ));
        match self
            .commits
            .mark_sent(&m.id, lease_of(m), self.clock.now())
            .await
        {
            Ok(true) => {
                self.sent_total
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tracing::info!(outbox_id = %m.id, tenant_email_id = %m.tenant_email_id, attempts = m.attempts, "outbox: sent");
                Outcome::Sent
            }
            Ok(false) => Outcome::LostLease,
            Err(e) => {
                // Sent, but not recorded: the next claim looks the draft up and records it.
                tracing::warn!(outbox_id = %m.id, error = %e, "outbox: sent but not recorded yet");
                Outcome::Retrying
            }
        }
    }

    async fn finish(&self, m: &outbox_message::Model, state: OutboxState, why: &str) -> Outcome {
        match store::finish(&self.db, &m.id, lease_of(m), state, why, self.clock.now()).await {
            Ok(true) => {
                tracing::info!(outbox_id = %m.id, state = state.code(), reason = %why, "outbox: message {}", state.code());
                match state {
                    OutboxState::Held => Outcome::Held,
                    _ => Outcome::Failed,
                }
            }
            Ok(false) => Outcome::LostLease,
            Err(e) => {
                tracing::warn!(outbox_id = %m.id, error = %e, "outbox: cannot record the outcome; the lease will expire and it is retried");
                Outcome::Retrying
            }
        }
    }

    async fn retry(
        &self,
        m: &outbox_message::Model,
        after: Option<Duration>,
        why: &str,
    ) -> Outcome {
        let wait = after.unwrap_or_else(|| {
            backoff(
                m.attempts.max(1) as u32 - 1,
                self.config.backoff_base,
                self.config.backoff_cap,
                &mut rand::thread_rng(),
            )
        });
        let now = self.clock.now();
        let due: DateTime<Utc> =
            now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::zero());
        match store::reschedule(&self.db, &m.id, lease_of(m), due, why, now).await {
            Ok(true) => Outcome::Retrying,
            Ok(false) => Outcome::LostLease,
            Err(e) => {
                tracing::warn!(outbox_id = %m.id, error = %e, "outbox: cannot reschedule; the lease will expire");
                Outcome::Retrying
            }
        }
    }
}
