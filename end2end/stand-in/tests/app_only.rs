//! App-only access (client credentials): application permissions, `/users/{x}` only, the app's
//! tenant only, application access policies, expiry, and subscriptions.

mod common;

use std::time::Duration;

use common::receiver::Receiver;
use common::subs::{assert_graph_error, SOON, STATE, TOMORROW};
use common::*;
use ms_stand_in::{Address, IncomingMail};
use serde_json::{json, Value};

async fn app_token(f: &Fixture) -> String {
    let r = f
        .post_token(
            TENANT,
            &[
                ("client_id", CLIENT),
                ("client_secret", SECRET),
                ("grant_type", "client_credentials"),
                ("scope", "https://graph.microsoft.com/.default"),
            ],
        )
        .await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["expires_in"], 3599);
    assert!(body.get("refresh_token").is_none());
    body["access_token"].as_str().unwrap().to_owned()
}

async fn get(f: &Fixture, token: &str, path: &str) -> reqwest::Response {
    f.http
        .get(f.graph(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn post(f: &Fixture, token: &str, path: &str, body: Value) -> reqwest::Response {
    f.http
        .post(f.graph(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

fn draft(subject: &str) -> Value {
    json!({
        "subject": subject,
        "body": {"contentType": "Text", "content": "Hello"},
        "toRecipients": [{"emailAddress": {"address": "customer@example.org"}}],
    })
}

fn deliver(f: &Fixture, to: &str, subject: &str) {
    f.stand_in
        .deliver(IncomingMail {
            to_user: to.into(),
            from: Address {
                name: "Sender".into(),
                address: "sender@example.org".into(),
            },
            subject: subject.into(),
            ..IncomingMail::default()
        })
        .unwrap();
}

#[tokio::test]
async fn application_permissions_decide_what_an_app_token_may_do() {
    let f = fixture().await;
    deliver(&f, MAILBOX, "hello");
    let mailbox = format!("/users/{MAILBOX}");

    // Without application permissions: a token, but Graph refuses it.
    let bare = app_token(&f).await;
    let r = get(&f, &bare, &format!("{mailbox}/messages")).await;
    let message = assert_graph_error(r, 403, "ErrorAccessDenied").await;
    assert_eq!(
        message,
        "Access is denied. Check credentials and try again."
    );

    f.stand_in
        .grant_app_permissions(CLIENT, &["Mail.Read"])
        .unwrap();
    // A token keeps the roles it was issued with.
    let r = get(&f, &bare, &format!("{mailbox}/messages")).await;
    assert_graph_error(r, 403, "ErrorAccessDenied").await;
    let read = app_token(&f).await;
    let list: Value = get(&f, &read, &format!("{mailbox}/messages"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["value"][0]["subject"], "hello");
    let r = get(&f, &read, &format!("/users/{ADMIN}/mailFolders/inbox")).await;
    assert_eq!(r.status(), 200);
    // Writing needs Mail.ReadWrite, sending Mail.Send.
    let r = post(&f, &read, &format!("{mailbox}/messages"), draft("d")).await;
    assert_graph_error(r, 403, "ErrorAccessDenied").await;
    let r = post(
        &f,
        &read,
        &format!("{mailbox}/sendMail"),
        json!({"message": draft("s")}),
    )
    .await;
    assert_graph_error(r, 403, "ErrorAccessDenied").await;

    // /me has no meaning without a user.
    for path in ["/me", "/me/messages", "/me/mailFolders/inbox/messages"] {
        let r = get(&f, &read, path).await;
        let message = assert_graph_error(r, 400, "BadRequest").await;
        assert_eq!(
            message,
            "/me request is only valid with delegated authentication flow."
        );
    }
    // Only mailboxes of the app's tenant.
    let r = get(&f, &read, &format!("/users/{STRANGER}/messages")).await;
    assert_graph_error(r, 404, "ErrorInvalidUser").await;
    // The user resource needs a directory permission.
    let r = get(&f, &read, &mailbox).await;
    assert_graph_error(r, 403, "Authorization_RequestDenied").await;

    f.stand_in
        .grant_app_permissions(CLIENT, &["Mail.ReadWrite", "Mail.Send", "User.Read.All"])
        .unwrap();
    assert_eq!(
        f.stand_in.app(CLIENT).unwrap().app_permissions,
        ["Mail.Read", "Mail.ReadWrite", "Mail.Send", "User.Read.All"]
    );
    let all = app_token(&f).await;
    let user: Value = get(&f, &all, &mailbox).await.json().await.unwrap();
    assert_eq!(user["id"], f.mailbox_oid.as_str());
    let r = post(&f, &all, &format!("{mailbox}/messages"), draft("drafted")).await;
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = post(
        &f,
        &all,
        &format!("{mailbox}/messages/{id}/send"),
        json!({}),
    )
    .await;
    assert_eq!(r.status(), 202);
    let admin = format!("/users/{ADMIN}");
    let r = post(
        &f,
        &all,
        &format!("{admin}/sendMail"),
        json!({"message": draft("as admin")}),
    )
    .await;
    assert_eq!(r.status(), 202);

    // Each message went out from, and was saved in, the mailbox named in the path.
    assert_eq!(f.stand_in.messages(MAILBOX, "sentitems").unwrap().len(), 1);
    assert_eq!(f.stand_in.messages(ADMIN, "sentitems").unwrap().len(), 1);
    let ledger = f.stand_in.ledger();
    let from: Vec<(&str, &str)> = ledger
        .sent
        .iter()
        .map(|s| (s.mailbox.as_str(), s.subject.as_str()))
        .collect();
    assert_eq!(from, [(MAILBOX, "drafted"), (ADMIN, "as admin")]);
    let sends: Vec<_> = ledger
        .graph_requests
        .iter()
        .filter(|g| g.method == "POST" && g.status == 202)
        .map(|g| g.mailbox.clone())
        .collect();
    assert_eq!(sends, [Some(MAILBOX.to_owned()), Some(ADMIN.to_owned())]);
    let token_request = ledger.token_requests.last().unwrap();
    assert_eq!(
        token_request.grant_type.as_deref(),
        Some("client_credentials")
    );
    assert_eq!(token_request.client_auth, "body");
}

#[tokio::test]
async fn the_application_access_policy_limits_mailboxes() {
    let f = fixture().await;
    f.stand_in
        .grant_app_permissions(CLIENT, &["Mail.ReadWrite", "Mail.Send"])
        .unwrap();
    let token = app_token(&f).await;
    f.stand_in
        .set_app_access_policy(CLIENT, Some(vec!["MAILBOX@contoso.com".into()]))
        .unwrap();
    assert_eq!(
        f.stand_in.app(CLIENT).unwrap().access_policy,
        Some(vec![MAILBOX.to_owned()])
    );
    let r = get(&f, &token, &format!("/users/{MAILBOX}/messages")).await;
    assert_eq!(r.status(), 200);
    for path in [
        format!("/users/{ADMIN}/messages"),
        format!("/users/{}/mailFolders", f.admin_oid),
    ] {
        let r = get(&f, &token, &path).await;
        let message = assert_graph_error(r, 403, "ErrorAccessDenied").await;
        assert_eq!(message, "Access to OData is disabled.");
    }
    let r = post(
        &f,
        &token,
        &format!("/users/{ADMIN}/sendMail"),
        json!({"message": draft("x")}),
    )
    .await;
    assert_graph_error(r, 403, "ErrorAccessDenied").await;
    assert!(f.stand_in.ledger().sent.is_empty());
    // Permission is checked before the policy.
    f.stand_in.revoke_app_permissions(CLIENT).unwrap();
    let r = get(
        &f,
        &app_token(&f).await,
        &format!("/users/{ADMIN}/messages"),
    )
    .await;
    let message = assert_graph_error(r, 403, "ErrorAccessDenied").await;
    assert_eq!(
        message,
        "Access is denied. Check credentials and try again."
    );

    f.stand_in.set_app_access_policy(CLIENT, None).unwrap();
    let r = get(&f, &token, &format!("/users/{ADMIN}/messages")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        f.stand_in
            .set_app_access_policy(CLIENT, Some(vec!["ghost@contoso.com".into()])),
        Err(ms_stand_in::ControlError::UnknownUser(
            "ghost@contoso.com".into()
        ))
    );
}

#[tokio::test]
async fn app_tokens_expire_and_can_be_expired() {
    let f = fixture().await;
    f.stand_in
        .grant_app_permissions(CLIENT, &["Mail.Read"])
        .unwrap();
    let path = format!("/users/{MAILBOX}/messages");
    let token = app_token(&f).await;
    f.stand_in.advance(Duration::from_secs(3598));
    assert_eq!(get(&f, &token, &path).await.status(), 200);
    f.stand_in.advance(Duration::from_secs(1));
    let r = get(&f, &token, &path).await;
    assert_graph_error(r, 401, "InvalidAuthenticationToken").await;

    let fresh = app_token(&f).await;
    let minted = f.stand_in.issue_app_access_token(CLIENT).unwrap();
    assert_eq!(get(&f, &minted, &path).await.status(), 200);
    // A user's delegated token is not an app token.
    let delegated = f.stand_in.issue_access_token(MAILBOX, CLIENT).unwrap();
    assert_eq!(f.stand_in.expire_app_access_tokens(CLIENT).unwrap(), 2);
    for token in [fresh, minted] {
        let r = get(&f, &token, &path).await;
        assert_graph_error(r, 401, "InvalidAuthenticationToken").await;
    }
    assert_eq!(get(&f, &delegated, "/me/messages").await.status(), 200);
    // And the user's expiry leaves app tokens alone.
    let again = app_token(&f).await;
    assert_eq!(f.stand_in.expire_access_tokens(MAILBOX).unwrap(), 1);
    assert_eq!(get(&f, &again, &path).await.status(), 200);
}

#[tokio::test]
async fn app_only_subscriptions_watch_any_mailbox_in_policy() {
    let f = fixture().await;
    let hooks = Receiver::start().await;
    f.stand_in
        .grant_app_permissions(CLIENT, &["Mail.Read"])
        .unwrap();
    let token = app_token(&f).await;
    let body = |resource: &str| {
        json!({
            "changeType": "created",
            "notificationUrl": hooks.url("/app"),
            "resource": resource,
            "expirationDateTime": TOMORROW,
            "clientState": STATE,
        })
    };
    let r = post(
        &f,
        &token,
        "/subscriptions",
        body("me/mailFolders('inbox')/messages"),
    )
    .await;
    assert_graph_error(r, 400, "BadRequest").await;
    let r = post(
        &f,
        &token,
        "/subscriptions",
        body("users/nobody@contoso.com/mailFolders('inbox')/messages"),
    )
    .await;
    assert_graph_error(r, 404, "ErrorInvalidUser").await;
    let resource = format!("users/{MAILBOX}/mailFolders('inbox')/messages");
    let r = post(&f, &token, "/subscriptions", body(&resource)).await;
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    assert_eq!(created["applicationId"], CLIENT);
    let id = created["id"].as_str().unwrap().to_owned();
    let views = f.stand_in.subscriptions();
    assert_eq!(views[0].user_oid, f.mailbox_oid);
    assert_eq!(views[0].creator_oid, None);

    deliver(&f, MAILBOX, "watched");
    let got = hooks.wait_for("/app", 1, SOON).await;
    let n = &got[0]["value"][0];
    assert_eq!(n["subscriptionId"], id.as_str());
    assert_eq!(n["tenantId"], TENANT);
    assert!(n["resource"]
        .as_str()
        .unwrap()
        .starts_with(&format!("Users/{}/Messages/", f.mailbox_oid)));

    // The app sees its subscription; a user of the same app does not.
    let list: Value = get(&f, &token, "/subscriptions")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["value"].as_array().unwrap().len(), 1);
    let r = get(&f, &token, &format!("/subscriptions/{id}")).await;
    assert_eq!(r.status(), 200);
    let user = f.stand_in.issue_access_token(MAILBOX, CLIENT).unwrap();
    let r = get(&f, &user, &format!("/subscriptions/{id}")).await;
    assert_graph_error(r, 404, "ResourceNotFound").await;

    // Outside the access policy: 403.
    f.stand_in
        .set_app_access_policy(CLIENT, Some(vec![MAILBOX.into()]))
        .unwrap();
    let admin = format!("users/{ADMIN}/mailFolders('inbox')/messages");
    let r = post(&f, &token, "/subscriptions", body(&admin)).await;
    let message = assert_graph_error(r, 403, "ErrorAccessDenied").await;
    assert_eq!(message, "Access to OData is disabled.");
    let r = f
        .http
        .delete(f.graph(&format!("/subscriptions/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
}
