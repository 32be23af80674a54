//! The control API over HTTP mirrors the Rust handle.

use ms_stand_in::{StandIn, StandInConfig};
use serde_json::{json, Value};

#[tokio::test]
async fn set_up_and_inspect_through_http() {
    let s = StandIn::start(StandInConfig::default()).await.unwrap();
    let http = reqwest::Client::new();
    let base = s.base_url();
    let post = |path: &str, body: Value| {
        http.post(format!("{base}/_stand-in{path}"))
            .json(&body)
            .send()
    };

    let tenant: Value = post("/tenants", json!({"domains": ["contoso.com"]}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let tid = tenant["id"].as_str().unwrap().to_owned();
    let app: Value = post(
        "/apps",
        json!({"tenant_id": tid, "redirect_uris": ["http://127.0.0.1:3000/cb"]}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let client_id = app["client_id"].as_str().unwrap().to_owned();
    assert_eq!(app["secrets"].as_array().unwrap().len(), 1);
    let secret: Value = post(
        &format!("/apps/{client_id}/secrets"),
        json!({"value": "v2", "expires_at": 0}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(secret["value"], "v2");
    let r = post(
        &format!("/apps/{client_id}/redirect-uris"),
        json!({"uri": "http://localhost/cb"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let user: Value = post(
        "/users",
        json!({"tenant_id": "contoso.com", "upn": "a@contoso.com", "display_name": "A"}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(user["tenant_id"], tid.as_str());
    assert!(user.get("password").is_none());
    let r = post(
        "/users",
        json!({"tenant_id": "contoso.com", "upn": "a@contoso.com"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 409);
    let r = http
        .put(format!("{base}/_stand-in/session"))
        .json(&json!({"accounts": ["a@contoso.com"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(s.signed_in()[0].upn, "a@contoso.com");
    let r = post(
        "/consent",
        json!({"client_id": client_id, "tenant_id": tid}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let r = post(
        "/mail",
        json!({"to_user": "a@contoso.com", "from": {"address": "x@example.org"}, "subject": "hi"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let inbox: Value = http
        .get(format!(
            "{base}/_stand-in/users/a@contoso.com/folders/inbox/messages"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(inbox["value"][0]["subject"], "hi");
    let r = post("/faults", json!({"endpoint": "sendMail", "count": 2, "fault": {"kind": "too_many_requests", "retry_after": "5"}})).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(s.faults()[0].count, 2);
    let faults: Value = http
        .get(format!("{base}/_stand-in/faults"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(faults[0]["fault"]["kind"], "too_many_requests");
    http.delete(format!("{base}/_stand-in/faults"))
        .send()
        .await
        .unwrap();
    assert!(s.faults().is_empty());
    let clock: Value = post("/clock/advance", json!({"seconds": 3600}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(clock["iso"], "2025-01-01T01:00:00Z");
    let r = post(
        "/refresh-tokens/expire",
        json!({"user": "a@contoso.com", "reason": "inactivity"}),
    )
    .await
    .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["count"], 0);
    let r = post("/users/nobody/revoke-grant", json!({})).await.unwrap();
    assert_eq!(r.status(), 404);
    let ledger: Value = http
        .get(format!("{base}/_stand-in/ledger"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for key in [
        "sent",
        "token_requests",
        "graph_requests",
        "concurrency_high_water",
    ] {
        assert!(ledger.get(key).is_some(), "{key}");
    }
    let r = http.put(format!("{base}/_stand-in/limits"))
        .json(&json!({"max_concurrent": 2, "request_budget": 10, "window_seconds": 60, "concurrency_retry_after": 3}))
        .send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(s.limits().max_concurrent, 2);
}

#[tokio::test]
async fn demo_seed_registers_a_clickable_directory() {
    let s = StandIn::start(StandInConfig {
        seed_demo: true,
        ..StandInConfig::default()
    })
    .await
    .unwrap();
    assert!(s.app(ms_stand_in::demo::CLIENT_ID).is_some());
    assert_eq!(s.signed_in().len(), 2);
    assert_eq!(s.messages("noreply@contoso.com", "inbox").unwrap().len(), 1);
}
