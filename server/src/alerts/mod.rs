//! Alerts: nobody has to be looking at a screen to learn that mail stopped.
//!
//! Each round the engine reads every mailbox's facts, judges which
//! conditions it is in ([`conditions`]), and records what began, changed or
//! cleared — with a delivery per destination — in the same transaction
//! (`db::alerts`). Then it delivers what is due, a digest per destination:
//! a signed webhook ([`webhook`]) or a mail through the outbox ([`email`]).
//! One alert per mailbox and state until it changes; decided alerts survive
//! a crash; every instance may run the engine (the writes are guarded).
pub mod conditions;
pub mod email;
pub mod event;
pub mod webhook;

use crate::db::alerts::{Batch, DestinationKind, Outcome, Thresholds};
use crate::db::{Store, StoreError};
use event::AlertEvent;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

#[derive(Debug, Clone)]
pub struct AlertConfig {
    pub thresholds: Thresholds,
    /// How often conditions are judged (a test alert or a new destination
    /// wakes the engine at once).
    pub interval: Duration,
    /// A destination is leased this long while its batch is delivered.
    pub lease: chrono::Duration,
    pub request_timeout: Duration,
    /// Links in alerts point here.
    pub public_url: String,
}

impl AlertConfig {
    /// `after_minutes`: how old a backlog or a failing sync must be to count.
    pub fn new(public_url: &str, after_minutes: u32) -> Self {
        let after = chrono::Duration::minutes(i64::from(after_minutes));
        Self {
            thresholds: Thresholds {
                outbox_backlog: after,
                outbox_failed_window: chrono::Duration::minutes(60),
                inbox_failing: after,
            },
            interval: Duration::from_secs(30),
            lease: chrono::Duration::seconds(60),
            request_timeout: Duration::from_secs(10),
            public_url: public_url.trim_end_matches('/').to_string(),
        }
    }
}

pub struct AlertEngine {
    store: Store,
    http: reqwest::Client,
    config: AlertConfig,
    /// This instance's name in destination leases.
    owner: String,
    wake: Arc<Notify>,
    outbox_wake: Arc<Notify>,
}

impl AlertEngine {
    pub fn new(
        store: Store,
        config: AlertConfig,
        wake: Arc<Notify>,
        outbox_wake: Arc<Notify>,
    ) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(config.request_timeout)
            // A webhook answers where it is: a redirect is not followed
            // (it could point the signed alerts anywhere).
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("TenantMail-Alerts/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            store,
            http,
            config,
            owner: uuid::Uuid::new_v4().to_string(),
            wake,
            outbox_wake,
        })
    }

    /// Judges every mailbox and records what changed. Returns the count.
    pub async fn decide(&self) -> Result<usize, StoreError> {
        let alerts = self.store.alerts();
        let facts = alerts.facts(self.config.thresholds).await?;
        let raised = alerts.raised().await?;
        let changes = conditions::changes(
            &facts,
            &raised,
            self.store.now(),
            &self.config.thresholds,
            &self.config.public_url,
        );
        alerts.record(&changes).await
    }

    /// Delivers every due batch. Returns how many batches were tried.
    pub async fn deliver(&self) -> Result<usize, StoreError> {
        let mut tried = 0;
        while let Some(batch) = self
            .store
            .alerts()
            .claim(&self.owner, self.config.lease)
            .await?
        {
            let outcome = self.deliver_batch(&batch).await;
            crate::telemetry::alert_delivery(
                batch.destination.kind.code(),
                matches!(outcome, Outcome::Delivered(_)),
                batch.events.len(),
            );
            match &outcome {
                Outcome::Delivered(how) => tracing::info!(
                    destination = %batch.destination.name,
                    alerts = batch.events.len(),
                    how = %how,
                    "alerts delivered"
                ),
                Outcome::Retry(why) => tracing::warn!(
                    destination = %batch.destination.name,
                    alerts = batch.events.len(),
                    why = %why,
                    "alert delivery failed; will retry"
                ),
            }
            self.store
                .alerts()
                .finish(&self.owner, &batch, &outcome)
                .await?;
            tried += 1;
        }
        Ok(tried)
    }

    async fn deliver_batch(&self, batch: &Batch) -> Outcome {
        let events: Vec<AlertEvent> = batch
            .events
            .iter()
            .filter_map(|e| serde_json::from_str(e).ok())
            .collect();
        match batch.destination.kind {
            DestinationKind::Webhook => {
                let secret = match self
                    .store
                    .alerts()
                    .webhook_secret(&batch.destination.id)
                    .await
                {
                    Ok(Some(s)) => s,
                    Ok(None) => return Outcome::Retry("the webhook has no signing secret".into()),
                    Err(e) => {
                        let id = crate::reference::logged("cannot open a webhook secret", e);
                        return Outcome::Retry(format!("cannot read its secret (error {id})"));
                    }
                };
                webhook::deliver(
                    &self.http,
                    &batch.destination.target,
                    &secret,
                    &batch.id,
                    &events,
                    self.store.now(),
                )
                .await
            }
            DestinationKind::Email => {
                let outcome = email::deliver(&self.store, batch, &events).await;
                self.outbox_wake.notify_waiters();
                outcome
            }
        }
    }

    /// One round: decide, then deliver. Errors are logged; the next round retries.
    pub async fn round(&self) {
        if let Err(e) = self.decide().await {
            crate::reference::logged("alert round: cannot judge the mailboxes", e);
        }
        // The chaos test kills the process here: decided, not delivered.
        fail::fail_point!("alerts::after_decide", |_| {
            crate::failpoints::stop_here("alerts::after_decide")
        });
        if let Err(e) = self.deliver().await {
            crate::reference::logged("alert round: cannot deliver alerts", e);
        }
    }

    /// Runs rounds until the process ends: every interval, and at once when woken.
    pub fn spawn(self: Arc<Self>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                self.round().await;
                tokio::select! {
                    _ = tokio::time::sleep(self.config.interval) => {}
                    _ = self.wake.notified() => {}
                }
            }
        })
    }
}
