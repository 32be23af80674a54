//! Token endpoint: success shapes and every AADSTS row of MICROSOFT.md's table.

mod common;

use std::time::Duration;

use base64::Engine;
use common::*;
use ms_stand_in::{ConsentGrant, ExpireRefreshTokens, RefreshExpiry};
use serde_json::Value;

fn claims(id_token: &str) -> Value {
    let payload = id_token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test]
async fn code_grant_success_has_microsofts_shape_and_claims() {
    let f = fixture().await;
    let code = f.code_for(MAILBOX).await;
    let response = f.redeem(&code).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store, no-cache");
    let body: Value = response.json().await.unwrap();
    let keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for key in [
        "token_type",
        "scope",
        "expires_in",
        "ext_expires_in",
        "access_token",
        "refresh_token",
        "id_token",
    ] {
        assert!(keys.contains(&key), "missing {key} in {body}");
    }
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3599);
    assert_eq!(body["ext_expires_in"], 3599);
    let scope = body["scope"].as_str().unwrap();
    assert!(
        scope.contains("Mail.Send") && scope.contains("User.Read"),
        "{scope}"
    );
    assert!(!scope.contains("offline_access"));

    let c = claims(body["id_token"].as_str().unwrap());
    assert_eq!(c["iss"], format!("{}/{TENANT}/v2.0", f.stand_in.base_url()));
    assert_eq!(c["aud"], CLIENT);
    assert_eq!(c["tid"], TENANT);
    assert_eq!(c["oid"], f.mailbox_oid.as_str());
    assert_eq!(c["nonce"], "n-456");
    assert_eq!(c["preferred_username"], MAILBOX);
    assert_eq!(c["name"], "Contoso Mail");
    assert_eq!(c["ver"], "2.0");
    let now = f.stand_in.now();
    assert_eq!(c["iat"], now);
    assert_eq!(c["exp"], now + 3600);
    // `email` only with the `email` scope (Microsoft: optional claim).
    assert!(c.get("email").is_none());
}

#[tokio::test]
async fn email_claim_with_email_scope_and_no_refresh_token_without_offline_access() {
    let f = fixture().await;
    f.consent_all();
    f.sign_in_only(MAILBOX);
    let url = f.authorize_url("common", &[("scope", "openid email mail.send")]);
    let code = f.authorize_redirect(&url).await["code"].clone();
    let body: Value = f.redeem(&code).await.json().await.unwrap();
    assert!(body.get("refresh_token").is_none(), "{body}");
    assert_eq!(claims(body["id_token"].as_str().unwrap())["email"], MAILBOX);

    let url = f.authorize_url("common", &[("scope", "offline_access mail.send")]);
    let code = f.authorize_redirect(&url).await["code"].clone();
    let body: Value = f.redeem(&code).await.json().await.unwrap();
    assert!(body.get("id_token").is_none(), "{body}");
    assert!(body.get("refresh_token").is_some(), "{body}");
}

