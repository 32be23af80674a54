//! Graph mail: auth errors, /me, sendMail, drafts, list, delta, update, move, attachments.

mod common;

use std::time::Duration;

use common::*;
use ms_stand_in::{Address, IncomingMail};
use serde_json::{json, Value};

struct Mail {
    f: Fixture,
    token: String,
}

async fn mail() -> Mail {
    let f = fixture().await;
    let tokens = f.tokens_for(MAILBOX).await;
    let token = tokens["access_token"].as_str().unwrap().to_owned();
    Mail { f, token }
}

impl Mail {
    fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.f.http.get(self.url(path)).bearer_auth(&self.token)
    }

    fn post(&self, path: &str, body: Value) -> reqwest::RequestBuilder {
        self.f
            .http
            .post(self.url(path))
            .bearer_auth(&self.token)
            .json(&body)
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_owned()
        } else {
            self.f.graph(path)
        }
    }

    fn deliver(&self, subject: &str, received_at: i64) -> String {
        self.f
            .stand_in
            .deliver(IncomingMail {
                to_user: MAILBOX.into(),
                from: Address {
                    name: "Sender".into(),
                    address: "sender@example.org".into(),
                },
                subject: subject.into(),
                body: format!("body of {subject}"),
                received_at: Some(received_at),
                ..IncomingMail::default()
            })
            .unwrap()
    }
}

fn message(subject: &str) -> Value {
    json!({
        "subject": subject,
        "body": {"contentType": "Text", "content": "Hello"},
        "toRecipients": [{"emailAddress": {"address": "customer@example.org"}}],
    })
}

async fn assert_graph_error(response: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(response.status(), status);
    let request_id = response.headers()["request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(body["error"]["message"].is_string());
    let inner = &body["error"]["innerError"];
    assert_eq!(inner["request-id"], request_id.as_str());
    assert!(inner["client-request-id"].is_string());
    assert_eq!(inner["date"].as_str().unwrap().len(), 19, "{inner}");
    body
}

#[tokio::test]
async fn me_returns_the_signed_in_user() {
    let m = mail().await;
    let response = m.get("/me").send().await.unwrap();
    assert_eq!(response.status(), 200);
    let me: Value = response.json().await.unwrap();
    assert_eq!(me["id"], m.f.mailbox_oid.as_str());
    assert_eq!(me["mail"], MAILBOX);
    assert_eq!(me["userPrincipalName"], MAILBOX);
    assert_eq!(me["displayName"], "Contoso Mail");
}

#[tokio::test]
async fn me_mail_is_null_when_the_user_has_none() {
    let f = fixture().await;
    let tokens = f.tokens_for(ADMIN).await;
    let me: Value = f
        .http
        .get(f.graph("/me"))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(me["mail"].is_null());
    assert_eq!(me["userPrincipalName"], ADMIN);
}

#[tokio::test]
async fn missing_unknown_and_expired_tokens_are_401() {
    let m = mail().await;
    let r = m.f.http.get(m.f.graph("/me")).send().await.unwrap();
    assert!(r.headers().contains_key("www-authenticate"));
    assert_graph_error(r, 401, "InvalidAuthenticationToken").await;
    let r =
        m.f.http
            .get(m.f.graph("/me"))
            .bearer_auth("garbage")
            .send()
            .await
            .unwrap();
    assert_graph_error(r, 401, "InvalidAuthenticationToken").await;
    m.f.stand_in.advance(Duration::from_secs(3600));
    let r = m.get("/me").send().await.unwrap();
    let body = assert_graph_error(r, 401, "InvalidAuthenticationToken").await;
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("expired"));
}

