//! Change-notification subscriptions: creation and its validation handshake, notifications on
//! new, moved and updated mail, renew, reauthorize and delete. Expiry, lifecycle events, retries
//! and dropped notifications are in `subscription_events.rs`.

mod common;

use common::subs::*;
use common::*;
use ms_stand_in::LifecycleEvent;
use serde_json::{json, Value};

#[tokio::test]
async fn creation_validates_both_urls_and_the_request() {
    let s = subs().await;
    let r = s
        .create(s.body("/hook", "me/mailFolders('Inbox')/messages"))
        .await;
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    assert_eq!(created["changeType"], "created");
    assert_eq!(created["clientState"], STATE);
    assert_eq!(created["expirationDateTime"], TOMORROW);
    assert_eq!(created["applicationId"], CLIENT);
    assert_eq!(created["creatorId"], s.f.mailbox_oid.as_str());
    assert_eq!(created["notificationUrl"], s.hooks.url("/hook"));
    assert_eq!(s.hooks.validations(), ["/hook", "/lifecycle"]);
    let views = s.f.stand_in.subscriptions();
    assert_eq!(views.len(), 1);
    assert_eq!(views[0].id, created["id"].as_str().unwrap());
    assert_eq!(views[0].user_oid, s.f.mailbox_oid);
    assert_eq!(views[0].expiration_date_time, TOMORROW);
    assert!(!views[0].needs_reauthorization);

    // An endpoint that answers the handshake wrongly, or not at all: 400, nothing created.
    for (notify, lifecycle) in [
        ("/wrong", "/lifecycle"),
        ("/missing", "/lifecycle"),
        ("/hook", "/wrong"),
    ] {
        let mut body = s.body(notify, "me/mailFolders('inbox')/messages");
        body["lifecycleNotificationUrl"] = json!(s.hooks.url(lifecycle));
        let message = assert_graph_error(s.create(body).await, 400, "ValidationError").await;
        assert!(message.starts_with("Subscription validation request failed."));
    }
    let mut unreachable = s.body("/hook", "me/mailFolders('inbox')/messages");
    unreachable["notificationUrl"] = json!("https://127.0.0.1:1/hook");
    assert_graph_error(s.create(unreachable).await, 400, "ValidationError").await;
    assert_eq!(s.f.stand_in.subscriptions().len(), 1);
    let checks: Vec<(u16, bool)> =
        s.f.stand_in
            .ledger()
            .validation_requests
            .iter()
            .map(|v| (v.status, v.ok))
            .collect();
    assert_eq!(
        checks,
        [
            (200, true),
            (200, true),
            (200, false),
            (404, false),
            (200, true),
            (200, false),
            (0, false)
        ]
    );

    // Bad requests fail before any handshake.
    let bad = |key: &str, value: Value| {
        let mut body = s.body("/hook", "me/mailFolders('inbox')/messages");
        body[key] = value;
        body
    };
    let message = assert_graph_error(
        s.create(bad("notificationUrl", json!("http://example.org/hook")))
            .await,
        400,
        "InvalidRequest",
    )
    .await;
    assert!(message.contains("http://example.org/hook"), "{message}");
    for (key, value) in [
        ("lifecycleNotificationUrl", json!("ftp://127.0.0.1/x")),
        ("expirationDateTime", json!("2024-12-31T23:00:00Z")),
        ("expirationDateTime", json!("2025-01-08T00:00:01Z")),
        ("changeType", json!("created,moved")),
        ("clientState", json!("x".repeat(129))),
        ("resource", json!("me/events")),
    ] {
        let r = s.create(bad(key, value)).await;
        assert_graph_error(r, 400, "InvalidRequest").await;
    }
    let r = s
        .create(bad("resource", json!("me/mailFolders('nope')/messages")))
        .await;
    assert_graph_error(r, 404, "ErrorItemNotFound").await;
    let r = s
        .create(bad(
            "resource",
            json!(format!("users/{ADMIN}/mailFolders('inbox')/messages")),
        ))
        .await;
    assert_graph_error(r, 403, "ErrorAccessDenied").await;
    assert_eq!(s.f.stand_in.ledger().validation_requests.len(), 7);

    // The caller's own mailbox by UPN, the longest lifetime, several change types, an offset.
    let mut own = bad(
        "resource",
        json!(format!("users/{MAILBOX}/mailFolders/inbox/messages")),
    );
    own["expirationDateTime"] = json!("2025-01-08T01:00:00+01:00");
    own["changeType"] = json!("created,updated,deleted");
    let r = s.create(own).await;
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    assert_eq!(created["changeType"], "created,updated,deleted");
    assert_eq!(created["expirationDateTime"], "2025-01-08T00:00:00Z");

    // Without a mail read scope: 403.
    s.f.sign_in_only(MAILBOX);
    let url =
        s.f.authorize_url("common", &[("scope", "openid user.read")]);
    let code = s.f.authorize_redirect(&url).await["code"].clone();
    let tokens: Value = s.f.redeem(&code).await.json().await.unwrap();
    let r =
        s.f.http
            .post(s.f.graph("/subscriptions"))
            .bearer_auth(tokens["access_token"].as_str().unwrap())
            .json(&s.body("/hook", "me/mailFolders('inbox')/messages"))
            .send()
            .await
            .unwrap();
    assert_graph_error(r, 403, "ErrorAccessDenied").await;
}

