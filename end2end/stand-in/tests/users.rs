//! `/v1.0/users/{id|userPrincipalName|mail}/…`: the same mail endpoints as `/me`, for one's own
//! mailbox with a delegated token; lookup rules and Graph's 404s.

mod common;

use base64::Engine;
use common::subs::assert_graph_error;
use common::*;
use ms_stand_in::{Address, IncomingMail};
use serde_json::{json, Value};

struct Own {
    f: Fixture,
    token: String,
}

async fn own() -> Own {
    let f = fixture().await;
    let tokens = f.tokens_for(MAILBOX).await;
    let token = tokens["access_token"].as_str().unwrap().to_owned();
    Own { f, token }
}

impl Own {
    fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_owned()
        } else {
            self.f.graph(path)
        }
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        let r = self.f.http.get(self.url(path)).bearer_auth(&self.token);
        r.send().await.unwrap()
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Value) -> reqwest::Response {
        self.f
            .http
            .request(method, self.url(path))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        self.send(reqwest::Method::POST, path, body).await
    }

    fn deliver(&self, subject: &str) -> String {
        self.f
            .stand_in
            .deliver(IncomingMail {
                to_user: MAILBOX.into(),
                from: Address {
                    name: "Sender".into(),
                    address: "sender@example.org".into(),
                },
                subject: subject.into(),
                ..IncomingMail::default()
            })
            .unwrap()
    }
}

fn draft(subject: &str) -> Value {
    json!({
        "subject": subject,
        "body": {"contentType": "Text", "content": "Hello"},
        "toRecipients": [{"emailAddress": {"address": "customer@example.org"}}],
    })
}

async fn json_of(r: reqwest::Response, status: u16) -> Value {
    assert_eq!(r.status(), status);
    r.json().await.unwrap()
}

#[tokio::test]
async fn the_user_resource_by_id_upn_or_mail() {
    let o = own().await;
    let oid = o.f.mailbox_oid.clone();
    for key in [oid.as_str(), "MAILBOX@Contoso.com", "mailbox%40contoso.com"] {
        let me = json_of(o.get(&format!("/users/{key}")).await, 200).await;
        assert_eq!(me["id"], oid.as_str(), "{key}");
        assert_eq!(me["displayName"], "Contoso Mail");
        assert_eq!(me["mail"], MAILBOX);
        assert_eq!(me["userPrincipalName"], MAILBOX);
    }
    let me = json_of(o.get("/me").await, 200).await;
    let by_upn = json_of(o.get(&format!("/users/{MAILBOX}")).await, 200).await;
    assert_eq!(me, by_upn);
    let selected = json_of(
        o.get(&format!("/users/{MAILBOX}?$select=id,mail")).await,
        200,
    )
    .await;
    assert!(selected.get("displayName").is_none());
    assert_eq!(selected["mail"], MAILBOX);
}

#[tokio::test]
async fn unknown_users_are_404_with_graphs_codes() {
    let o = own().await;
    // Ids match exactly; UPN and mail case-insensitively.
    let upper = o.f.mailbox_oid.to_ascii_uppercase();
    let r = o.get(&format!("/users/{upper}")).await;
    let message = assert_graph_error(r, 404, "Request_ResourceNotFound").await;
    assert!(message.contains(&upper), "{message}");
    let r = o.get(&format!("/users/{upper}/messages")).await;
    let message = assert_graph_error(r, 404, "ErrorInvalidUser").await;
    assert_eq!(message, format!("The requested user '{upper}' is invalid."));
    let r = o
        .get("/users/nobody@contoso.com/mailFolders/inbox/messages")
        .await;
    assert_graph_error(r, 404, "ErrorInvalidUser").await;
    // A user of another tenant is not found either.
    let r = o.get(&format!("/users/{STRANGER}/messages")).await;
    assert_graph_error(r, 404, "ErrorInvalidUser").await;
    let r = o.get(&format!("/users/{STRANGER}")).await;
    assert_graph_error(r, 404, "Request_ResourceNotFound").await;
    let ledger = o.f.stand_in.ledger();
    let last = ledger.graph_requests.last().unwrap();
    assert_eq!(last.status, 404);
    assert_eq!(last.mailbox, None);
}