#[tokio::test]
async fn control_mints_access_tokens_without_sign_in() {
    let f = fixture().await;
    let token = f.stand_in.issue_access_token(MAILBOX, CLIENT).unwrap();
    let me = |token: String| f.http.get(f.graph("/me")).bearer_auth(token).send();
    let r = me(token.clone()).await.unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["mail"], MAILBOX);

    let minted: Value = f
        .http
        .post(format!(
            "{}/_stand-in/users/{MAILBOX}/access-tokens",
            f.stand_in.base_url()
        ))
        .json(&json!({"client_id": CLIENT}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(minted["expires_in"], 3599);
    let other = minted["access_token"].as_str().unwrap().to_owned();
    assert_ne!(other, token);
    assert_eq!(me(other.clone()).await.unwrap().status(), 200);

    assert_eq!(f.stand_in.expire_access_tokens(MAILBOX).unwrap(), 2);
    assert_graph_error(me(other).await.unwrap(), 401, "InvalidAuthenticationToken").await;
    assert_eq!(
        f.stand_in.issue_access_token("nobody@contoso.com", CLIENT),
        Err(ms_stand_in::ControlError::UnknownUser(
            "nobody@contoso.com".into()
        ))
    );
    assert_eq!(
        f.stand_in.issue_access_token(MAILBOX, "not-an-app"),
        Err(ms_stand_in::ControlError::UnknownApp("not-an-app".into()))
    );
}

#[tokio::test]
async fn missing_scope_is_403_access_denied() {
    let f = fixture().await;
    f.consent_all();
    f.sign_in_only(MAILBOX);
    let url = f.authorize_url("common", &[("scope", "openid user.read mail.read")]);
    let code = f.authorize_redirect(&url).await["code"].clone();
    let tokens: Value = f.redeem(&code).await.json().await.unwrap();
    let r = f
        .http
        .post(f.graph("/me/sendMail"))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .json(&json!({"message": message("x")}))
        .send()
        .await
        .unwrap();
    assert_graph_error(r, 403, "ErrorAccessDenied").await;
    assert!(f.stand_in.ledger().sent.is_empty());
}

#[tokio::test]
async fn send_mail_is_202_empty_and_counted_in_the_ledger() {
    let m = mail().await;
    let body = json!({"message": message("Invoice 42"), "saveToSentItems": true});
    for _ in 0..2 {
        let r = m.post("/me/sendMail", body.clone()).send().await.unwrap();
        assert_eq!(r.status(), 202);
        assert!(r.bytes().await.unwrap().is_empty());
    }
    let ledger = m.f.stand_in.ledger();
    assert_eq!(ledger.sent.len(), 1);
    let sent = &ledger.sent[0];
    assert_eq!(sent.send_count, 2, "a retried sendMail sends twice");
    assert_eq!(sent.mailbox, MAILBOX);
    assert_eq!(sent.subject, "Invoice 42");
    assert_eq!(sent.to, vec!["customer@example.org".to_owned()]);
    assert_eq!(sent.via, vec!["sendMail", "sendMail"]);
    let items = m.f.stand_in.messages(MAILBOX, "sentitems").unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["from"]["emailAddress"]["address"], MAILBOX);

    let r = m
        .post(
            "/me/sendMail",
            json!({"message": message("No copy"), "saveToSentItems": false}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    assert_eq!(
        m.f.stand_in.messages(MAILBOX, "sentitems").unwrap().len(),
        2
    );
}

#[tokio::test]
async fn send_mail_validation_errors() {
    let m = mail().await;
    let r = m
        .post("/me/sendMail", json!({"message": {"subject": "x"}}))
        .send()
        .await
        .unwrap();
    assert_graph_error(r, 400, "ErrorInvalidRecipients").await;
    let r =
        m.f.http
            .post(m.f.graph("/me/sendMail"))
            .bearer_auth(&m.token)
            .body("{not json")
            .send()
            .await
            .unwrap();
    assert_graph_error(r, 400, "BadRequest").await;
    assert!(m.f.stand_in.ledger().sent.is_empty());
}

#[tokio::test]
async fn mail_to_a_stand_in_user_lands_in_their_inbox() {
    let m = mail().await;
    let mut msg = message("Internal");
    msg["toRecipients"] = json!([{"emailAddress": {"address": STRANGER}}]);
    m.post("/me/sendMail", json!({"message": msg}))
        .send()
        .await
        .unwrap();
    let inbox = m.f.stand_in.messages(STRANGER, "inbox").unwrap();
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0]["subject"], "Internal");
}

