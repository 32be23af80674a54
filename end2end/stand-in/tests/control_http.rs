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

#[tokio::test]
async fn shared_mailboxes_app_access_and_certificates_through_http() {
    use ms_stand_in::test_certificate::TestCertificate;
    let s = StandIn::start(StandInConfig::default()).await.unwrap();
    ms_stand_in::fixture::seed_contoso(s.control(), "http://127.0.0.1:3000/cb").unwrap();
    let client = ms_stand_in::fixture::CLIENT;
    let http = reqwest::Client::new();
    let base = s.base_url();
    let call = |method: reqwest::Method, path: &str, body: Value| {
        http.request(method, format!("{base}/_stand-in{path}"))
            .json(&body)
            .send()
    };
    use reqwest::Method;

    // A shared mailbox and a delegate's permissions on it.
    let r = call(
        Method::POST,
        "/users",
        json!({"tenant_id": "contoso.com", "upn": "info@contoso.com", "mail": "info@contoso.com", "shared": true}),
    )
    .await
    .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["shared"], true);
    let path = "/users/info@contoso.com/permissions/mailbox@contoso.com";
    let r = call(Method::PUT, path, json!({"full_access": true}))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let got: Value = call(Method::GET, path, json!({}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got, json!({"full_access": true, "send_as": false}));
    let r = call(
        Method::PUT,
        "/session",
        json!({"accounts": ["info@contoso.com"]}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 400);

    // Application permissions, the access policy, app-only tokens.
    let apps = format!("/apps/{client}");
    let r = call(
        Method::POST,
        &format!("{apps}/app-permissions"),
        json!({"permissions": ["Mail.Read", "Mail.Send"]}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let r = call(
        Method::PUT,
        &format!("{apps}/access-policy"),
        json!({"mailboxes": ["mailbox@contoso.com"]}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let app = s.app(client).unwrap();
    assert_eq!(app.app_permissions, ["Mail.Read", "Mail.Send"]);
    assert_eq!(
        app.access_policy,
        Some(vec!["mailbox@contoso.com".to_owned()])
    );
    let minted: Value = call(Method::POST, &format!("{apps}/access-tokens"), json!({}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = minted["access_token"].as_str().unwrap();
    let graph = |user: &str| {
        http.get(format!("{base}/v1.0/users/{user}/messages"))
            .bearer_auth(token)
            .send()
    };
    assert_eq!(graph("mailbox@contoso.com").await.unwrap().status(), 200);
    assert_eq!(graph("admin@contoso.com").await.unwrap().status(), 403);
    let r = call(
        Method::PUT,
        &format!("{apps}/access-policy"),
        json!({"mailboxes": null}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(graph("admin@contoso.com").await.unwrap().status(), 200);
    let expired: Value = call(
        Method::POST,
        &format!("{apps}/expire-access-tokens"),
        json!({}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(expired["count"], 1);
    assert_eq!(graph("mailbox@contoso.com").await.unwrap().status(), 401);
    let r = call(
        Method::DELETE,
        &format!("{apps}/app-permissions"),
        json!({}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    assert!(s.app(client).unwrap().app_permissions.is_empty());

    // Certificates.
    let now = s.now();
    let cert = TestCertificate::new("CN=Http", now, now + 86_400).unwrap();
    let added: Value = call(
        Method::POST,
        &format!("{apps}/certificates"),
        json!({"certificate": cert.pem}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(added["x5t_s256"], cert.x5t_s256.as_str());
    assert_eq!(added["thumbprint_sha1"], cert.thumbprint_sha1.as_str());
    let r = call(
        Method::POST,
        &format!("{apps}/certificates"),
        json!({"certificate": "garbage"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 400);
    let removed: Value = call(
        Method::DELETE,
        &format!("{apps}/certificates/{}", cert.thumbprint_sha1),
        json!({}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(removed["removed"], true);
    assert!(s.app(client).unwrap().certificates.is_empty());
}
