//! Subscription events: expiry, lifecycle notifications, dropped notifications (and the polls
//! that catch them), retries of failing endpoints, and what the ledger and control API show.

mod common;

use std::time::Duration;

use common::subs::*;
use common::*;
use ms_stand_in::{ControlError, LifecycleEvent};
use serde_json::{json, Value};

#[tokio::test]
async fn expired_subscriptions_never_notify() {
    let s = subs().await;
    let mut body = s.body("/hook", "me/mailFolders('inbox')/messages");
    body["expirationDateTime"] = json!("2025-01-01T01:00:00Z");
    let r = s.create(body).await;
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    s.f.stand_in.advance(Duration::from_secs(3600));
    s.deliver("too late", None);
    tokio::time::sleep(QUIET).await;
    assert!(s.hooks.at("/hook").is_empty());
    assert!(s.f.stand_in.ledger().notification_attempts.is_empty());
    assert!(s.f.stand_in.subscriptions().is_empty());
    assert_eq!(
        s.f.stand_in.lifecycle(&id, LifecycleEvent::Missed),
        Err(ControlError::UnknownSubscription(id))
    );
}

#[tokio::test]
async fn lifecycle_events_go_to_the_lifecycle_url() {
    let s = subs().await;
    let id = s.subscribe("/hook").await;
    let control = s.f.stand_in.control().clone();
    assert!(control.lifecycle(&id, LifecycleEvent::Missed).unwrap());
    let got = s.hooks.wait_for("/lifecycle", 1, SOON).await;
    let n = &got[0]["value"][0];
    assert_eq!(n["lifecycleEvent"], "missed");
    assert_eq!(n["subscriptionId"], id.as_str());
    assert_eq!(n["clientState"], STATE);
    assert_eq!(n["tenantId"], TENANT);
    assert_eq!(n["subscriptionExpirationDateTime"], TOMORROW);

    // Over HTTP; subscriptionRemoved deletes the subscription.
    let base = s.f.stand_in.base_url();
    let answer: Value =
        s.f.http
            .post(format!("{base}/_stand-in/subscriptions/{id}/lifecycle"))
            .json(&json!({"event": "subscriptionRemoved"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(answer["sent"], true);
    let got = s.hooks.wait_for("/lifecycle", 2, SOON).await;
    assert_eq!(got[1]["value"][0]["lifecycleEvent"], "subscriptionRemoved");
    assert!(s.f.stand_in.subscriptions().is_empty());
    s.deliver("after removal", None);
    tokio::time::sleep(QUIET).await;
    assert!(s.hooks.at("/hook").is_empty());
    let r =
        s.f.http
            .post(format!("{base}/_stand-in/subscriptions/{id}/lifecycle"))
            .json(&json!({"event": "missed"}))
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), 404);

    // Without a lifecycle URL nothing is sent, and the call says so; the event still applies.
    let mut body = s.body("/hook", "me/mailFolders('inbox')/messages");
    body.as_object_mut()
        .unwrap()
        .remove("lifecycleNotificationUrl");
    let r = s.create(body).await;
    let bare = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let answer: Value =
        s.f.http
            .post(format!("{base}/_stand-in/subscriptions/{bare}/lifecycle"))
            .json(&json!({"event": "reauthorizationRequired"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(answer["sent"], false, "{answer}");
    assert!(s.f.stand_in.subscriptions()[0].needs_reauthorization);
    tokio::time::sleep(QUIET).await;
    assert_eq!(s.hooks.at("/lifecycle").len(), 2);
    let kinds: Vec<(String, u16)> =
        s.f.stand_in
            .ledger()
            .notification_attempts
            .iter()
            .map(|a| (a.kind.clone(), a.status))
            .collect();
    assert_eq!(
        kinds,
        [
            ("missed".to_owned(), 202),
            ("subscriptionRemoved".to_owned(), 202)
        ]
    );
}

#[tokio::test]
async fn dropped_notifications_are_recorded_but_not_sent() {
    let s = subs().await;
    let id = s.subscribe("/hook").await;
    let base = s.f.stand_in.base_url();
    let r =
        s.f.http
            .post(format!("{base}/_stand-in/notifications/drop"))
            .json(&json!({"count": 1}))
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), 200);
    s.deliver("lost", None);
    s.deliver("heard", None);
    let got = s.hooks.wait_for("/hook", 1, SOON).await;
    tokio::time::sleep(QUIET).await;
    assert_eq!(s.hooks.at("/hook").len(), 1);
    let heard = s.newest_rest_id("inbox").await;
    assert_eq!(got[0]["value"][0]["resourceData"]["id"], heard.as_str());
    // The next poll still finds the message whose notification was lost.
    let list: Value = s
        .send(s.f.http.get(s.f.graph("/me/mailFolders/inbox/messages")))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["value"].as_array().unwrap().len(), 2);

    let ledger: Value =
        s.f.http
            .get(format!("{base}/_stand-in/ledger"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let attempts = ledger["notification_attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 2);
    assert_eq!(attempts[0]["dropped"], true);
    assert_eq!(attempts[0]["status"], 0);
    assert_eq!(attempts[0]["subscription_id"], id.as_str());
    assert_eq!(attempts[1]["dropped"], false);
    assert_eq!(attempts[1]["status"], 202);
    assert_eq!(attempts[1]["kind"], "created");
    assert_eq!(ledger["validation_requests"].as_array().unwrap().len(), 2);
    let listed: Value =
        s.f.http
            .get(format!("{base}/_stand-in/subscriptions"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(listed[0]["id"], id.as_str());
    assert_eq!(listed[0]["change_types"], json!(["created"]));
    assert_eq!(listed[0]["client_state"], STATE);
    assert_eq!(listed[0]["expiration_date_time"], TOMORROW);
    assert_eq!(listed[0]["expires_at"], 1_735_689_600 + 86_400);
}

#[tokio::test]
async fn failing_endpoints_are_retried_three_times() {
    let s = subs().await;
    let id = s.subscribe("/flaky").await;
    s.deliver("retried", None);
    let got = s.hooks.wait_for("/flaky", 4, Duration::from_secs(8)).await;
    assert_eq!(got.len(), 4);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(s.hooks.at("/flaky").len(), 4);
    let statuses: Vec<(String, u16)> =
        s.f.stand_in
            .ledger()
            .notification_attempts
            .iter()
            .map(|a| (a.subscription_id.clone(), a.status))
            .collect();
    assert_eq!(statuses, vec![(id, 500); 4]);
}