#[tokio::test]
async fn draft_then_send_and_a_second_send_fails() {
    let m = mail().await;
    let r = m
        .post("/me/messages", message("Draft 1"))
        .header("Prefer", "IdType=\"ImmutableId\"")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let draft: Value = r.json().await.unwrap();
    assert_eq!(draft["isDraft"], true);
    let id = draft["id"].as_str().unwrap().to_owned();
    let r = m
        .post(&format!("/me/messages/{id}/send"), json!(null))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    // The immutable id still finds it, now sent.
    let sent: Value = m
        .get(&format!("/me/messages/{id}"))
        .header("Prefer", "IdType=\"ImmutableId\"")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(sent["isDraft"], false);
    assert_eq!(sent["id"], id.as_str());
    let r = m
        .post(&format!("/me/messages/{id}/send"), json!(null))
        .send()
        .await
        .unwrap();
    assert_graph_error(r, 400, "ErrorInvalidOperation").await;
    let ledger = m.f.stand_in.ledger();
    assert_eq!(ledger.sent.len(), 1);
    assert_eq!(ledger.sent[0].send_count, 1);
    assert_eq!(ledger.sent[0].via, vec!["draft"]);
    assert_eq!(ledger.sent[0].message_ids, vec![id]);
}

#[tokio::test]
async fn draft_rest_id_is_gone_after_send() {
    let m = mail().await;
    let draft: Value = m
        .post("/me/messages", message("Draft"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = draft["id"].as_str().unwrap().to_owned();
    assert_eq!(
        m.post(&format!("/me/messages/{id}/send"), json!(null))
            .send()
            .await
            .unwrap()
            .status(),
        202
    );
    let r = m
        .post(&format!("/me/messages/{id}/send"), json!(null))
        .send()
        .await
        .unwrap();
    assert_graph_error(r, 404, "ErrorItemNotFound").await;
}

#[tokio::test]
async fn list_with_top_select_filter_and_next_link() {
    let m = mail().await;
    let t0 = m.f.stand_in.now() - 10_000;
    for i in 0..5 {
        m.deliver(&format!("m{i}"), t0 + i * 100);
    }
    let r = m
        .get("/me/mailFolders/inbox/messages?$top=2&$select=subject,receivedDateTime")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let page: Value = r.json().await.unwrap();
    let value = page["value"].as_array().unwrap();
    assert_eq!(value.len(), 2);
    assert_eq!(value[0]["subject"], "m4", "newest first");
    assert!(value[0].get("body").is_none(), "$select applies");
    assert!(value[0].get("id").is_some());
    let mut subjects: Vec<String> = value
        .iter()
        .map(|v| v["subject"].as_str().unwrap().to_owned())
        .collect();
    let mut next = page["@odata.nextLink"].as_str().map(str::to_owned);
    while let Some(link) = next {
        let page: Value = m.get(&link).send().await.unwrap().json().await.unwrap();
        subjects.extend(
            page["value"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v["subject"].as_str().unwrap().to_owned()),
        );
        next = page["@odata.nextLink"].as_str().map(str::to_owned);
    }
    assert_eq!(subjects, vec!["m4", "m3", "m2", "m1", "m0"]);

    let since = ms_stand_in::timefmt::iso(t0 + 250);
    let page: Value = m
        .get(&format!(
            "/me/mailFolders/inbox/messages?$filter=receivedDateTime ge {since}"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["value"].as_array().unwrap().len(), 2);
    let r = m
        .get("/me/mailFolders/inbox/messages?$filter=foo eq 1")
        .send()
        .await
        .unwrap();
    assert_graph_error(r, 400, "BadRequest").await;
    let r = m.get("/me/mailFolders/nope/messages").send().await.unwrap();
    assert_graph_error(r, 404, "ErrorItemNotFound").await;
}

#[tokio::test]
async fn patch_is_read_and_move_changes_id_unless_immutable() {
    let m = mail().await;
    let now = m.f.stand_in.now();
    m.deliver("a", now);
    let list: Value = m
        .get("/me/mailFolders/inbox/messages")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = list["value"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(list["value"][0]["isRead"], false);
    let r =
        m.f.http
            .patch(m.f.graph(&format!("/me/messages/{id}")))
            .bearer_auth(&m.token)
            .json(&json!({"isRead": true}))
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["isRead"], true);

    let r = m
        .post(
            &format!("/me/messages/{id}/move"),
            json!({"destinationId": "archive"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let moved: Value = r.json().await.unwrap();
    let new_id = moved["id"].as_str().unwrap().to_owned();
    assert_ne!(new_id, id);
    assert_graph_error(
        m.get(&format!("/me/messages/{id}")).send().await.unwrap(),
        404,
        "ErrorItemNotFound",
    )
    .await;

    let r = m
        .post(
            &format!("/me/messages/{new_id}/move"),
            json!({"destinationId": "inbox"}),
        )
        .header("Prefer", "IdType=\"ImmutableId\"")
        .send()
        .await
        .unwrap();
    let moved: Value = r.json().await.unwrap();
    let immutable = moved["id"].as_str().unwrap().to_owned();
    let r = m
        .post(
            &format!("/me/messages/{immutable}/move"),
            json!({"destinationId": "archive"}),
        )
        .header("Prefer", "IdType=\"ImmutableId\"")
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["id"], immutable.as_str());
    let r = m
        .post(
            &format!("/me/messages/{immutable}/move"),
            json!({"destinationId": "bogus"}),
        )
        .send()
        .await
        .unwrap();
    assert_graph_error(r, 400, "ErrorInvalidIdMalformed").await;
}

#[tokio::test]
async fn delta_pages_then_changes_then_removed_then_expired_state() {
    let m = mail().await;
    let now = m.f.stand_in.now();
    for i in 0..3 {
        m.deliver(&format!("d{i}"), now + i);
    }
    // Round 1: 3 messages, page size 2.
    let page: Value = m
        .get("/me/mailFolders/inbox/messages/delta?$select=subject,isRead")
        .header("Prefer", "odata.maxpagesize=2")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["value"].as_array().unwrap().len(), 2);
    assert!(page.get("@odata.deltaLink").is_none());
    let next = page["@odata.nextLink"].as_str().unwrap().to_owned();
    let page: Value = m
        .get(&next)
        .header("Prefer", "odata.maxpagesize=2")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["value"].as_array().unwrap().len(), 1);
    assert!(
        page["value"][0].get("body").is_none(),
        "$select carried over"
    );
    let delta_link = page["@odata.deltaLink"].as_str().unwrap().to_owned();

    // Nothing changed: empty round.
    let page: Value = m
        .get(&delta_link)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["value"].as_array().unwrap().len(), 0);
    let delta_link = page["@odata.deltaLink"].as_str().unwrap().to_owned();

    // New mail, a read flag and a move out of the inbox.
    let list: Value = m
        .get("/me/mailFolders/inbox/messages")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<String> = list["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_owned())
        .collect();
    m.f.http
        .patch(m.f.graph(&format!("/me/messages/{}", ids[0])))
        .bearer_auth(&m.token)
        .json(&json!({"isRead": true}))
        .send()
        .await
        .unwrap();
    m.post(
        &format!("/me/messages/{}/move", ids[1]),
        json!({"destinationId": "archive"}),
    )
    .send()
    .await
    .unwrap();
    m.deliver("d3", now + 10);
    let page: Value = m
        .get(&delta_link)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let value = page["value"].as_array().unwrap();
    assert_eq!(value.len(), 3, "{page}");
    let removed: Vec<&Value> = value
        .iter()
        .filter(|v| v.get("@removed").is_some())
        .collect();
    assert_eq!(removed.len(), 1);
    assert_eq!(removed[0]["id"], ids[1].as_str());
    assert_eq!(removed[0]["@removed"]["reason"], "deleted");
    assert!(value.iter().any(|v| v["subject"] == "d3"));
    assert!(value
        .iter()
        .any(|v| v["id"] == ids[0].as_str() && v["isRead"] == true));
    let delta_link = page["@odata.deltaLink"].as_str().unwrap().to_owned();

    m.f.stand_in.expire_delta_state(MAILBOX).unwrap();
    let r = m.get(&delta_link).send().await.unwrap();
    assert_graph_error(r, 410, "syncStateNotFound").await;
}

#[tokio::test]
async fn attachments_inline_and_by_upload_session() {
    use base64::Engine;
    let m = mail().await;
    let mut msg = message("With attachment");
    msg["attachments"] = json!([{
        "@odata.type": "#microsoft.graph.fileAttachment",
        "name": "a.txt", "contentType": "text/plain",
        "contentBytes": base64::engine::general_purpose::STANDARD.encode(b"hello"),
    }]);
    let draft: Value = m
        .post("/me/messages", msg)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(draft["hasAttachments"], true);
    let id = draft["id"].as_str().unwrap().to_owned();

    // Too big inline.
    let big = vec![7u8; 3 * 1024 * 1024 + 1];
    let r = m
        .post(
            &format!("/me/messages/{id}/attachments"),
            json!({"@odata.type": "#microsoft.graph.fileAttachment", "name": "big.bin",
                   "contentBytes": base64::engine::general_purpose::STANDARD.encode(&big)}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);

    // Upload session with two chunks.
    let size = 5 * 1024 * 1024;
    let r = m
        .post(
            &format!("/me/messages/{id}/attachments/createUploadSession"),
            json!({"AttachmentItem": {"attachmentType": "file", "name": "big.bin", "size": size}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let session: Value = r.json().await.unwrap();
    assert_eq!(session["nextExpectedRanges"][0], "0-");
    let upload = session["uploadUrl"].as_str().unwrap().to_owned();
    let chunk = 4 * 1024 * 1024;
    // With an Authorization header: refused.
    let r =
        m.f.http
            .put(&upload)
            .bearer_auth(&m.token)
            .header("Content-Range", format!("bytes 0-{}/{size}", chunk - 1))
            .body(vec![1u8; chunk])
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), 401);
    // Out of order: refused.
    let r =
        m.f.http
            .put(&upload)
            .header(
                "Content-Range",
                format!("bytes {chunk}-{}/{size}", size - 1),
            )
            .body(vec![2u8; size - chunk])
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), 400);
    let r =
        m.f.http
            .put(&upload)
            .header("Content-Range", format!("bytes 0-{}/{size}", chunk - 1))
            .body(vec![1u8; chunk])
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), 200);
    let progress: Value = r.json().await.unwrap();
    assert_eq!(progress["nextExpectedRanges"][0], format!("{chunk}-"));
    let r =
        m.f.http
            .put(&upload)
            .header(
                "Content-Range",
                format!("bytes {chunk}-{}/{size}", size - 1),
            )
            .body(vec![2u8; size - chunk])
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), 201);
    assert!(r.headers().contains_key("location"));
    let puts: Vec<u16> =
        m.f.stand_in
            .ledger()
            .graph_requests
            .iter()
            .filter(|g| g.method == "PUT" && g.path.starts_with("/upload/"))
            .map(|g| g.status)
            .collect();
    assert_eq!(puts, [401, 400, 200, 201], "upload PUTs are in the ledger");

    let list: Value = m
        .get(&format!("/me/messages/{id}/attachments"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let value = list["value"].as_array().unwrap();
    assert_eq!(value.len(), 2);
    assert_eq!(value[1]["name"], "big.bin");
    assert_eq!(value[1]["size"], size);
    let r = m
        .post(&format!("/me/messages/{id}/send"), json!(null))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    assert_eq!(
        m.f.stand_in.ledger().sent[0].attachment_names,
        vec!["a.txt", "big.bin"]
    );
}

#[tokio::test]
async fn drafts_are_found_by_an_extended_property_of_our_own() {
    let m = mail().await;
    let prop = "String {6f2a1c4e-8b3d-4f5a-9e7c-1d2b3a4c5e6f} Name TenantMailOutboxId";
    for (subject, tag) in [("Tagged", "outbox-1"), ("Other", "outbox-2")] {
        let mut msg = message(subject);
        msg["singleValueExtendedProperties"] = json!([{"id": prop, "value": tag}]);
        let r = m.post("/me/messages", msg).send().await.unwrap();
        assert_eq!(r.status(), 201);
    }
    m.post("/me/messages", message("Untagged"))
        .send()
        .await
        .unwrap();
    let find = |filter: String| {
        let m = &m;
        async move {
            let r = m
                .get("/me/mailFolders/drafts/messages")
                .query(&[("$filter", filter.as_str()), ("$select", "id,subject")])
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let body: Value = r.json().await.unwrap();
            (status, body)
        }
    };
    let (status, body) = find(format!(
        "singleValueExtendedProperties/Any(ep: ep/id eq '{}' and ep/value eq 'outbox-1')",
        prop.to_uppercase()
    ))
    .await;
    assert_eq!(status, 200, "{body}");
    let subjects: Vec<&str> = body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["subject"].as_str().unwrap())
        .collect();
    assert_eq!(subjects, ["Tagged"]);
    let (_, body) = find(format!(
        "singleValueExtendedProperties/Any(ep: ep/id eq '{prop}' and ep/value eq 'outbox-9')"
    ))
    .await;
    assert_eq!(body["value"], json!([]));
    let (status, _) = find("singleValueExtendedProperties/Any(ep: ep/id eq 'x')".into()).await;
    assert_eq!(status, 400);
}
