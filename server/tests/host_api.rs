//! The host-application API (`/v1`) on SQLite and PostgreSQL: tokens made by
//! an admin (shown once, stored hashed, revocable), bearer authentication,
//! tenant scoping (another tenant's mailbox or message is "not found"),
//! validation, idempotency keys, receive-only mailboxes, status reads, the
//! admin session granting nothing on `/v1`, and the OpenAPI document.
mod support;

use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{json, Value};
use server::db::entities::{api_token, audit_event, outbox_message};

use support::{call, mailbox_in, tenant_with_mailbox};

fn message(subject: &str) -> Value {
    json!({"to": ["customer@fabrikam.com"], "subject": subject, "text_body": "Hello"})
}

struct Api {
    client: reqwest::Client,
    base: String,
}

impl Api {
    async fn send(
        &self,
        token: Option<&str>,
        mailbox: &str,
        key: Option<&str>,
        body: &Value,
    ) -> (StatusCode, Value) {
        let mut r = self
            .client
            .post(format!("{}/v1/mailboxes/{mailbox}/messages", self.base))
            .json(body);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        if let Some(k) = key {
            r = r.header("Idempotency-Key", k);
        }
        let r = r.send().await.unwrap();
        let status = r.status();
        if status == StatusCode::UNAUTHORIZED {
            assert_eq!(r.headers()["www-authenticate"], "Bearer");
        }
        (status, r.json().await.unwrap())
    }
    async fn status(&self, token: &str, id: &str) -> (StatusCode, Value) {
        let r = self
            .client
            .get(format!("{}/v1/messages/{id}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap())
    }
}

#[tokio::test]
async fn host_api_end_to_end() {
    for t in support::all().await {
        let label = t.label;
        let p = server::startup::prepare(&t.config, support::leptos_options())
            .await
            .unwrap();
        let base = support::serve(p.router.clone()).await;
        let admin = support::signed_in_browser(&p.store, &base).await;
        let (tenant_a, mb_a) = tenant_with_mailbox(&p, "send_receive").await;
        let receive_only = mailbox_in(&p, &tenant_a, "receive").await;
        let (tenant_b, mb_b) = tenant_with_mailbox(&p, "send").await;

        // Made by an admin: the token is in create's answer and nowhere else.
        let (status, created) = call(
            &admin,
            &base,
            "create_api_token",
            json!({"tenant_id": tenant_a, "name": "billing"}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{label}: {created}");
        let token_a = created["secret"].as_str().unwrap().to_string();
        assert!(token_a.starts_with("tm_") && token_a.len() > 40, "{label}");
        let token_a_id = created["token"]["id"].as_str().unwrap().to_string();
        let (_, listed) = call(
            &admin,
            &base,
            "list_api_tokens",
            json!({"tenant_id": tenant_a}),
        )
        .await;
        assert_eq!(listed.as_array().unwrap().len(), 1, "{label}");
        assert!(
            !listed.to_string().contains(&token_a),
            "{label}: listed once"
        );
        assert_eq!(listed[0]["prefix"], token_a[..8], "{label}");
        let row = api_token::Entity::find_by_id(token_a_id.clone())
            .one(&p.db)
            .await
            .unwrap()
            .unwrap();
        assert!(
            !format!("{row:?}").contains(&token_a),
            "{label}: stored hashed"
        );
        assert_eq!(row.token_hash, server::auth::api_token::hash(&token_a));
        assert_eq!(row.created_by, support::ADMIN_USER);
        assert!(row.last_used_at.is_none());
        let audit = audit_event::Entity::find()
            .filter(audit_event::Column::Action.eq("api_token.created"))
            .all(&p.db)
            .await
            .unwrap();
        assert_eq!(audit.len(), 1, "{label}");
        assert!(
            !format!("{audit:?}").contains(&token_a),
            "{label}: not audited"
        );
        // The tenant editor's tab lists it (prefix only).
        let page = admin
            .get(format!("{base}/admin/tenants/{tenant_a}"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("API tokens") && page.contains("billing"),
            "{label}"
        );
        assert!(!page.contains(&token_a), "{label}");
        // Name validated on the server too.
        let (status, _) = call(
            &admin,
            &base,
            "create_api_token",
            json!({"tenant_id": tenant_a, "name": "x".repeat(101)}),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{label}");
        // Anonymous callers cannot make or list tokens.
        let anon = support::browser();
        let (status, _) = call(
            &anon,
            &base,
            "create_api_token",
            json!({"tenant_id": tenant_a, "name": "x"}),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{label}");
        let (_, created_b) = call(
            &admin,
            &base,
            "create_api_token",
            json!({"tenant_id": tenant_b, "name": "other"}),
        )
        .await;
        let token_b = created_b["secret"].as_str().unwrap().to_string();

        // No cookies, no Origin: a server calling the API.
        let api = Api {
            client: reqwest::Client::new(),
            base: base.clone(),
        };
        let hello = message("Hello");
        for token in [None, Some("tm_not-a-real-token"), Some("Basic abc")] {
            let (status, body) = api.send(token, &mb_a, None, &hello).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{label}: {token:?}");
            assert_eq!(body["error"], "unauthorized", "{label}");
        }

        // Queued; the status reflects the outbox row.
        let (status, body) = api.send(Some(&token_a), &mb_a, None, &hello).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{label}: {body}");
        assert_eq!(body["state"], "queued", "{label}");
        let id = body["id"].as_str().unwrap().to_string();
        let (status, view) = api.status(&token_a, &id).await;
        assert_eq!(status, StatusCode::OK, "{label}: {view}");
        let row = outbox_message::Entity::find_by_id(id.clone())
            .one(&p.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.tenant_email_id, mb_a, "{label}");
        assert_eq!(view["id"], id);
        assert_eq!(view["state"], row.state, "{label}");
        assert_eq!(view["subject"], "Hello");
        assert_eq!(view["to"], json!(["customer@fabrikam.com"]));
        let used = api_token::Entity::find_by_id(token_a_id.clone())
            .one(&p.db)
            .await
            .unwrap()
            .unwrap();
        assert!(used.last_used_at.is_some(), "{label}: last use recorded");

        // Another tenant's mailbox and message: not found, exactly like a missing one.
        let (status, other_mailbox) = api.send(Some(&token_b), &mb_a, None, &hello).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{label}");
        let (status, missing) = api
            .send(
                Some(&token_b),
                "00000000-0000-4000-8000-000000000000",
                None,
                &hello,
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{label}");
        assert_eq!(other_mailbox, missing, "{label}: never reveal which");
        let (status, _) = api.status(&token_b, &id).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{label}");
        let (status, _) = api.send(Some(&token_b), &mb_b, None, &hello).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{label}: B's own mailbox");

        // Invalid: field reasons, nothing stored.
        let before = outbox_message::Entity::find().count(&p.db).await.unwrap();
        let bad = json!({"to": ["not an address"], "subject": "two\nlines", "text_body": "x"});
        let (status, body) = api.send(Some(&token_a), &mb_a, None, &bad).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{label}: {body}");
        assert_eq!(body["error"], "invalid");
        assert!(body["fields"]["to"].is_string(), "{label}: {body}");
        assert!(body["fields"]["subject"].is_string(), "{label}: {body}");
        let (status, body) = api
            .send(Some(&token_a), &mb_a, None, &json!({"subject": 1}))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{label}: {body}");
        assert_eq!(
            outbox_message::Entity::find().count(&p.db).await.unwrap(),
            before
        );

        // Idempotency-Key: a retry gets the same id; other content is a conflict.
        let (status, first) = api
            .send(Some(&token_a), &mb_a, Some("order-1"), &hello)
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{label}: {first}");
        let (status, again) = api
            .send(Some(&token_a), &mb_a, Some("order-1"), &hello)
            .await;
        assert_eq!(status, StatusCode::OK, "{label}: {again}");
        assert_eq!(again["id"], first["id"], "{label}");
        let (status, body) = api
            .send(Some(&token_a), &mb_a, Some("order-1"), &message("Other"))
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{label}: {body}");
        let mut with_key = hello.clone();
        with_key["idempotency_key"] = json!("order-2");
        let (status, body) = api
            .send(Some(&token_a), &mb_a, Some("order-3"), &with_key)
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{label}: {body}");
        assert!(body["fields"]["idempotency_key"].is_string(), "{label}");

        // Over the body limit: 413 with a JSON body. Sent in-process so the
        // server refusing mid-upload cannot race the client.
        let huge = vec![b' '; server::routes::host_api::MAX_BODY_BYTES + 1];
        let request = axum::http::Request::post(format!("/v1/mailboxes/{mb_a}/messages"))
            .header("authorization", format!("Bearer {token_a}"))
            .header("content-type", "application/json")
            .body(axum::body::Body::from(huge))
            .unwrap();
        let r = tower::ServiceExt::oneshot(p.router.clone(), request)
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE, "{label}");
        let body = axum::body::to_bytes(r.into_body(), 64 * 1024)
            .await
            .unwrap();
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"], "too_large", "{label}");

        // A receive-only mailbox does not send.
        let (status, body) = api.send(Some(&token_a), &receive_only, None, &hello).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{label}: {body}");
        assert_eq!(body["error"], "not_sending");

        // The admin's session (cookie, same Origin) grants nothing on /v1.
        let r = admin
            .post(format!("{base}/v1/mailboxes/{mb_a}/messages"))
            .json(&hello)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{label}");
        let r = admin
            .get(format!("{base}/v1/messages/{id}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{label}");

        // Revoked: refused at once.
        let (status, revoked) = call(
            &admin,
            &base,
            "revoke_api_token",
            json!({"tenant_id": tenant_a, "token_id": token_a_id}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{label}: {revoked}");
        assert!(revoked["revoked_at"].is_string(), "{label}");
        let (status, _) = api.send(Some(&token_a), &mb_a, None, &hello).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{label}");
        let r = api
            .client
            .get(format!("{base}/v1/messages/{id}"))
            .bearer_auth(&token_a)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{label}");
        // Another tenant cannot revoke it (and it is not theirs to see).
        let (status, _) = call(
            &admin,
            &base,
            "revoke_api_token",
            json!({"tenant_id": tenant_b, "token_id": token_a_id}),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{label}");
    }
}

#[tokio::test]
async fn openapi_document_lists_every_path_and_the_bearer_scheme() {
    let t = support::sqlite().await;
    let p = server::startup::prepare(&t.config, support::leptos_options())
        .await
        .unwrap();
    let base = support::serve(p.router.clone()).await;
    let r = reqwest::get(format!("{base}/v1/openapi.json"))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let doc: Value = r.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths["/v1/mailboxes/{tenant_email_id}/messages"]["post"].is_object());
    assert!(paths["/v1/messages/{id}"]["get"].is_object());
    let received = &paths["/v1/mailboxes/{tenant_email_id}/received"]["get"];
    let params: Vec<&str> = received["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(params, ["tenant_email_id", "after", "limit", "pending"]);
    assert!(paths["/v1/mailboxes/{tenant_email_id}/received/acknowledge"]["post"].is_object());
    let download = &paths["/v1/received/{message_id}/attachments/{attachment_id}"]["get"];
    let file = &download["responses"]["200"]["content"]["application/octet-stream"]["schema"];
    assert_eq!(file["$ref"], "#/components/schemas/FileBytes");
    assert_eq!(
        doc["components"]["schemas"]["FileBytes"]["format"],
        "binary"
    );
    let scheme = &doc["components"]["securitySchemes"]["bearer"];
    assert_eq!(scheme["type"], "http");
    assert_eq!(scheme["scheme"], "bearer");
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for name in [
        "OutgoingMessage",
        "OutboxEntryView",
        "Accepted",
        "ErrorBody",
        "ReceivedPage",
        "ReceivedMail",
        "ReceivedFile",
        "MailAddress",
        "ActionState",
        "AcknowledgeRequest",
        "Acknowledged",
    ] {
        assert!(schemas.contains_key(name), "{name}");
    }
}
