//! Near-instant arrival, on SQLite and PostgreSQL, through the stand-in's
//! Graph posting real change notifications to the served application: a
//! mailbox set to `notify` gets a subscription (its URL validated by Graph,
//! its `clientState` kept only as a hash); mail delivered then is stored
//! within 2 s although the mailbox polls hourly; a notification with a
//! forged `clientState` gets 403 and wakes nothing; a dropped notification is
//! caught by the next poll, and the message is stored once; lifecycle events
//! (removed → a new subscription, reauthorization → renewed, missed → a sync)
//! are handled; a subscription near its expiry is renewed; turning the
//! setting off deletes it at Microsoft.
mod support;

use ms_stand_in::{LifecycleEvent, SubscriptionView};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use server::db::entities::{graph_subscription, inbox_sync};
use server::mail::inbox::sync::{Inbox, InboxConfig};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::Mailbox;

/// A connected mailbox set to near-instant arrival, polling only hourly.
async fn notifying(t: support::TestDb) -> Mailbox {
    let c = Mailbox::connected(t, "notify-secret~1").await;
    set_arrival(&c, "notify").await;
    c.import_everything().await;
    c
}

async fn set_arrival(c: &Mailbox, arrival: &str) {
    c.edit_settings(|input| {
        input.receiving.arrival = arrival.into();
        input.receiving.poll_interval_seconds = "3600".into();
    })
    .await;
}

/// The inbox loop, woken as the served application wakes it, with the
/// default 5 s tick: only a notification explains mail within 2 s.
fn worker(c: &Mailbox) -> Arc<Inbox> {
    c.inbox_woken_by_app(InboxConfig::default())
}

fn subscriptions(c: &Mailbox) -> Vec<SubscriptionView> {
    c.stand_in.subscriptions()
}

async fn row(c: &Mailbox) -> Option<graph_subscription::Model> {
    graph_subscription::Entity::find_by_id(c.email_id.clone())
        .one(&c.p.db)
        .await
        .unwrap()
}

