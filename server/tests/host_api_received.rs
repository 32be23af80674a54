//! Received mail over the host API (`/v1`), on SQLite and PostgreSQL, with
//! mail really received through the stand-in's Graph and the inbox sync:
//! paging with `after`/`next_cursor`, `pending`, acknowledging (counted once,
//! never across tenants), attachment downloads (exact bytes and headers),
//! tenant scoping (404 like a missing one), 401 and the 422 field reasons.
mod support;

use ms_stand_in::fixture::MAILBOX;
use ms_stand_in::{Address, IncomingAttachment, IncomingMail};
use reqwest::StatusCode;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{json, Value};
use server::db::entities::{inbox_attachment, inbox_message};
use server::mail::inbox::sync::{Inbox, InboxConfig, SyncOutcome};
use std::sync::Arc;
use std::time::Duration;

const MISSING: &str = "00000000-0000-4000-8000-000000000000";

/// A connected mailbox of tenant A with its token, and tenant B with a
/// mailbox and a token of its own.
struct Fixture {
    c: support::Mailbox,
    inbox: Arc<Inbox>,
    http: reqwest::Client,
    token_a: String,
    token_b: String,
    mailbox_b: String,
}

impl Fixture {
    fn label(&self) -> &'static str {
        self.c.t.label
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.c.base)
    }

    async fn get(&self, token: Option<&str>, path: &str) -> reqwest::Response {
        let mut r = self.http.get(self.url(path));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send().await.unwrap()
    }

    async fn get_json(&self, token: Option<&str>, path: &str) -> (StatusCode, Value) {
        let r = self.get(token, path).await;
        let status = r.status();
        (status, r.json().await.unwrap())
    }

    /// The received feed of tenant A's mailbox with `query`.
    async fn feed(&self, query: &str) -> (StatusCode, Value) {
        let path = format!("/v1/mailboxes/{}/received?{query}", self.c.email_id);
        self.get_json(Some(&self.token_a), &path).await
    }

    async fn acknowledge(
        &self,
        token: Option<&str>,
        mailbox: &str,
        body: Value,
    ) -> (StatusCode, Value) {
        let mut r = self
            .http
            .post(self.url(&format!("/v1/mailboxes/{mailbox}/received/acknowledge")))
            .json(&body);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        let r = r.send().await.unwrap();
        let status = r.status();
        (status, r.json().await.unwrap())
    }

    /// Syncs (as the poll would) until a round completes.
    async fn sync(&self) -> SyncOutcome {
        for _ in 0..20 {
            let outcome = self.inbox.sync_mailbox(&self.c.email_id).await;
            if matches!(outcome, SyncOutcome::Synced { .. }) {
                return outcome;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{}: the sync never completed", self.label());
    }

    /// Tenant A's stored messages in arrival order.
    async fn stored(&self) -> Vec<inbox_message::Model> {
        inbox_message::Entity::find()
            .filter(inbox_message::Column::TenantEmailId.eq(&self.c.email_id))
            .order_by_asc(inbox_message::Column::Seq)
            .all(&self.c.p.db)
            .await
            .unwrap()
    }
}

async fn token(c: &support::Mailbox, tenant_id: &str) -> String {
    let created = c
        .call(
            "create_api_token",
            json!({"tenant_id": tenant_id, "name": "inbound"}),
        )
        .await;
    created["secret"].as_str().unwrap().to_string()
}

async fn fixture(t: support::TestDb, secret: &str) -> Fixture {
    let c = support::Mailbox::connected(t, secret).await;
    let token_a = token(&c, &c.tenant_id).await;
    let tenant_b = c.call("create_tenant", json!({"name": "Fabrikam"})).await;
    let tenant_b = tenant_b["id"].as_str().unwrap().to_string();
    let mailbox_b = support::mailbox_in(&c.p, &tenant_b, "receive").await;
    let token_b = token(&c, &tenant_b).await;
    let inbox = c.inbox(InboxConfig {
        tick: Duration::from_millis(20),
        lease: chrono::Duration::seconds(30),
        action_batch: 50,
        max_resyncs: 2,
        ..InboxConfig::default()
    });
    let f = Fixture {
        c,
        inbox,
        http: reqwest::Client::new(),
        token_a,
        token_b,
        mailbox_b,
    };
    // The first sync starts receiving: only mail after it is imported.
    assert_eq!(f.sync().await, SyncOutcome::Synced { new: 0, pages: 1 });
    f
}

use support::incoming as mail;

fn ids(page: &Value) -> Vec<String> {
    page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_string())
        .collect()
}

