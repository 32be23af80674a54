//! Authorize endpoint: validation, account picker, login_hint, prompt, consent, AADSTS50011/65004/70011.

mod common;

use common::*;
use ms_stand_in::ConsentGrant;

async fn page(f: &Fixture, url: &str) -> (u16, String) {
    let response = f.http.get(url).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

async fn post_form(f: &Fixture, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
    f.http
        .post(format!("{}{path}", f.stand_in.base_url()))
        .form(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn aadsts50011_redirect_uri_mismatch_is_a_page_not_a_redirect() {
    let f = fixture().await;
    f.sign_in_only(MAILBOX);
    let url = f.authorize_url("common", &[("redirect_uri", "https://evil.example/cb")]);
    let response = f.http.get(&url).send().await.unwrap();
    assert_eq!(response.status(), 400);
    assert!(response.headers().get("location").is_none());
    let html = response.text().await.unwrap();
    assert!(html.contains("AADSTS50011"), "{html}");
    assert!(html.contains("https://evil.example/cb"));
}

#[tokio::test]
async fn unknown_client_and_tenant_are_pages() {
    let f = fixture().await;
    let (status, html) = page(&f, &f.authorize_url("common", &[("client_id", "nope")])).await;
    assert_eq!(status, 400);
    assert!(html.contains("AADSTS700016"));
    let (status, html) = page(&f, &f.authorize_url("nowhere.example", &[])).await;
    assert_eq!(status, 400);
    assert!(html.contains("AADSTS90002"));
}

#[tokio::test]
async fn aadsts70011_scope_with_line_break_or_comma_redirects_with_invalid_scope() {
    let f = fixture().await;
    for scope in [
        "openid profile\noffline_access mail.send",
        "openid profile\r\nmail.send",
        "openid,profile,mail.send",
        "https://graph.microsoft.com/mail.send https://outlook.office.com/SMTP.Send",
    ] {
        let p = f
            .authorize_redirect(&f.authorize_url("common", &[("scope", scope)]))
            .await;
        assert_eq!(p["error"], "invalid_scope", "{scope:?}");
        assert!(p["error_description"].starts_with("AADSTS70011: "));
        assert!(p["error_description"].contains("\r\nTrace ID: "));
        assert_eq!(p["state"], "st-123");
        assert!(p["error_uri"].ends_with("/error?code=70011"));
        assert!(!p.contains_key("code"));
    }
}

#[tokio::test]
async fn response_type_must_be_code() {
    let f = fixture().await;
    let p = f
        .authorize_redirect(&f.authorize_url("common", &[("response_type", "token")]))
        .await;
    assert_eq!(p["error"], "unsupported_response_type");
    let p = f
        .authorize_redirect(&f.authorize_url("common", &[("code_challenge_method", "S512")]))
        .await;
    assert_eq!(p["error"], "invalid_request");
}

#[tokio::test]
async fn one_signed_in_account_and_no_prompt_continues_silently_with_it() {
    // The behaviour that makes admins connect the wrong account.
    let f = fixture().await;
    f.consent_all();
    f.sign_in_only(ADMIN);
    let p = f.authorize_redirect(&f.authorize_url("common", &[])).await;
    assert_eq!(p["state"], "st-123");
    assert!(p.contains_key("session_state"));
    let body: serde_json::Value = f.redeem(&p["code"]).await.json().await.unwrap();
    let payload = body["id_token"]
        .as_str()
        .unwrap()
        .split('.')
        .nth(1)
        .unwrap();
    use base64::Engine;
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["oid"], f.admin_oid.as_str());
}

#[tokio::test]
async fn select_account_always_shows_the_picker_with_hint_first() {
    let f = fixture().await;
    f.consent_all();
    f.sign_in_only(ADMIN);
    let url = f.authorize_url(
        "common",
        &[("prompt", "select_account"), ("login_hint", MAILBOX)],
    );
    let (status, html) = page(&f, &url).await;
    assert_eq!(status, 200);
    assert!(html.contains("Pick an account"));
    assert!(html.contains(ADMIN));
    assert!(html.contains("Use another account"));
    // The hinted mailbox is not signed in, so it is not listed; choose "Use another account".
    assert!(!html.contains(MAILBOX));
    let req = req_of(&html);
    let response = post_form(
        &f,
        "/common/oauth2/v2.0/authorize/select",
        &[("req", &req), ("account", "other")],
    )
    .await;
    let html = response.text().await.unwrap();
    assert!(html.contains("Email, phone, or Skype"));
    assert!(
        html.contains(&format!("value=\"{MAILBOX}\"")),
        "login_hint prefills"
    );
    let response = post_form(
        &f,
        "/common/oauth2/v2.0/authorize/signin",
        &[("req", &req), ("login", MAILBOX), ("password", "x")],
    )
    .await;
    assert_eq!(response.status(), 302);
    let p = redirect_params(&response);
    assert!(p.contains_key("code"));
    // Now both accounts are signed in.
    assert_eq!(f.stand_in.signed_in().len(), 2);
}

#[tokio::test]
async fn picker_with_hint_marks_the_hinted_account() {
    let f = fixture().await;
    f.consent_all();
    f.stand_in
        .set_signed_in(&[ADMIN.to_owned(), MAILBOX.to_owned()])
        .unwrap();
    let url = f.authorize_url(
        "common",
        &[("prompt", "select_account"), ("login_hint", MAILBOX)],
    );
    let (_, html) = page(&f, &url).await;
    let mailbox_pos = html.find(MAILBOX).unwrap();
    let admin_pos = html.find(ADMIN).unwrap();
    assert!(mailbox_pos < admin_pos, "hinted account listed first");
    assert!(html.contains(r#"aria-current="true""#));
    let req = req_of(&html);
    let response = post_form(
        &f,
        "/common/oauth2/v2.0/authorize/select",
        &[("req", &req), ("account", &f.mailbox_oid)],
    )
    .await;
    assert_eq!(response.status(), 302);
    assert!(redirect_params(&response).contains_key("code"));
}

#[tokio::test]
async fn several_signed_in_accounts_without_prompt_show_the_picker() {
    let f = fixture().await;
    f.consent_all();
    f.stand_in
        .set_signed_in(&[ADMIN.to_owned(), MAILBOX.to_owned()])
        .unwrap();
    let (status, html) = page(&f, &f.authorize_url("common", &[])).await;
    assert_eq!(status, 200);
    assert!(html.contains("Pick an account"));
}

#[tokio::test]
async fn login_hint_of_a_signed_in_account_continues_silently() {
    let f = fixture().await;
    f.consent_all();
    f.stand_in
        .set_signed_in(&[ADMIN.to_owned(), MAILBOX.to_owned()])
        .unwrap();
    let p = f
        .authorize_redirect(&f.authorize_url("common", &[("login_hint", MAILBOX)]))
        .await;
    assert!(p.contains_key("code"));
}

#[tokio::test]
async fn prompt_login_shows_credentials_and_rejects_unknown_users() {
    let f = fixture().await;
    f.consent_all();
    f.sign_in_only(MAILBOX);
    let (status, html) = page(&f, &f.authorize_url("common", &[("prompt", "login")])).await;
    assert_eq!(status, 200);
    assert!(html.contains("Password"));
    let req = req_of(&html);
    let response = post_form(
        &f,
        "/common/oauth2/v2.0/authorize/signin",
        &[
            ("req", &req),
            ("login", "ghost@contoso.com"),
            ("password", "x"),
        ],
    )
    .await;
    assert_eq!(response.status(), 200);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("username may be incorrect"));
}

#[tokio::test]
async fn prompt_none_errors() {
    let f = fixture().await;
    f.consent_all();
    f.stand_in.set_signed_in(&[]).unwrap();
    let p = f
        .authorize_redirect(&f.authorize_url("common", &[("prompt", "none")]))
        .await;
    assert_eq!(p["error"], "login_required");
    assert!(p["error_description"].starts_with("AADSTS50058: "));
    f.stand_in
        .set_signed_in(&[ADMIN.to_owned(), MAILBOX.to_owned()])
        .unwrap();
    let p = f
        .authorize_redirect(&f.authorize_url("common", &[("prompt", "none")]))
        .await;
    assert_eq!(p["error"], "interaction_required");
    f.stand_in
        .revoke_consent(ConsentGrant {
            client_id: CLIENT.into(),
            tenant_id: Some(TENANT.into()),
            ..ConsentGrant::default()
        })
        .unwrap();
    let p = f
        .authorize_redirect(
            &f.authorize_url("common", &[("prompt", "none"), ("login_hint", MAILBOX)]),
        )
        .await;
    assert_eq!(p["error"], "consent_required");
}

#[tokio::test]
async fn consent_accept_then_no_consent_page_next_time() {
    let f = fixture().await;
    f.sign_in_only(MAILBOX);
    let (status, html) = page(&f, &f.authorize_url("common", &[])).await;
    assert_eq!(status, 200);
    assert!(html.contains("Permissions requested"));
    assert!(html.contains("Mail.Send"));
    let req = req_of(&html);
    let response = post_form(
        &f,
        "/common/oauth2/v2.0/authorize/consent",
        &[("req", &req), ("decision", "accept")],
    )
    .await;
    assert_eq!(response.status(), 302);
    let code = redirect_params(&response)["code"].clone();
    assert_eq!(f.redeem(&code).await.status(), 200);
    let p = f.authorize_redirect(&f.authorize_url("common", &[])).await;
    assert!(p.contains_key("code"));
}

#[tokio::test]
async fn aadsts65004_consent_cancel_redirects_access_denied() {
    let f = fixture().await;
    f.sign_in_only(MAILBOX);
    let (_, html) = page(&f, &f.authorize_url("common", &[])).await;
    let req = req_of(&html);
    let response = post_form(
        &f,
        "/common/oauth2/v2.0/authorize/consent",
        &[("req", &req), ("decision", "cancel")],
    )
    .await;
    assert_eq!(response.status(), 302);
    let p = redirect_params(&response);
    assert_eq!(p["error"], "access_denied");
    assert_eq!(p["error_subcode"], "cancel");
    assert!(p["error_description"].starts_with("AADSTS65004: User declined to consent"));
    assert_eq!(p["state"], "st-123");
}

#[tokio::test]
async fn tenant_path_restricts_accounts() {
    let f = fixture().await;
    f.consent_all();
    f.sign_in_only(STRANGER);
    let (status, html) = page(&f, &f.authorize_url(TENANT, &[])).await;
    assert_eq!(status, 400);
    assert!(html.contains("AADSTS50020"));
    // By domain name, the mailbox of the tenant is fine.
    f.sign_in_only(MAILBOX);
    let p = f
        .authorize_redirect(&f.authorize_url("contoso.com", &[]))
        .await;
    assert!(p.contains_key("code"));
}