/// Waits until `check` holds (or panics after `limit`).
async fn until<F, Fut>(label: &str, what: &str, limit: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !check().await {
        assert!(start.elapsed() < limit, "{label}: {what} after {limit:?}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Stops a running inbox loop once no sync of the mailbox is under way (a
/// sync cut off mid-way would keep its lease for minutes).
async fn stop(c: &Mailbox, running: tokio::task::JoinHandle<()>) {
    until(
        c.label,
        "the sync idle",
        Duration::from_secs(20),
        || async {
            inbox_sync::Entity::find_by_id(c.email_id.clone())
                .one(&c.p.db)
                .await
                .unwrap()
                .is_none_or(|s| s.lease_owner.is_none() && s.sync_requested_at.is_none())
        },
    )
    .await;
    running.abort();
    let _ = running.await;
}

async fn stored(c: &Mailbox, subject: &str) -> usize {
    c.store()
        .inbox()
        .newest(&c.email_id, None, 200)
        .await
        .unwrap()
        .iter()
        .filter(|m| m.subject == subject)
        .count()
}

async fn notify(c: &Mailbox, body: serde_json::Value) -> StatusCode {
    reqwest::Client::new()
        .post(format!("{}{}", c.base, server::config::NOTIFICATIONS_PATH))
        .json(&body)
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn a_notification_brings_new_mail_in_within_two_seconds() {
    for t in support::all().await {
        let c = notifying(t).await;
        let inbox = worker(&c);
        // The first round makes the subscription; Graph validates the URL.
        c.sync_round(&inbox).await;
        let subs = subscriptions(&c);
        assert_eq!(subs.len(), 1, "{}: {subs:?}", c.label);
        let sub = &subs[0];
        assert_eq!(
            sub.notification_url,
            format!("{}/core/graph/notifications", c.base)
        );
        assert_eq!(sub.change_types, vec!["created"]);
        assert_eq!(sub.resource, "me/mailFolders('inbox')/messages");
        assert!(c.stand_in.ledger().validation_requests.iter().any(|v| v.ok));
        // Only a hash of the clientState is stored.
        let secret = sub.client_state.clone().unwrap();
        let stored_row = row(&c).await.unwrap();
        assert_eq!(stored_row.subscription_id.as_deref(), Some(sub.id.as_str()));
        assert_eq!(
            stored_row.client_state_hash,
            server::hashing::sha256_hex(&secret)
        );
        assert_ne!(stored_row.client_state_hash, secret);

        let running = inbox.clone().spawn();
        let start = Instant::now();
        c.stand_in
            .deliver(support::incoming("Arrives at once"))
            .unwrap();
        until(c.label, "stored", Duration::from_secs(10), || async {
            stored(&c, "Arrives at once").await == 1
        })
        .await;
        let took = start.elapsed();
        stop(&c, running).await;
        assert!(
            took < Duration::from_secs(2),
            "{}: stored {took:?} after delivery",
            c.label
        );
        let attempts = c.stand_in.ledger().notification_attempts;
        assert!(
            attempts
                .iter()
                .any(|a| a.kind == "created" && a.status == 202),
            "{}: {attempts:?}",
            c.label
        );
    }
}

#[tokio::test]
async fn a_forged_client_state_gets_403_and_wakes_nothing() {
    for t in support::all().await {
        let c = notifying(t).await;
        let inbox = worker(&c);
        c.sync_round(&inbox).await;
        let sub = subscriptions(&c).remove(0);
        let requested = || async {
            inbox_sync::Entity::find()
                .filter(inbox_sync::Column::TenantEmailId.eq(&c.email_id))
                .one(&c.p.db)
                .await
                .unwrap()
                .unwrap()
                .sync_requested_at
                .is_some()
        };
        let item = |state: Option<&str>| {
            json!({"value": [{
                "subscriptionId": sub.id, "clientState": state, "changeType": "created",
                "resource": "Users/x/Messages/y", "tenantId": "t",
            }]})
        };
        assert_eq!(
            notify(&c, item(Some("guessed"))).await,
            StatusCode::FORBIDDEN
        );
        assert_eq!(notify(&c, item(None)).await, StatusCode::FORBIDDEN);
        assert!(
            !requested().await,
            "{}: a forged one woke the sync",
            c.label
        );
        // An unknown subscription is acknowledged (Microsoft stops) and ignored.
        for id in ["nobody", "00000000-0000-4000-8000-000000000000"] {
            let unknown = json!({"value": [{"subscriptionId": id, "clientState": "x"}]});
            assert_eq!(notify(&c, unknown).await, StatusCode::ACCEPTED);
        }
        assert!(!requested().await);
        // Not JSON: 400. The validation handshake echoes the token as text.
        let bad = reqwest::Client::new()
            .post(format!("{}/core/graph/notifications", c.base))
            .body("<xml/>")
            .send()
            .await
            .unwrap();
        assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
        let echo = reqwest::Client::new()
            .post(format!(
                "{}/core/graph/notifications?validationToken=Validation%3A%20Testing",
                c.base
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(echo.status(), StatusCode::OK);
        assert!(echo.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain"));
        assert_eq!(echo.text().await.unwrap(), "Validation: Testing");
        // The genuine secret wakes the mailbox's sync.
        assert_eq!(
            notify(&c, item(sub.client_state.as_deref())).await,
            StatusCode::ACCEPTED
        );
        assert!(requested().await, "{}", c.label);
    }
}

#[tokio::test]
async fn a_dropped_notification_is_caught_by_the_next_poll_once() {
    for t in support::all().await {
        let c = notifying(t).await;
        let inbox = worker(&c);
        c.sync_round(&inbox).await;
        let running = inbox.clone().spawn();
        c.stand_in.drop_notifications(1);
        c.stand_in.deliver(support::incoming("Lost call")).unwrap();
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(
            stored(&c, "Lost call").await,
            0,
            "{}: nothing said it came",
            c.label
        );
        assert!(c
            .stand_in
            .ledger()
            .notification_attempts
            .iter()
            .any(|a| a.dropped));
        stop(&c, running).await;
        // The next poll reads it by delta.
        c.sync_round(&inbox).await;
        assert_eq!(stored(&c, "Lost call").await, 1, "{}", c.label);
        // The next notification, and further rounds, store nothing twice.
        let running = inbox.clone().spawn();
        c.stand_in.deliver(support::incoming("Next call")).unwrap();
        until(c.label, "the next one", Duration::from_secs(10), || async {
            stored(&c, "Next call").await == 1
        })
        .await;
        stop(&c, running).await;
        c.sync_round(&inbox).await;
        assert_eq!(stored(&c, "Lost call").await, 1, "{}", c.label);
        assert_eq!(stored(&c, "Next call").await, 1, "{}", c.label);
    }
}

#[tokio::test]
async fn lifecycle_events_renewal_and_turning_it_off_are_handled() {
    for t in support::all().await {
        let c = notifying(t).await;
        let inbox = worker(&c);
        c.sync_round(&inbox).await;
        let first = subscriptions(&c).remove(0);

        // Removed by Microsoft: forgotten, and a new one made by the next sync.
        assert!(c
            .stand_in
            .lifecycle(&first.id, LifecycleEvent::SubscriptionRemoved)
            .unwrap());
        until(
            c.label,
            "the removal recorded",
            Duration::from_secs(10),
            || async { row(&c).await.is_none() },
        )
        .await;
        c.sync_round(&inbox).await;
        let second = subscriptions(&c);
        assert_eq!(second.len(), 1, "{}: {second:?}", c.label);
        assert_ne!(second[0].id, first.id);
        let second = second[0].clone();

        // Reauthorization required: renewed at the next sync.
        assert!(c
            .stand_in
            .lifecycle(&second.id, LifecycleEvent::ReauthorizationRequired)
            .unwrap());
        until(
            c.label,
            "reauthorization recorded",
            Duration::from_secs(10),
            || async { row(&c).await.is_some_and(|r| r.needs_reauth) },
        )
        .await;
        c.sync_round(&inbox).await;
        assert!(!row(&c).await.unwrap().needs_reauth, "{}", c.label);
        assert!(!subscriptions(&c)[0].needs_reauthorization, "{}", c.label);

        // Missed notifications: the mailbox is synced.
        assert!(c
            .stand_in
            .lifecycle(&second.id, LifecycleEvent::Missed)
            .unwrap());
        until(
            c.label,
            "a sync requested",
            Duration::from_secs(10),
            || async {
                inbox_sync::Entity::find_by_id(c.email_id.clone())
                    .one(&c.p.db)
                    .await
                    .unwrap()
                    .is_some_and(|s| s.sync_requested_at.is_some())
            },
        )
        .await;

        // Near its expiry: renewed by the next sync.
        let soon = support::now() + chrono::Duration::hours(1);
        graph_subscription::Entity::update_many()
            .col_expr(
                graph_subscription::Column::ExpiresAt,
                sea_orm::sea_query::Expr::value(soon),
            )
            .filter(graph_subscription::Column::TenantEmailId.eq(&c.email_id))
            .exec(&c.p.db)
            .await
            .unwrap();
        c.sync_round(&inbox).await;
        let renewed = row(&c).await.unwrap();
        assert!(
            renewed.expires_at.unwrap() > soon + chrono::Duration::hours(24),
            "{}: {:?}",
            c.label,
            renewed.expires_at
        );
        assert_eq!(subscriptions(&c)[0].id, second.id, "renewed, not replaced");

        // Turned off: deleted at Microsoft and forgotten here.
        set_arrival(&c, "poll").await;
        c.sync_round(&inbox).await;
        assert!(subscriptions(&c).is_empty(), "{}", c.label);
        assert!(row(&c).await.is_none());
    }
}
