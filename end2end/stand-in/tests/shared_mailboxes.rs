//! Shared mailboxes with delegated tokens: `.Shared` scopes, Full Access, Send As, and the Sent
//! Items of the mailbox a message goes out from.

mod common;

use common::subs::assert_graph_error;
use common::*;
use ms_stand_in::{
    Address, ConsentGrant, ControlError, IncomingMail, MailboxPermission, NewApp, NewUser,
};
use serde_json::{json, Value};

const SHARED: &str = "info@contoso.com";
const SHARED_SCOPE: &str = "openid offline_access user.read mail.read mail.readwrite mail.send \
     mail.read.shared mail.readwrite.shared mail.send.shared";

struct Delegate {
    f: Fixture,
    token: String,
}

async fn delegate() -> Delegate {
    let f = fixture().await;
    f.stand_in
        .add_shared_mailbox(NewUser {
            tenant_id: TENANT.into(),
            upn: SHARED.into(),
            mail: Some(SHARED.into()),
            display_name: Some("Contoso Info".into()),
            ..NewUser::default()
        })
        .unwrap();
    f.stand_in
        .grant_consent(ConsentGrant {
            client_id: CLIENT.into(),
            tenant_id: Some(TENANT.into()),
            scopes: SHARED_SCOPE
                .split(' ')
                .filter(|s| !["openid", "offline_access"].contains(s))
                .map(str::to_owned)
                .collect(),
            ..ConsentGrant::default()
        })
        .unwrap();
    f.sign_in_only(MAILBOX);
    let url = f.authorize_url("common", &[("scope", SHARED_SCOPE)]);
    let code = f.authorize_redirect(&url).await["code"].clone();
    let r = f.redeem(&code).await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    let scope = body["scope"].as_str().unwrap();
    assert!(
        scope.contains("Mail.Read.Shared") && scope.contains("Mail.Send.Shared"),
        "{scope}"
    );
    let token = body["access_token"].as_str().unwrap().to_owned();
    Delegate { f, token }
}

impl Delegate {
    async fn get(&self, path: &str) -> reqwest::Response {
        let r = self.f.http.get(self.f.graph(path)).bearer_auth(&self.token);
        r.send().await.unwrap()
    }

    async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        self.f
            .http
            .post(self.f.graph(path))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    fn grant(&self, full_access: bool, send_as: bool) {
        self.f
            .stand_in
            .set_mailbox_permission(
                SHARED,
                MAILBOX,
                MailboxPermission {
                    full_access,
                    send_as,
                },
            )
            .unwrap();
    }
}

fn draft(subject: &str) -> Value {
    json!({
        "subject": subject,
        "body": {"contentType": "Text", "content": "Hello"},
        "toRecipients": [{"emailAddress": {"address": "customer@example.org"}}],
    })
}