fn assert_invalid(label: &str, (status, body): (StatusCode, Value), field: &str) {
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{label}: {body}");
    assert_eq!(body["error"], "invalid", "{label}: {body}");
    assert!(
        body["fields"][field].is_string(),
        "{label}: {field}: {body}"
    );
}

#[tokio::test]
async fn received_mail_is_paged_acknowledged_and_scoped_to_the_tenant() {
    for t in support::all().await {
        let f = fixture(t, "received-api-secret~1").await;
        let label = f.label();
        let mine = format!("/v1/mailboxes/{}/received", f.c.email_id);
        let subjects: Vec<String> = (0..7).map(|i| format!("Feed {i}")).collect();
        for s in &subjects {
            f.c.stand_in.deliver(mail(s)).unwrap();
        }
        assert_eq!(f.sync().await, SyncOutcome::Synced { new: 7, pages: 1 });
        let stored = f.stored().await;
        let stored_ids: Vec<String> = stored.iter().map(|m| m.id.clone()).collect();
        assert_eq!(stored.len(), 7, "{label}");

        // Tokens: none, unknown, and an admin's session cookie are all 401.
        for token in [None, Some("tm_not-a-real-token")] {
            let r = f.get(token, &mine).await;
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{label}: {token:?}");
            assert_eq!(r.headers()["www-authenticate"], "Bearer", "{label}");
            let (status, _) = f
                .acknowledge(token, &f.c.email_id, json!({"ids": [stored_ids[0]]}))
                .await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{label}: {token:?}");
        }
        let r = f.c.admin.get(f.url(&mine)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{label}: cookie");

        // Another tenant's mailbox is exactly as missing as a missing one.
        let (status, theirs) = f.get_json(Some(&f.token_b), &mine).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{label}: {theirs}");
        let (status, missing) = f
            .get_json(
                Some(&f.token_b),
                &format!("/v1/mailboxes/{MISSING}/received"),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{label}");
        assert_eq!(theirs, missing, "{label}: never reveal which");
        let (status, _) = f
            .acknowledge(Some(&f.token_b), &f.c.email_id, json!({"ids": stored_ids}))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{label}");
        let (status, _) = f
            .get_json(
                Some(&f.token_a),
                &format!("/v1/mailboxes/{}/received", f.mailbox_b),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{label}: B's mailbox for A");

        // Everything, by default, in arrival order.
        let (status, all) = f.feed("").await;
        assert_eq!(status, StatusCode::OK, "{label}: {all}");
        assert_eq!(ids(&all), stored_ids, "{label}");
        let listed: Vec<&str> = all["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["subject"].as_str().unwrap())
            .collect();
        assert_eq!(listed, subjects, "{label}: delivery order");
        assert_eq!(all["next_cursor"], stored[6].seq, "{label}");
        let first = &all["messages"][0];
        assert_eq!(first["seq"], stored[0].seq, "{label}");
        assert_eq!(first["acknowledged"], false, "{label}");
        assert_eq!(first["after_processing"], "none", "{label}");
        assert_eq!(
            first["from"],
            json!({"name": "Fabrikam Support", "address": "support@fabrikam.example"}),
            "{label}"
        );
        assert_eq!(first["to"][0]["address"], MAILBOX, "{label}");
        assert_eq!(first["body_text"], "Body of Feed 0", "{label}");

        // Paging: every message once, in order; an empty page keeps the cursor.
        let mut after = 0;
        let mut paged = Vec::new();
        let mut sizes = Vec::new();
        loop {
            let (status, page) = f.feed(&format!("after={after}&limit=3")).await;
            assert_eq!(status, StatusCode::OK, "{label}: {page}");
            let page_ids = ids(&page);
            sizes.push(page_ids.len());
            if page_ids.is_empty() {
                assert_eq!(page["next_cursor"], after, "{label}");
                break;
            }
            let seqs: Vec<i64> = page["messages"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["seq"].as_i64().unwrap())
                .collect();
            assert!(seqs.iter().all(|s| *s > after), "{label}: after {after}");
            assert_eq!(page["next_cursor"], *seqs.last().unwrap(), "{label}");
            after = page["next_cursor"].as_i64().unwrap();
            paged.extend(page_ids);
        }
        assert_eq!(sizes, vec![3, 3, 1, 0], "{label}");
        assert_eq!(paged, stored_ids, "{label}: each once, in order");

        // Acknowledging the first three (a duplicate and unknown ids change nothing).
        let mut ack = stored_ids[..3].to_vec();
        ack.push(stored_ids[0].clone());
        ack.push(MISSING.to_string());
        let (status, body) = f
            .acknowledge(Some(&f.token_a), &f.c.email_id, json!({"ids": ack}))
            .await;
        assert_eq!(status, StatusCode::OK, "{label}: {body}");
        assert_eq!(body, json!({"acknowledged": 3}), "{label}");
        let (status, body) = f
            .acknowledge(Some(&f.token_a), &f.c.email_id, json!({"ids": ack}))
            .await;
        assert_eq!(status, StatusCode::OK, "{label}: {body}");
        assert_eq!(body, json!({"acknowledged": 0}), "{label}: repeating");
        let acked: Vec<bool> = f
            .stored()
            .await
            .iter()
            .map(|m| m.acknowledged_at.is_some())
            .collect();
        assert_eq!(
            acked,
            [true, true, true, false, false, false, false],
            "{label}"
        );

        // pending=true lists only the rest, and pages like the full feed.
        let (status, pending) = f.feed("pending=true").await;
        assert_eq!(status, StatusCode::OK, "{label}: {pending}");
        assert_eq!(ids(&pending), stored_ids[3..], "{label}");
        assert!(
            pending["messages"]
                .as_array()
                .unwrap()
                .iter()
                .all(|m| m["acknowledged"] == false),
            "{label}"
        );
        assert_eq!(pending["next_cursor"], stored[6].seq, "{label}");
        let (_, pending) = f
            .feed(&format!("pending=true&after={}&limit=1", stored[4].seq))
            .await;
        assert_eq!(ids(&pending), stored_ids[5..6], "{label}");
        assert_eq!(pending["next_cursor"], stored[5].seq, "{label}");
        let (_, not_pending) = f.feed("pending=false&limit=200").await;
        assert_eq!(ids(&not_pending), stored_ids, "{label}");
        assert_eq!(not_pending["messages"][0]["acknowledged"], true, "{label}");
        assert_eq!(not_pending["messages"][3]["acknowledged"], false, "{label}");

        // Tenant B acknowledging A's ids in its own mailbox: nothing, and no error.
        let (status, body) = f
            .acknowledge(Some(&f.token_b), &f.mailbox_b, json!({"ids": stored_ids}))
            .await;
        assert_eq!(status, StatusCode::OK, "{label}: {body}");
        assert_eq!(body, json!({"acknowledged": 0}), "{label}");
        let (_, pending) = f.feed("pending=true").await;
        assert_eq!(ids(&pending), stored_ids[3..], "{label}: still pending");

        // Invalid queries and bodies: 422 naming the field.
        for (query, field) in [
            ("limit=0", "limit"),
            ("limit=1000", "limit"),
            ("limit=201", "limit"),
            ("after=-1", "after"),
            ("after=abc", "after"),
            ("pending=yes", "pending"),
        ] {
            assert_invalid(&format!("{label}: {query}"), f.feed(query).await, field);
        }
        let (status, _) = f.feed("limit=200").await;
        assert_eq!(status, StatusCode::OK, "{label}: the maximum is allowed");
        for body in [
            json!({"ids": []}),
            json!({}),
            json!({"ids": vec![stored_ids[3].clone(); 501]}),
        ] {
            let answer = f
                .acknowledge(Some(&f.token_a), &f.c.email_id, body.clone())
                .await;
            assert_invalid(&format!("{label}: {body}"), answer, "ids");
        }
        let (status, body) = f
            .acknowledge(Some(&f.token_a), &f.c.email_id, json!({"ids": "all"}))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{label}: {body}");
        let (_, pending) = f.feed("pending=true").await;
        assert_eq!(
            ids(&pending),
            stored_ids[3..],
            "{label}: refused requests acknowledged nothing"
        );
    }
}

#[tokio::test]
async fn received_details_and_attachments_are_served_as_received() {
    for t in support::all().await {
        let f = fixture(t, "received-api-secret~2").await;
        let label = f.label();
        let pdf: Vec<u8> = (0..5000u32).map(|b| (b % 251) as u8).collect();
        let text = "Zahlen für Q1\n".as_bytes().to_vec();
        let png = vec![0x89, b'P', b'N', b'G', 0, 1, 2, 3];
        let html = "<p>Please find the <b>report</b> attached.</p><script>alert(1)</script>";
        f.c.stand_in
            .deliver(IncomingMail {
                body: html.into(),
                content_type: Some("html".into()),
                cc: vec![Address {
                    name: "Accounts".into(),
                    address: "accounts@fabrikam.example".into(),
                }],
                internet_message_id: Some("<report-1@fabrikam.example>".into()),
                attachments: vec![
                    IncomingAttachment {
                        name: "report.pdf".into(),
                        content_type: "application/pdf".into(),
                        content: pdf.clone(),
                        is_inline: false,
                        content_id: None,
                        is_item: false,
                    },
                    IncomingAttachment {
                        name: "Übersicht \"Q1\".txt".into(),
                        content_type: "text/plain; charset=utf-8".into(),
                        content: text.clone(),
                        is_inline: false,
                        content_id: None,
                        is_item: false,
                    },
                    IncomingAttachment {
                        name: "logo.png".into(),
                        content_type: "not a media type".into(),
                        content: png.clone(),
                        is_inline: true,
                        content_id: None,
                        is_item: false,
                    },
                ],
                ..mail("Quarterly report")
            })
            .unwrap();
        f.c.stand_in.deliver(mail("Plain")).unwrap();
        assert_eq!(f.sync().await, SyncOutcome::Synced { new: 2, pages: 1 });

        let (status, page) = f.feed("").await;
        assert_eq!(status, StatusCode::OK, "{label}: {page}");
        let report = &page["messages"][0];
        let plain = &page["messages"][1];
        assert_eq!(report["subject"], "Quarterly report", "{label}");
        assert_eq!(report["importance"], "normal", "{label}");
        assert!(
            report["conversation_id"]
                .as_str()
                .is_some_and(|c| !c.is_empty())
                && report["conversation_id"] != plain["conversation_id"],
            "{label}: each message its own thread"
        );
        assert_eq!(
            report["internet_message_id"], "<report-1@fabrikam.example>",
            "{label}"
        );
        assert_eq!(
            report["cc"],
            json!([{"name": "Accounts", "address": "accounts@fabrikam.example"}]),
            "{label}"
        );
        assert_eq!(report["reply_to"], json!([]), "{label}");
        assert_eq!(report["body_html"], html, "{label}: raw, as received");
        let body_text = report["body_text"].as_str().unwrap();
        assert!(
            body_text.contains("report") && !body_text.contains("<b>"),
            "{label}: {body_text}"
        );
        assert_eq!(plain["body_html"], Value::Null, "{label}");
        assert_eq!(plain["attachments"], json!([]), "{label}");
        let received_at = report["received_at"].as_str().unwrap();
        let received_at = chrono::DateTime::parse_from_rfc3339(received_at).unwrap();
        assert!(
            (support::now() - received_at.to_utc()).num_minutes().abs() < 5,
            "{label}: {received_at}"
        );

        let message_id = report["id"].as_str().unwrap().to_string();
        let files = report["attachments"].as_array().unwrap();
        let names: Vec<&str> = files.iter().map(|a| a["name"].as_str().unwrap()).collect();
        assert_eq!(
            names,
            ["logo.png", "report.pdf", "Übersicht \"Q1\".txt"],
            "{label}: by name"
        );
        let expected = [
            (
                png.as_slice(),
                "application/octet-stream",
                "attachment; filename=\"logo.png\"; filename*=UTF-8''logo%2Epng",
                true,
            ),
            (
                pdf.as_slice(),
                "application/pdf",
                "attachment; filename=\"report.pdf\"; filename*=UTF-8''report%2Epdf",
                false,
            ),
            (
                text.as_slice(),
                "text/plain; charset=utf-8",
                // Quotes and non-ASCII never reach the quoted form raw; the
                // exact name is in filename* (RFC 5987).
                "attachment; filename=\"_bersicht _Q1_.txt\"; filename*=UTF-8''%C3%9Cbersicht%20%22Q1%22%2Etxt",
                false,
            ),
        ];
        for (file, (bytes, content_type, disposition, inline)) in files.iter().zip(&expected) {
            let download = file["download"].as_str().unwrap();
            assert_eq!(
                download,
                format!(
                    "/v1/received/{message_id}/attachments/{}",
                    file["id"].as_str().unwrap()
                ),
                "{label}"
            );
            assert_eq!(file["size"], bytes.len(), "{label}: {download}");
            assert_eq!(file["is_inline"], *inline, "{label}: {download}");
            let r = f.get(Some(&f.token_a), download).await;
            assert_eq!(r.status(), StatusCode::OK, "{label}: {download}");
            let headers = r.headers().clone();
            assert_eq!(headers["content-type"], *content_type, "{label}");
            assert_eq!(headers["content-disposition"], *disposition, "{label}");
            assert_eq!(headers["x-content-type-options"], "nosniff", "{label}");
            assert_eq!(
                r.bytes().await.unwrap().as_ref(),
                *bytes,
                "{label}: exact bytes"
            );

            // Not for another tenant, nor without a token.
            let (status, theirs) = f.get_json(Some(&f.token_b), download).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{label}");
            assert_eq!(theirs, json!({"error": "not_found"}), "{label}");
            assert_eq!(
                f.get(None, download).await.status(),
                StatusCode::UNAUTHORIZED,
                "{label}"
            );
        }

        // An attachment id under another message, or unknown: not found.
        let pdf_id = files[1]["id"].as_str().unwrap();
        let plain_id = plain["id"].as_str().unwrap();
        for path in [
            format!("/v1/received/{plain_id}/attachments/{pdf_id}"),
            format!("/v1/received/{message_id}/attachments/{MISSING}"),
            format!("/v1/received/{MISSING}/attachments/{pdf_id}"),
        ] {
            let (status, body) = f.get_json(Some(&f.token_a), &path).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{label}: {path}");
            assert_eq!(body, json!({"error": "not_found"}), "{label}: {path}");
        }

        // A link to a file elsewhere is described but has no bytes: 404 saying so.
        inbox_attachment::Entity::update_many()
            .col_expr(
                inbox_attachment::Column::Content,
                Expr::value(Option::<Vec<u8>>::None),
            )
            .filter(inbox_attachment::Column::Id.eq(pdf_id))
            .exec(&f.c.p.db)
            .await
            .unwrap();
        let (status, body) = f
            .get_json(Some(&f.token_a), files[1]["download"].as_str().unwrap())
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{label}: {body}");
        assert_eq!(body["error"], "not_found", "{label}");
        assert!(
            body["message"].as_str().unwrap().contains("link to a file"),
            "{label}"
        );
        let (_, again) = f.feed("").await;
        assert_eq!(
            again["messages"][0]["attachments"][1]["name"], "report.pdf",
            "{label}: still listed"
        );
    }
}
