//! `POST /core/graph/notifications`: where Microsoft posts change
//! notifications (new mail in a subscribed folder) and lifecycle events.
//!
//! Public by necessity — Microsoft signs in to nothing — so nothing here is
//! trusted but the `clientState` secret each notification carries, compared
//! (as a SHA-256) with the one its subscription was made with; a mismatch is
//! a 403. A genuine notification only asks for that mailbox's sync: mail is
//! stored by the delta sync alone, so a forged, repeated or lost notification
//! changes at most when a sync runs. The answer comes at once (Microsoft
//! wants one within 3 s); the sync runs after.
use crate::db::subscriptions::Subscription;
use crate::db::Store;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde::Deserialize;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use tokio::sync::Notify;

/// Notifications read from one request at most (Microsoft batches a few):
/// each costs a lookup, so a hostile batch buys a bounded amount of work.
const MAX_ITEMS: usize = 100;
/// A validation token longer than this is not Microsoft's.
const MAX_TOKEN_CHARS: usize = 1_024;

#[derive(Clone)]
pub struct Notifications {
    pub store: Store,
    /// The inbox sync's wake-up.
    pub wake: Arc<Notify>,
}

pub fn routes<S: Clone + Send + Sync + 'static>(state: Notifications) -> Router<S> {
    Router::new()
        .route(crate::config::NOTIFICATIONS_PATH, post(receive))
        .with_state(state)
}

#[derive(Deserialize)]
struct Batch {
    #[serde(default)]
    value: Vec<Item>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Item {
    #[serde(default)]
    subscription_id: String,
    #[serde(default)]
    client_state: Option<String>,
    /// Set on lifecycle notifications only.
    #[serde(default)]
    lifecycle_event: Option<String>,
}

fn plain(status: StatusCode, text: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        text,
    )
        .into_response()
}

async fn receive(
    State(state): State<Notifications>,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    // Validation, when a subscription is made: echo the token as plain text.
    if let Some(token) = query.get("validationToken") {
        if token.chars().count() > MAX_TOKEN_CHARS {
            return plain(
                StatusCode::BAD_REQUEST,
                "validationToken is too long.".into(),
            );
        }
        return plain(StatusCode::OK, token.clone());
    }
    let Ok(batch) = serde_json::from_slice::<Batch>(&body) else {
        return plain(
            StatusCode::BAD_REQUEST,
            "Expected a change notification collection (JSON with a value array).".into(),
        );
    };
    let subscriptions = state.store.subscriptions();
    let mut forged = 0usize;
    let mut wake = BTreeSet::new();
    // One lookup per subscription, however many notifications name it.
    let mut looked_up: HashMap<String, Option<Subscription>> = HashMap::new();
    for item in batch.value.iter().take(MAX_ITEMS) {
        // Graph's subscription ids are GUIDs: anything else is not looked up.
        if uuid::Uuid::parse_str(&item.subscription_id).is_err() {
            continue;
        }
        let known = match looked_up.get(&item.subscription_id) {
            Some(known) => known.clone(),
            None => match subscriptions
                .by_subscription_id(&item.subscription_id)
                .await
            {
                Ok(known) => {
                    looked_up.insert(item.subscription_id.clone(), known.clone());
                    known
                }
                Err(e) => return super::internal_error("change notification", e),
            },
        };
        // Unknown: an old subscription, or one made by a crash before it was
        // recorded. Acknowledged so Microsoft stops; it expires on its own.
        let Some(subscription) = known else {
            continue;
        };
        let sent = crate::hashing::sha256_hex(item.client_state.as_deref().unwrap_or_default());
        if sent != subscription.client_state_hash {
            forged += 1;
            continue;
        }
        let recorded = match item.lifecycle_event.as_deref() {
            Some("reauthorizationRequired") => {
                subscriptions.needs_reauth(&item.subscription_id).await
            }
            // The next sync makes a new one, and reads what was missed by delta.
            Some("subscriptionRemoved") => subscriptions.forget(&item.subscription_id).await,
            _ => subscriptions.notified(&item.subscription_id).await,
        };
        if let Err(e) = recorded {
            return super::internal_error("change notification", e);
        }
        wake.insert(subscription.tenant_email_id);
    }
    for tenant_email_id in &wake {
        if let Err(e) = state.store.inbox().request_sync(tenant_email_id).await {
            return super::internal_error("change notification", e);
        }
    }
    if !wake.is_empty() {
        state.wake.notify_one();
    }
    if forged > 0 {
        tracing::warn!(
            forged,
            "change notification with a clientState that matches no subscription: refused"
        );
        return plain(
            StatusCode::FORBIDDEN,
            "clientState does not match the subscription.".into(),
        );
    }
    StatusCode::ACCEPTED.into_response()
}
