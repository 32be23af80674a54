//! One message's way out: the access token, the draft (found again if it
//! exists already), the send, and what is recorded after each step. See
//! [`super::worker`] for why this sends a message at most once.
use super::worker::{Outbox, Outcome};
use crate::db::outbox::{OutboxMessage, Release};
use crate::identity::{AccessToken, TokenError};
use crate::mail::graph::{
    backoff, DraftState, GraphClient, GraphError, PreparedAttachment, ORIGINAL_GONE,
};
use app::model::mail::{OutboxState, OutgoingMessage};
use std::time::Duration;

impl Outbox {
    pub(super) async fn process(&self, m: OutboxMessage) -> Outcome {
        fail::fail_point!("outbox::claimed", |_| crate::failpoints::stop_here(
            "outbox::claimed"
        ));
        let now = self.store.now();
        if now - m.created_at > self.config.max_age {
            // Before giving up, make sure it did not go out after all.
            if let Some(id) = &m.graph_message_id {
                if let Ok(token) = self.identity.access_token(&m.tenant_email_id).await {
                    if let Ok(DraftState::Sent) = self.call(&m, |g| g.draft_state(&token, id)).await
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

    async fn draft_vanished(&self, m: &OutboxMessage) -> Outcome {
        let why = "The draft disappeared from the mailbox before Tenant Mail saw it sent (deleted in Outlook, or sent and then deleted from Sent Items). Retry sends a new copy.";
        match self
            .store
            .outbox()
            .release(m, Release::DraftVanished { why })
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
        m: &OutboxMessage,
        token: &AccessToken,
    ) -> Result<String, Outcome> {
        let message = match m.message() {
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
            self.store.outbox().attachments(&m.id).await
        };
        let attachments = match stored {
            Ok(list) => list
                .into_iter()
                .map(|a| PreparedAttachment {
                    name: a.name,
                    content_type: a.content_type,
                    bytes: a.bytes,
                })
                .collect::<Vec<_>>(),
            Err(e) => return Err(self.retry(m, None, &format!("database: {e}")).await),
        };
        // Claimed before: an earlier attempt may have made a draft and died
        // before recording it. Such a draft was never sent; delete it, so
        // the mailbox's Drafts folder is left as the admin knows it.
        if m.attempts > 1 {
            if let Err(e @ GraphError::Busy { .. }) = self.delete_orphan_drafts(m, token).await {
                // Throttled: a new draft now would be refused too, and the
                // old one would stay behind. Look again on the next attempt.
                return Err(self.graph_error(m, &e).await);
            }
        }
        let original = match self.original(m, &message).await {
            Ok(original) => original,
            Err(outcome) => return Err(outcome),
        };
        match self
            .call(m, |g| {
                g.create_draft(token, &message, &attachments, &m.id, original.as_deref())
            })
            .await
        {
            Ok(id) => {
                fail::fail_point!("outbox::after_draft", |_| {
                    crate::failpoints::stop_here("outbox::after_draft")
                });
                match self.commits.record_draft(m, &id).await {
                    Ok(true) => Ok(id),
                    Ok(false) => {
                        // Our lease ran out while Graph made the draft; the
                        // new owner may already have looked for orphans and
                        // made its own. Nobody can ever record this one (a
                        // draft id is recorded only by the attempt that made
                        // it), so it goes now instead of staying in Drafts.
                        self.call(m, |g| async move {
                            g.discard(token, &id).await;
                            Ok::<(), GraphError>(())
                        })
                        .await
                        .ok();
                        Err(Outcome::LostLease)
                    }
                    // The draft exists but we could not remember it: an unsent
                    // draft stays behind; the next attempt makes a new one.
                    Err(e) => Err(self.retry(m, None, &format!("database: {e}")).await),
                }
            }
            // The original is gone at Microsoft: no retry can bring it back.
            Err(GraphError::Rejected { code, .. }) if code == ORIGINAL_GONE => Err(self
                .finish(
                    m,
                    OutboxState::Failed,
                    "The message it answers or forwards is no longer in the mailbox (deleted in Outlook, or emptied from Deleted Items).",
                )
                .await),
            Err(e) => Err(self.graph_error(m, &e).await),
        }
    }

    /// The Graph id of the received message a reply or forward is made from.
    async fn original(
        &self,
        m: &OutboxMessage,
        message: &OutgoingMessage,
    ) -> Result<Option<String>, Outcome> {
        let Some((_, received_id)) = message.origin() else {
            return Ok(None);
        };
        match self
            .store
            .inbox()
            .graph_id(&m.tenant_email_id, received_id)
            .await
        {
            Ok(Some(id)) => Ok(Some(id)),
            Ok(None) => Err(self
                .finish(
                    m,
                    OutboxState::Failed,
                    "The received message it answers or forwards is no longer in Tenant Mail.",
                )
                .await),
            Err(e) => Err(self.retry(m, None, &format!("database: {e}")).await),
        }
    }

    /// Deletes the drafts of earlier attempts that died before recording
    /// them. A failed lookup or delete leaves an unsent draft behind, which
    /// is untidy but can never become a second mail: only Graph being busy
    /// stops the attempt (the caller retries later, when it looks again).
    async fn delete_orphan_drafts(
        &self,
        m: &OutboxMessage,
        token: &AccessToken,
    ) -> Result<(), GraphError> {
        let orphans = match self.call(m, |g| g.tagged_drafts(token, &m.id)).await {
            Ok(orphans) => orphans,
            Err(e) => {
                tracing::warn!(outbox_id = %m.id, error = %e.describe(), "outbox: cannot look for drafts of an interrupted attempt");
                return Err(e);
            }
        };
        for id in orphans {
            match self.call(m, |g| g.delete_message(token, &id)).await {
                Ok(()) => {
                    tracing::info!(outbox_id = %m.id, "outbox: deleted the unsent draft of an interrupted attempt");
                }
                Err(e) => {
                    tracing::warn!(outbox_id = %m.id, error = %e.describe(), "outbox: cannot delete the draft of an interrupted attempt");
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    /// The mailbox's access token. Messages of one mailbox that go out
    /// together share one lookup (see [`RecentTokens`]).
    async fn token(&self, tenant_email_id: &str) -> Result<AccessToken, TokenError> {
        if let Some(token) = self.recent_tokens.get(tenant_email_id) {
            return Ok(token);
        }
        let token = self.identity.access_token(tenant_email_id).await?;
        self.recent_tokens.put(tenant_email_id, &token);
        Ok(token)
    }

    /// One Graph request inside one of the mailbox's four slots.
    async fn call<'a, T, F, Fut>(&'a self, m: &OutboxMessage, f: F) -> Result<T, GraphError>
    where
        F: FnOnce(&'a GraphClient) -> Fut,
        Fut: std::future::Future<Output = Result<T, GraphError>>,
    {
        self.slots.run(&m.tenant_email_id, f(&self.graph)).await
    }

    async fn graph_error(&self, m: &OutboxMessage, e: &GraphError) -> Outcome {
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
                let cutoff = self.store.now() + chrono::Duration::hours(1);
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

    async fn sent(&self, m: &OutboxMessage) -> Outcome {
        fail::fail_point!("outbox::after_send", |_| crate::failpoints::stop_here(
            "outbox::after_send"
        ));
        match self.commits.mark_sent(m).await {
            Ok(true) => {
                self.sent_total
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let queued_for = (self.store.now() - m.created_at)
                    .to_std()
                    .unwrap_or_default();
                crate::telemetry::message_sent(queued_for);
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

    async fn finish(&self, m: &OutboxMessage, state: OutboxState, why: &str) -> Outcome {
        match self
            .store
            .outbox()
            .release(m, Release::Finish { state, why })
            .await
        {
            Ok(true) => {
                tracing::info!(outbox_id = %m.id, state = state.code(), reason = %why, "outbox: message {}", state.code());
                crate::telemetry::message_stopped(match state {
                    OutboxState::Held => "held",
                    _ => "failed",
                });
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

    async fn retry(&self, m: &OutboxMessage, after: Option<Duration>, why: &str) -> Outcome {
        let wait = after.unwrap_or_else(|| {
            backoff(
                m.attempts.max(1) as u32 - 1,
                self.config.backoff_base,
                self.config.backoff_cap,
                &mut rand::thread_rng(),
            )
        });
        let at =
            self.store.now() + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::zero());
        match self
            .store
            .outbox()
            .release(m, Release::Retry { at, why })
            .await
        {
            Ok(true) => Outcome::Retrying,
            Ok(false) => Outcome::LostLease,
            Err(e) => {
                tracing::warn!(outbox_id = %m.id, error = %e, "outbox: cannot reschedule; the lease will expire");
                Outcome::Retrying
            }
        }
    }
}
