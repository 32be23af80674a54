//! Control: inspect change-notification subscriptions, fire lifecycle events, and lose
//! notifications on purpose (to prove a client's next poll catches what a webhook missed).

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::{control, reply, Control, ControlError};
use crate::model::{LifecycleEvent, SubscriptionView};
use crate::state::Shared;

impl Control {
    /// Live subscriptions of every mailbox, oldest first (expired ones are dropped first, as
    /// the stand-in's clock says).
    pub fn subscriptions(&self) -> Vec<SubscriptionView> {
        let now = self.shared.now();
        let mut store = self.shared.lock();
        store.webhooks.prune(now);
        store
            .webhooks
            .subscriptions
            .values()
            .map(|s| s.view())
            .collect()
    }

    /// Sends lifecycle `event` for a subscription to its `lifecycleNotificationUrl`, in the
    /// background; `Ok(false)` when it was created without one (nothing is sent, but the event
    /// still applies). `subscriptionRemoved` deletes the subscription; `reauthorizationRequired`
    /// flags it until the app calls `/reauthorize` or renews it.
    pub fn lifecycle(
        &self,
        subscription_id: &str,
        event: LifecycleEvent,
    ) -> Result<bool, ControlError> {
        let now = self.shared.now();
        let mut store = self.shared.lock();
        crate::webhooks::lifecycle(&mut store, subscription_id, event, now)
            .ok_or_else(|| ControlError::UnknownSubscription(subscription_id.to_owned()))
    }

    /// The next `count` change notifications are not sent at all (each is recorded in the ledger
    /// with `dropped: true`). Replaces any count still pending; 0 stops dropping.
    pub fn drop_notifications(&self, count: u32) {
        self.shared.lock().webhooks.drop_next = count;
    }
}

#[derive(Deserialize)]
struct Lifecycle {
    event: LifecycleEvent,
}

#[derive(Deserialize)]
struct DropCount {
    count: u32,
}

pub fn router() -> Router<Shared> {
    Router::new()
        .route("/_stand-in/subscriptions", get(list))
        .route("/_stand-in/subscriptions/{id}/lifecycle", post(lifecycle))
        .route("/_stand-in/notifications/drop", post(drop_notifications))
}

async fn list(State(s): State<Shared>) -> Response {
    Json(control(s).subscriptions()).into_response()
}

async fn lifecycle(
    State(s): State<Shared>,
    Path(id): Path<String>,
    Json(body): Json<Lifecycle>,
) -> Response {
    reply(control(s).lifecycle(&id, body.event).map(|sent| {
        if sent {
            json!({ "sent": true })
        } else {
            json!({ "sent": false, "reason": "the subscription has no lifecycleNotificationUrl" })
        }
    }))
}

async fn drop_notifications(State(s): State<Shared>, Json(body): Json<DropCount>) -> Response {
    control(s).drop_notifications(body.count);
    Json(json!({ "count": body.count })).into_response()
}
