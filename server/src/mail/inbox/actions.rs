//! The after-processing action (mark read, move) for stored messages still
//! waiting for it, in batches, under the sync lease.
use super::sync::{Inbox, SyncOutcome};
use crate::db::tenant_emails::TenantEmail;
use crate::mail::graph::GraphError;
use app::model::inbox::{ActionState, AfterProcessing};
use std::sync::Arc;

impl Inbox {
    /// Applies the after-processing action to stored messages still waiting
    /// for it. Returns why it stopped early, if it did.
    pub(super) async fn apply_actions(
        self: &Arc<Self>,
        email: &TenantEmail,
        owner: &str,
        after: AfterProcessing,
    ) -> Option<SyncOutcome> {
        let id = email.id.as_str();
        let destination = email
            .settings
            .receiving
            .move_to_folder
            .clone()
            .unwrap_or_default();
        loop {
            let pending = self
                .store
                .inbox()
                .pending_actions(id, self.config.action_batch)
                .await;
            let pending = match pending {
                Ok(p) if p.is_empty() => return None,
                Ok(p) => p,
                Err(e) => return Some(e.into()),
            };
            // Only the lease holder acts; renewing it also proves we still are.
            match self.store.inbox().renew(id, owner, self.config.lease).await {
                Ok(true) => {}
                Ok(false) => return Some(SyncOutcome::LostLease),
                Err(e) => return Some(e.into()),
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
                    Ok(()) => self.store.inbox().action_outcome(&message_id, ActionState::Done, None).await,
                    Err(GraphError::Rejected { status: 404, .. }) => {
                        self.store.inbox().action_outcome(
                            &message_id,
                            ActionState::Failed,
                            Some("The message is no longer in the mailbox (deleted or moved by someone else)."),
                        )
                        .await
                    }
                    Err(e @ GraphError::Rejected { .. }) => {
                        self.store.inbox().action_outcome(
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
                    stop.get_or_insert(e.into());
                }
            }
            if stop.is_some() {
                return stop;
            }
        }
    }
}