#[tokio::test]
async fn every_mail_endpoint_works_under_users() {
    let o = own().await;
    let u = format!("/users/{}", o.f.mailbox_oid);
    let by_upn = "/users/Mailbox@Contoso.com";

    // Drafts, PATCH, attachments (inline, list, $value, upload session), send.
    let r = o.post(&format!("{by_upn}/messages"), draft("one")).await;
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let created = json_of(r, 201).await;
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(
        location.ends_with(&format!("/v1.0{by_upn}/messages/{id}")),
        "{location}"
    );
    let got = json_of(
        o.get(&format!("{u}/messages/{id}?$select=subject")).await,
        200,
    )
    .await;
    assert_eq!(got["subject"], "one");
    let r = o
        .send(
            reqwest::Method::PATCH,
            &format!("{u}/messages/{id}"),
            json!({"subject": "one, edited"}),
        )
        .await;
    assert_eq!(json_of(r, 200).await["subject"], "one, edited");
    let bytes = base64::engine::general_purpose::STANDARD.encode(b"file body");
    let attachment = json!({"@odata.type": "#microsoft.graph.fileAttachment",
        "name": "a.txt", "contentType": "text/plain", "contentBytes": bytes});
    let r = o
        .post(&format!("{u}/messages/{id}/attachments"), attachment)
        .await;
    let aid = json_of(r, 201).await["id"].as_str().unwrap().to_owned();
    let list = json_of(o.get(&format!("{u}/messages/{id}/attachments")).await, 200).await;
    assert_eq!(list["value"].as_array().unwrap().len(), 1);
    let r = o
        .get(&format!("{u}/messages/{id}/attachments/{aid}/$value"))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().as_ref(), b"file body");
    let session =
        json!({"AttachmentItem": {"attachmentType": "file", "name": "big.bin", "size": 4}});
    let r = o
        .post(
            &format!("{u}/messages/{id}/attachments/createUploadSession"),
            session,
        )
        .await;
    let upload = json_of(r, 201).await["uploadUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    let r =
        o.f.http
            .put(upload)
            .header("content-range", "bytes 0-3/4")
            .body("abcd")
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), 201);
    let location = r.headers()["location"].to_str().unwrap();
    assert!(
        location.contains(&format!("/v1.0{u}/messages/")),
        "{location}"
    );
    let r = o.post(&format!("{u}/messages/{id}/send"), json!({})).await;
    assert_eq!(r.status(), 202);
    let r = o
        .post(
            &format!("{by_upn}/sendMail"),
            json!({"message": draft("two"), "saveToSentItems": true}),
        )
        .await;
    assert_eq!(r.status(), 202);
    let sent = o.f.stand_in.messages(MAILBOX, "sentitems").unwrap();
    assert_eq!(sent.len(), 2);
    let ledger = o.f.stand_in.ledger();
    assert_eq!(ledger.sent.len(), 2);
    assert!(ledger.sent.iter().all(|s| s.mailbox == MAILBOX));

    // Replies and forwards of a received message, move and delete.
    o.deliver("question");
    let inbox = json_of(o.get(&format!("{u}/mailFolders/inbox/messages")).await, 200).await;
    let original = inbox["value"][0]["id"].as_str().unwrap().to_owned();
    for action in ["createReply", "createReplyAll", "createForward"] {
        let body = if action == "createForward" {
            json!({"toRecipients": [{"emailAddress": {"address": "x@example.org"}}]})
        } else {
            json!({"comment": "thanks"})
        };
        let r = o
            .post(&format!("{by_upn}/messages/{original}/{action}"), body)
            .await;
        let location = r.headers()["location"].to_str().unwrap().to_owned();
        assert!(
            location.contains(&format!("/v1.0{by_upn}/messages/")),
            "{location}"
        );
        let d = json_of(r, 201).await;
        assert_eq!(d["isDraft"], true, "{action}");
    }
    let r = o
        .post(
            &format!("{u}/messages/{original}/move"),
            json!({"destinationId": "archive"}),
        )
        .await;
    let moved = json_of(r, 201).await["id"].as_str().unwrap().to_owned();
    let r = o
        .send(
            reqwest::Method::DELETE,
            &format!("{u}/messages/{moved}"),
            json!({}),
        )
        .await;
    assert_eq!(r.status(), 204);

    // Folders, listing and delta, with links that stay under /users.
    let top = json_of(o.get(&format!("{u}/mailFolders?$top=2")).await, 200).await;
    let next = top["@odata.nextLink"].as_str().unwrap();
    assert!(next.contains(&format!("/v1.0{u}/mailFolders?")), "{next}");
    assert_eq!(
        json_of(o.get(next).await, 200).await["value"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let inbox = json_of(o.get(&format!("{by_upn}/mailFolders/inbox")).await, 200).await;
    assert_eq!(inbox["displayName"], "Inbox");
    let children = o.get(&format!("{u}/mailFolders/inbox/childFolders")).await;
    assert_eq!(json_of(children, 200).await["value"], json!([]));
    let drafts = json_of(o.get(&format!("{u}/messages?$top=1")).await, 200).await;
    let next = drafts["@odata.nextLink"].as_str().unwrap();
    assert!(next.contains(&format!("/v1.0{u}/messages?")), "{next}");
    let delta = json_of(
        o.get(&format!("{by_upn}/mailFolders/drafts/messages/delta"))
            .await,
        200,
    )
    .await;
    let link = delta["@odata.deltaLink"].as_str().unwrap();
    assert!(
        link.contains(&format!("/v1.0{by_upn}/mailFolders/drafts/messages/delta?")),
        "{link}"
    );
    assert_eq!(json_of(o.get(link).await, 200).await["value"], json!([]));

    // The same mailbox as /me sees.
    let via_me = json_of(o.get("/me/messages?$top=50").await, 200).await;
    let via_users = json_of(o.get(&format!("{by_upn}/messages?$top=50")).await, 200).await;
    assert_eq!(via_me["value"], via_users["value"]);

    // The ledger names the target mailbox.
    let ledger = o.f.stand_in.ledger();
    let under_users: Vec<_> = ledger
        .graph_requests
        .iter()
        .filter(|g| g.path.starts_with("/v1.0/users/"))
        .collect();
    assert!(under_users.len() > 20);
    assert!(under_users
        .iter()
        .all(|g| g.mailbox.as_deref() == Some(MAILBOX)));
}

#[tokio::test]
async fn another_users_mailbox_needs_shared_scopes_and_directory_rights() {
    let o = own().await;
    let r = o.get(&format!("/users/{ADMIN}/messages")).await;
    let message = assert_graph_error(r, 403, "ErrorAccessDenied").await;
    assert_eq!(
        message,
        "Access is denied. Check credentials and try again."
    );
    let r = o
        .post(
            &format!("/users/{ADMIN}/sendMail"),
            json!({"message": draft("x")}),
        )
        .await;
    assert_graph_error(r, 403, "ErrorAccessDenied").await;
    // Reading another user needs User.ReadBasic.All / User.Read.All, not just User.Read.
    let r = o.get(&format!("/users/{ADMIN}")).await;
    assert_graph_error(r, 403, "Authorization_RequestDenied").await;
}

#[tokio::test]
async fn faults_name_users_paths_like_me_paths() {
    let o = own().await;
    o.f.stand_in.add_fault(ms_stand_in::FaultSpec {
        endpoint: "sendMail".into(),
        count: 1,
        fault: ms_stand_in::Fault::Refuse { status: 403 },
    });
    let r = o
        .post(
            &format!("/users/{MAILBOX}/sendMail"),
            json!({"message": draft("x")}),
        )
        .await;
    assert_eq!(r.status(), 403);
    assert!(o.f.stand_in.faults().is_empty());
}

#[tokio::test]
async fn a_draft_sends_only_from_the_mailbox_it_is_in() {
    let o = own().await;
    let u = "/users/mailbox@contoso.com";
    // From another address: Exchange checks Send As on it, which this account lacks.
    let mut other = draft("as someone else");
    other["from"] = json!({"emailAddress": {"address": "ceo@contoso.com"}});
    let id = json_of(o.post(&format!("{u}/messages"), other).await, 201).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = o.post(&format!("{u}/messages/{id}/send"), json!({})).await;
    assert_graph_error(r, 403, "ErrorSendAsDenied").await;
    // From the mailbox itself (any case): sent as it.
    let mut own_from = draft("as itself");
    own_from["from"] = json!({"emailAddress": {"address": "Mailbox@Contoso.com"}});
    let id = json_of(o.post(&format!("{u}/messages"), own_from).await, 201).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = o.post(&format!("{u}/messages/{id}/send"), json!({})).await;
    assert_eq!(r.status(), 202);
}