#[tokio::test]
async fn a_shared_mailbox_cannot_sign_in() {
    let f = fixture().await;
    let shared = f
        .stand_in
        .add_shared_mailbox(NewUser {
            tenant_id: TENANT.into(),
            upn: SHARED.into(),
            mail: Some(SHARED.into()),
            ..NewUser::default()
        })
        .unwrap();
    assert!(shared.shared);
    assert!(!f.stand_in.user(MAILBOX).unwrap().shared);
    assert!(matches!(
        f.stand_in.set_signed_in(&[SHARED.into()]),
        Err(ControlError::Invalid(_))
    ));
    assert!(matches!(
        f.stand_in.issue_access_token(SHARED, CLIENT),
        Err(ControlError::Invalid(_))
    ));
    // The credentials page refuses it (AADSTS50057: account disabled).
    f.consent_all();
    let url = f.authorize_url("common", &[("prompt", "login")]);
    let html = f.http.get(url).send().await.unwrap().text().await.unwrap();
    let req = req_of(&html);
    let r = f
        .http
        .post(format!(
            "{}/common/oauth2/v2.0/authorize/signin",
            f.stand_in.base_url()
        ))
        .form(&[("req", req.as_str()), ("login", SHARED), ("password", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.headers().get("location").is_none());
    assert!(r.text().await.unwrap().contains("AADSTS50057"));
}

#[tokio::test]
async fn full_access_opens_the_mailbox_and_send_as_sends_from_it() {
    let d = delegate().await;
    d.f.stand_in
        .deliver(IncomingMail {
            to_user: SHARED.into(),
            from: Address {
                name: "Customer".into(),
                address: "customer@example.org".into(),
            },
            subject: "for the team".into(),
            ..IncomingMail::default()
        })
        .unwrap();
    let inbox = format!("/users/{SHARED}/mailFolders/inbox/messages");

    // No mailbox permission: the scopes are not enough.
    let r = d.get(&inbox).await;
    let message = assert_graph_error(r, 403, "ErrorAccessDenied").await;
    assert_eq!(
        message,
        "Access is denied. Check credentials and try again."
    );

    // Full Access: read and write, not send.
    d.grant(true, false);
    assert_eq!(
        d.f.stand_in.mailbox_permission(SHARED, MAILBOX).unwrap(),
        MailboxPermission {
            full_access: true,
            send_as: false
        }
    );
    let list: Value = d.get(&inbox).await.json().await.unwrap();
    assert_eq!(list["value"][0]["subject"], "for the team");
    let r = d
        .post(&format!("/users/{SHARED}/messages"), draft("from the team"))
        .await;
    assert_eq!(r.status(), 201);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.contains(&format!("/users/{SHARED}/messages/")));
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let send = format!("/users/{SHARED}/messages/{id}/send");
    let r = d.post(&send, json!({})).await;
    let message = assert_graph_error(r, 403, "ErrorSendAsDenied").await;
    assert!(message.starts_with("The user account which was used to submit this request does not have the right to send mail on behalf of the specified sending account."), "{message}");
    let r = d
        .post(
            &format!("/users/{SHARED}/sendMail"),
            json!({"message": draft("direct")}),
        )
        .await;
    assert_graph_error(r, 403, "ErrorSendAsDenied").await;
    assert!(d.f.stand_in.ledger().sent.is_empty());

    // Send As: the draft goes out from the shared mailbox, into its Sent Items.
    d.grant(true, true);
    assert_eq!(d.post(&send, json!({})).await.status(), 202);
    let r = d
        .post(
            &format!("/users/{SHARED}/sendMail"),
            json!({"message": draft("direct")}),
        )
        .await;
    assert_eq!(r.status(), 202);
    let shared_sent = d.f.stand_in.messages(SHARED, "sentitems").unwrap();
    assert_eq!(shared_sent.len(), 2);
    assert_eq!(shared_sent[0]["from"]["emailAddress"]["address"], SHARED);
    assert!(d
        .f
        .stand_in
        .messages(MAILBOX, "sentitems")
        .unwrap()
        .is_empty());
    assert!(d.f.stand_in.messages(SHARED, "drafts").unwrap().is_empty());

    // /me is unchanged: the user's own mailbox and Sent Items.
    let r = d
        .post("/me/sendMail", json!({"message": draft("mine")}))
        .await;
    assert_eq!(r.status(), 202);
    assert_eq!(
        d.f.stand_in.messages(MAILBOX, "sentitems").unwrap().len(),
        1
    );
    let ledger = d.f.stand_in.ledger();
    let from: Vec<(&str, &str)> = ledger
        .sent
        .iter()
        .map(|s| (s.mailbox.as_str(), s.subject.as_str()))
        .collect();
    assert_eq!(
        from,
        [
            (SHARED, "from the team"),
            (SHARED, "direct"),
            (MAILBOX, "mine")
        ]
    );
    let shared_requests = ledger
        .graph_requests
        .iter()
        .filter(|g| g.path.contains(SHARED))
        .count();
    assert!(shared_requests >= 6);
    assert!(ledger
        .graph_requests
        .iter()
        .filter(|g| g.path.contains(SHARED))
        .all(|g| g.mailbox.as_deref() == Some(SHARED)));

    // Taking the permission away closes the mailbox again.
    d.grant(false, false);
    let r = d.get(&inbox).await;
    assert_graph_error(r, 403, "ErrorAccessDenied").await;
}

#[tokio::test]
async fn each_operation_needs_its_shared_scope() {
    let d = delegate().await;
    d.grant(true, true);
    // The user's ordinary scopes do not reach another mailbox.
    let plain = d.f.stand_in.issue_access_token(MAILBOX, CLIENT).unwrap();
    let r =
        d.f.http
            .get(d.f.graph(&format!("/users/{SHARED}/messages")))
            .bearer_auth(&plain)
            .send()
            .await
            .unwrap();
    assert_graph_error(r, 403, "ErrorAccessDenied").await;

    // Mail.Read.Shared reads but neither writes nor sends.
    let reader =
        d.f.stand_in
            .add_app(NewApp {
                tenant_id: TENANT.into(),
                api_permissions: vec!["User.Read".into(), "Mail.Read.Shared".into()],
                ..NewApp::default()
            })
            .unwrap();
    let token =
        d.f.stand_in
            .issue_access_token(MAILBOX, &reader.client_id)
            .unwrap();
    let call = |method: reqwest::Method, path: String, body: Value| {
        d.f.http
            .request(method, d.f.graph(&path))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let r = call(
        reqwest::Method::GET,
        format!("/users/{SHARED}/mailFolders"),
        json!({}),
    );
    assert_eq!(r.await.unwrap().status(), 200);
    let r = call(
        reqwest::Method::POST,
        format!("/users/{SHARED}/messages"),
        draft("x"),
    );
    assert_graph_error(r.await.unwrap(), 403, "ErrorAccessDenied").await;
    let r = call(
        reqwest::Method::POST,
        format!("/users/{SHARED}/sendMail"),
        json!({"message": draft("x")}),
    );
    assert_graph_error(r.await.unwrap(), 403, "ErrorAccessDenied").await;
    // .Shared scopes cover the user's own mailbox too.
    let r = call(reqwest::Method::GET, "/me/messages".into(), json!({}));
    assert_eq!(r.await.unwrap().status(), 200);
}

#[tokio::test]
async fn delegates_cannot_subscribe_to_a_shared_mailbox() {
    let d = delegate().await;
    d.grant(true, true);
    let body = json!({
        "changeType": "created",
        "notificationUrl": "http://127.0.0.1:9/hook",
        "resource": format!("users/{SHARED}/mailFolders('inbox')/messages"),
        "expirationDateTime": "2025-01-02T00:00:00Z",
    });
    let r = d.post("/subscriptions", body).await;
    assert_graph_error(r, 403, "ErrorAccessDenied").await;
}