#[tokio::test]
async fn client_secret_via_http_basic_is_accepted() {
    let f = fixture().await;
    let code = f.code_for(MAILBOX).await;
    let response = f
        .http
        .post(f.token_url("common"))
        .basic_auth(CLIENT, Some(SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let ledger = f.stand_in.ledger();
    assert_eq!(ledger.token_requests.last().unwrap().client_auth, "basic");
}

#[tokio::test]
async fn aadsts70008_code_older_than_ten_minutes() {
    let f = fixture().await;
    let code = f.code_for(MAILBOX).await;
    f.stand_in.advance(Duration::from_secs(601));
    assert_entra_error(f.redeem(&code).await, 400, "invalid_grant", 70008).await;
}

#[tokio::test]
async fn aadsts70008_revoked_refresh_token() {
    let f = fixture().await;
    let tokens = f.tokens_for(MAILBOX).await;
    let count = f
        .stand_in
        .expire_refresh_tokens(ExpireRefreshTokens {
            user: MAILBOX.into(),
            client_id: None,
            reason: RefreshExpiry::Revoked,
        })
        .unwrap();
    assert_eq!(count, 1);
    let rt = tokens["refresh_token"].as_str().unwrap();
    assert_entra_error(f.refresh(rt).await, 400, "invalid_grant", 70008).await;
}

#[tokio::test]
async fn aadsts700082_refresh_token_unused_for_90_days_and_keep_alive_prevents_it() {
    let f = fixture().await;
    let tokens = f.tokens_for(MAILBOX).await;
    let rt = tokens["refresh_token"].as_str().unwrap().to_owned();
    // Used after 89 days: still fine, and returns a new refresh token; the old one stays valid.
    f.stand_in.advance(Duration::from_secs(89 * 86_400));
    let response = f.refresh(&rt).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let new_rt = body["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(new_rt, rt);
    assert!(body.get("id_token").is_some());
    assert_eq!(f.refresh(&rt).await.status(), 200);
    // 91 days of inactivity from the last use.
    f.stand_in.advance(Duration::from_secs(91 * 86_400));
    let body = assert_entra_error(f.refresh(&new_rt).await, 400, "invalid_grant", 700082).await;
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .contains("expired due to inactivity"));
}

#[tokio::test]
async fn aadsts700082_by_control_operation() {
    let f = fixture().await;
    let tokens = f.tokens_for(MAILBOX).await;
    f.stand_in
        .expire_refresh_tokens(ExpireRefreshTokens {
            user: MAILBOX.into(),
            client_id: Some(CLIENT.into()),
            reason: RefreshExpiry::Inactivity,
        })
        .unwrap();
    let rt = tokens["refresh_token"].as_str().unwrap();
    assert_entra_error(f.refresh(rt).await, 400, "invalid_grant", 700082).await;
}

#[tokio::test]
async fn aadsts50173_grant_revoked() {
    let f = fixture().await;
    let tokens = f.tokens_for(MAILBOX).await;
    assert_eq!(f.stand_in.revoke_grant(MAILBOX).unwrap(), 1);
    let rt = tokens["refresh_token"].as_str().unwrap();
    let body = assert_entra_error(f.refresh(rt).await, 400, "invalid_grant", 50173).await;
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .contains("TokensValidFrom"));
    // Signing in again works.
    let again = f.tokens_for(MAILBOX).await;
    assert_eq!(
        f.refresh(again["refresh_token"].as_str().unwrap())
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn aadsts54005_code_redeemed_twice() {
    let f = fixture().await;
    let code = f.code_for(MAILBOX).await;
    assert_eq!(f.redeem(&code).await.status(), 200);
    assert_entra_error(f.redeem(&code).await, 400, "invalid_grant", 54005).await;
}

#[tokio::test]
async fn aadsts501481_pkce_verifier_mismatch_or_missing() {
    let f = fixture().await;
    let code = f.code_for(MAILBOX).await;
    let response = f
        .post_token(
            "common",
            &[
                ("client_id", CLIENT),
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                (
                    "code_verifier",
                    "wrong-verifier-wrong-verifier-wrong-verifier",
                ),
                ("client_secret", SECRET),
            ],
        )
        .await;
    assert_entra_error(response, 400, "invalid_grant", 501481).await;
    let response = f
        .post_token(
            "common",
            &[
                ("client_id", CLIENT),
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("client_secret", SECRET),
            ],
        )
        .await;
    assert_entra_error(response, 400, "invalid_grant", 501481).await;
}

#[tokio::test]
async fn pkce_plain_when_no_method_is_given() {
    let f = fixture().await;
    f.consent_all();
    f.sign_in_only(MAILBOX);
    let url = f.authorize_url(
        "common",
        &[("code_challenge", VERIFIER), ("code_challenge_method", "")],
    );
    let code = f.authorize_redirect(&url).await["code"].clone();
    assert_eq!(f.redeem(&code).await.status(), 200);
}

#[tokio::test]
async fn aadsts65001_consent_missing_has_suberror() {
    let f = fixture().await;
    let tokens = f.tokens_for(MAILBOX).await;
    f.stand_in
        .revoke_consent(ConsentGrant {
            client_id: CLIENT.into(),
            tenant_id: Some(TENANT.into()),
            ..ConsentGrant::default()
        })
        .unwrap();
    let rt = tokens["refresh_token"].as_str().unwrap();
    let body = assert_entra_error(f.refresh(rt).await, 400, "invalid_grant", 65001).await;
    assert_eq!(body["suberror"], "consent_required");
}

#[tokio::test]
async fn aadsts7000215_wrong_secret_including_the_secret_id() {
    let f = fixture().await;
    let code = f.code_for(MAILBOX).await;
    for wrong in ["nope", SECRET_ID] {
        let response = f
            .post_token(
                "common",
                &[
                    ("client_id", CLIENT),
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", REDIRECT),
                    ("code_verifier", VERIFIER),
                    ("client_secret", wrong),
                ],
            )
            .await;
        let body = assert_entra_error(response, 401, "invalid_client", 7000215).await;
        assert!(body["error_description"]
            .as_str()
            .unwrap()
            .contains("not the client secret ID"));
    }
    // The code was not consumed by the failed attempts.
    assert_eq!(f.redeem(&code).await.status(), 200);
}

#[tokio::test]
async fn aadsts7000222_expired_secret() {
    let f = fixture().await;
    let tokens = f.tokens_for(MAILBOX).await;
    let response = f
        .post_token(
            "common",
            &[
                ("client_id", CLIENT),
                ("grant_type", "refresh_token"),
                ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
                ("client_secret", EXPIRED_SECRET),
            ],
        )
        .await;
    assert_entra_error(response, 401, "invalid_client", 7000222).await;
}

#[tokio::test]
async fn aadsts7000218_no_secret() {
    let f = fixture().await;
    let code = f.code_for(MAILBOX).await;
    let response = f
        .post_token(
            "common",
            &[
                ("client_id", CLIENT),
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
            ],
        )
        .await;
    assert_entra_error(response, 401, "invalid_client", 7000218).await;
}

#[tokio::test]
async fn aadsts70011_malformed_scope_on_refresh() {
    let f = fixture().await;
    let tokens = f.tokens_for(MAILBOX).await;
    let response = f
        .post_token(
            "common",
            &[
                ("client_id", CLIENT),
                ("grant_type", "refresh_token"),
                ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
                ("client_secret", SECRET),
                ("scope", "openid\nmail.send"),
            ],
        )
        .await;
    assert_entra_error(response, 400, "invalid_scope", 70011).await;
}

#[tokio::test]
async fn redirect_uri_must_match_the_one_used_at_authorize() {
    let f = fixture().await;
    let code = f.code_for(MAILBOX).await;
    let response = f
        .post_token(
            "common",
            &[
                ("client_id", CLIENT),
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", "http://127.0.0.1:3000/other"),
                ("code_verifier", VERIFIER),
                ("client_secret", SECRET),
            ],
        )
        .await;
    assert_entra_error(response, 400, "invalid_grant", 500112).await;
}

#[tokio::test]
async fn other_request_errors() {
    let f = fixture().await;
    let r = f
        .post_token(
            "common",
            &[("client_id", CLIENT), ("client_secret", SECRET)],
        )
        .await;
    assert_entra_error(r, 400, "invalid_request", 900144).await;
    let r = f
        .post_token(
            "common",
            &[
                ("client_id", CLIENT),
                ("grant_type", "password"),
                ("client_secret", SECRET),
            ],
        )
        .await;
    assert_entra_error(r, 400, "unsupported_grant_type", 70003).await;
    let r = f
        .post_token(
            "common",
            &[
                ("client_id", "unknown-client"),
                ("grant_type", "refresh_token"),
                ("refresh_token", "x"),
                ("client_secret", SECRET),
            ],
        )
        .await;
    assert_entra_error(r, 400, "unauthorized_client", 700016).await;
    let r = f
        .post_token(
            "no-such-tenant.example",
            &[("client_id", CLIENT), ("grant_type", "refresh_token")],
        )
        .await;
    assert_entra_error(r, 400, "invalid_request", 90002).await;
    let r = f.refresh("not-a-refresh-token").await;
    assert_entra_error(r, 400, "invalid_grant", 9002313).await;
}

#[tokio::test]
async fn correlation_id_echoes_client_request_id() {
    let f = fixture().await;
    let response = f
        .http
        .post(f.token_url("common"))
        .header("client-request-id", "0a0b0c0d-0000-4000-8000-000000000abc")
        .form(&[("client_id", CLIENT), ("grant_type", "refresh_token")])
        .send()
        .await
        .unwrap();
    let body = assert_entra_error(response, 401, "invalid_client", 7000218).await;
    assert_eq!(
        body["correlation_id"],
        "0a0b0c0d-0000-4000-8000-000000000abc"
    );
}

#[tokio::test]
async fn ledger_records_token_requests_without_secrets() {
    let f = fixture().await;
    let code = f.code_for(MAILBOX).await;
    f.redeem(&code).await;
    f.redeem(&code).await;
    let ledger = f.stand_in.ledger();
    assert_eq!(ledger.token_requests.len(), 2);
    assert_eq!(ledger.token_requests[0].status, 200);
    assert_eq!(ledger.token_requests[1].error_code, Some(54005));
    assert_eq!(ledger.token_requests[1].client_auth, "body");
    let dump = serde_json::to_string(&ledger).unwrap();
    assert!(!dump.contains(SECRET));
}