#[tokio::test]
async fn new_inbox_mail_is_notified_once_and_other_folders_are_not() {
    let s = subs().await;
    let id = s.subscribe("/hook").await;
    // Created with immutable ids, a subscription names messages by their immutable id.
    let r = s
        .send(
            s.f.http
                .post(s.f.graph("/subscriptions"))
                .header("Prefer", "IdType=\"ImmutableId\"")
                .json(&s.body("/immutable", "me/mailFolders('inbox')/messages")),
        )
        .await;
    assert_eq!(r.status(), 201);

    let immutable = s.deliver("hello", None);
    let got = s.hooks.wait_for("/hook", 1, SOON).await;
    assert_eq!(got.len(), 1);
    let rest_id = s.newest_rest_id("inbox").await;
    let n = &got[0]["value"][0];
    assert_eq!(n["subscriptionId"], id.as_str());
    assert_eq!(n["changeType"], "created");
    assert_eq!(n["clientState"], STATE);
    assert_eq!(n["tenantId"], TENANT);
    assert_eq!(n["subscriptionExpirationDateTime"], TOMORROW);
    let resource = format!("Users/{}/Messages/{rest_id}", s.f.mailbox_oid);
    assert_eq!(n["resource"], resource.as_str());
    let data = &n["resourceData"];
    assert_eq!(data["@odata.type"], "#Microsoft.Graph.Message");
    assert_eq!(data["@odata.id"], resource.as_str());
    assert_eq!(data["id"], rest_id.as_str());
    assert!(data["@odata.etag"].as_str().unwrap().starts_with("W/\""));
    let got = s.hooks.wait_for("/immutable", 1, SOON).await;
    assert_eq!(got[0]["value"][0]["resourceData"]["id"], immutable.as_str());

    s.deliver("elsewhere", Some("archive"));
    tokio::time::sleep(QUIET).await;
    assert_eq!(s.hooks.at("/hook").len(), 1);
    let attempts = s.f.stand_in.ledger().notification_attempts;
    let mine: Vec<_> = attempts
        .iter()
        .filter(|a| a.subscription_id == id)
        .collect();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].kind, "created");
    assert_eq!(mine[0].status, 202);
    assert!(!mine[0].dropped);
    assert_eq!(mine[0].url, s.hooks.url("/hook"));
}

#[tokio::test]
async fn moves_sent_mail_and_updates_are_notified() {
    let s = subs().await;
    let mut body = s.body("/inbox", "me/mailFolders('inbox')/messages");
    body["changeType"] = json!("deleted,updated");
    assert_eq!(s.create(body).await.status(), 201);
    let folder = s.f.stand_in.add_folder(MAILBOX, "Kept", None).unwrap();
    let resource = format!("me/mailFolders/{folder}/messages");
    assert_eq!(s.create(s.body("/kept", &resource)).await.status(), 201);

    s.deliver("arrives", None);
    let old_id = s.newest_rest_id("inbox").await;
    let patch = s.f.http.patch(s.f.graph(&format!("/me/messages/{old_id}")));
    let r = s.send(patch.json(&json!({"isRead": true}))).await;
    assert_eq!(r.status(), 200);
    let moved = s.f.graph(&format!("/me/messages/{old_id}/move"));
    let r = s
        .send(s.f.http.post(moved).json(&json!({"destinationId": folder})))
        .await;
    assert_eq!(r.status(), 201);
    let new_id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let inbox = s.hooks.wait_for("/inbox", 2, SOON).await;
    let mut kinds: Vec<(String, String)> = inbox
        .iter()
        .map(|n| {
            let n = &n["value"][0];
            (
                n["changeType"].as_str().unwrap().to_owned(),
                n["resourceData"]["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            ("deleted".to_owned(), old_id.clone()),
            ("updated".to_owned(), old_id)
        ]
    );
    let kept = s.hooks.wait_for("/kept", 1, SOON).await;
    assert_eq!(kept[0]["value"][0]["resourceData"]["id"], new_id.as_str());

    // Mail a stand-in user sends to themselves lands in their inbox: notified too.
    let mut inbox_created = s.body("/created", "me/mailFolders('inbox')/messages");
    inbox_created["clientState"] = Value::Null;
    assert_eq!(s.create(inbox_created).await.status(), 201);
    let message = json!({"message": {
        "subject": "note to self",
        "body": {"contentType": "Text", "content": "x"},
        "toRecipients": [{"emailAddress": {"address": MAILBOX}}],
    }});
    let r = s
        .send(s.f.http.post(s.f.graph("/me/sendMail")).json(&message))
        .await;
    assert_eq!(r.status(), 202);
    let got = s.hooks.wait_for("/created", 1, SOON).await;
    assert_eq!(got.len(), 1);
    assert!(got[0]["value"][0]["clientState"].is_null());
}

#[tokio::test]
async fn renew_reauthorize_and_delete() {
    let s = subs().await;
    let id = s.subscribe("/hook").await;
    let url = s.f.graph(&format!("/subscriptions/{id}"));
    let got: Value = s.send(s.f.http.get(&url)).await.json().await.unwrap();
    assert_eq!(got["id"], id.as_str());
    let listed: Value = s
        .send(s.f.http.get(s.f.graph("/subscriptions")))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["value"][0]["id"], id.as_str());

    // Another user (same app) sees nothing of it.
    let other = s.f.tokens_for(ADMIN).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = s.f.http.get(&url).bearer_auth(&other).send().await.unwrap();
    assert_graph_error(r, 404, "ResourceNotFound").await;
    let r =
        s.f.http
            .delete(&url)
            .bearer_auth(&other)
            .send()
            .await
            .unwrap();
    assert_graph_error(r, 404, "ResourceNotFound").await;

    assert!(s
        .f
        .stand_in
        .lifecycle(&id, LifecycleEvent::ReauthorizationRequired)
        .unwrap());
    assert!(s.f.stand_in.subscriptions()[0].needs_reauthorization);
    let r = s.send(s.f.http.post(format!("{url}/reauthorize"))).await;
    assert_eq!(r.status(), 204);
    assert!(!s.f.stand_in.subscriptions()[0].needs_reauthorization);

    s.f.stand_in
        .lifecycle(&id, LifecycleEvent::ReauthorizationRequired)
        .unwrap();
    let renew = |at: &str| {
        s.f.http
            .patch(&url)
            .json(&json!({"expirationDateTime": at}))
    };
    let r = s.send(renew("2025-01-05T00:00:00Z")).await;
    assert_eq!(r.status(), 200);
    let renewed: Value = r.json().await.unwrap();
    assert_eq!(renewed["expirationDateTime"], "2025-01-05T00:00:00Z");
    let view = &s.f.stand_in.subscriptions()[0];
    assert_eq!(view.expires_at, 1_735_689_600 + 4 * 86_400);
    assert!(!view.needs_reauthorization);
    let r = s.send(renew("2024-01-01T00:00:00Z")).await;
    assert_graph_error(r, 400, "InvalidRequest").await;
    let r = s.send(s.f.http.patch(&url).json(&json!({}))).await;
    assert_graph_error(r, 400, "InvalidRequest").await;
    let unknown =
        s.f.graph("/subscriptions/00000000-0000-0000-0000-000000000000");
    let r = s
        .send(
            s.f.http
                .patch(&unknown)
                .json(&json!({"expirationDateTime": TOMORROW})),
        )
        .await;
    assert_graph_error(r, 404, "ResourceNotFound").await;
    let r = s
        .send(s.f.http.post(format!("{unknown}/reauthorize")))
        .await;
    assert_graph_error(r, 404, "ResourceNotFound").await;

    assert_eq!(s.send(s.f.http.delete(&url)).await.status(), 204);
    assert_graph_error(s.send(s.f.http.get(&url)).await, 404, "ResourceNotFound").await;
    assert_graph_error(s.send(s.f.http.delete(&url)).await, 404, "ResourceNotFound").await;
    s.deliver("after delete", None);
    tokio::time::sleep(QUIET).await;
    assert!(s.hooks.at("/hook").is_empty());
}
