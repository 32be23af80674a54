//! Shared fixture: a stand-in with one tenant, one app and three users.
#![allow(dead_code, unused_imports)]

pub mod receiver;
pub mod subs;

use std::collections::HashMap;

pub use ms_stand_in::fixture::{ADMIN, CLIENT, EXPIRED_SECRET, MAILBOX, SECRET, SECRET_ID, TENANT};
use ms_stand_in::{ConsentGrant, NewTenant, NewUser, StandIn, StandInConfig};
use reqwest::redirect::Policy;
use serde_json::Value;

pub const OTHER_TENANT: &str = "99999999-2222-4333-8444-555555555555";
pub const REDIRECT: &str = "http://127.0.0.1:3000/core/oauth2/validated";
pub const SCOPE: &str =
    "openid profile offline_access user.read mail.read mail.send mail.readwrite";
pub const STRANGER: &str = "someone@fabrikam.com";
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

pub struct Fixture {
    pub stand_in: StandIn,
    pub http: reqwest::Client,
    pub mailbox_oid: String,
    pub admin_oid: String,
}

pub async fn fixture() -> Fixture {
    let stand_in = StandIn::start(StandInConfig::default()).await.unwrap();
    let contoso = ms_stand_in::fixture::seed_contoso(stand_in.control(), REDIRECT).unwrap();
    stand_in
        .add_tenant(NewTenant {
            id: Some(OTHER_TENANT.into()),
            domains: vec!["fabrikam.com".into()],
            display_name: None,
        })
        .unwrap();
    stand_in
        .add_user(NewUser {
            tenant_id: OTHER_TENANT.into(),
            oid: None,
            upn: STRANGER.into(),
            mail: Some(STRANGER.into()),
            display_name: Some("Someone Else".into()),
            password: None,
            proxy_addresses: None,
        })
        .unwrap();
    let http = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    Fixture {
        stand_in,
        http,
        mailbox_oid: contoso.mailbox.oid,
        admin_oid: contoso.admin.oid,
    }
}

impl Fixture {
    pub fn consent_all(&self) {
        self.stand_in
            .grant_consent(ConsentGrant {
                client_id: CLIENT.into(),
                tenant_id: Some(TENANT.into()),
                ..ConsentGrant::default()
            })
            .unwrap();
    }

    pub fn sign_in_only(&self, upn: &str) {
        self.stand_in.set_signed_in(&[upn.to_owned()]).unwrap();
    }

    pub fn authorize_url(&self, tenant: &str, extra: &[(&str, &str)]) -> String {
        let mut params: Vec<(&str, &str)> = vec![
            ("client_id", CLIENT),
            ("response_type", "code"),
            ("redirect_uri", REDIRECT),
            ("scope", SCOPE),
            ("state", "st-123"),
            ("nonce", "n-456"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ];
        for (k, v) in extra {
            params.retain(|(pk, _)| pk != k);
            if !v.is_empty() {
                params.push((k, v));
            }
        }
        format!(
            "{}/oauth2/v2.0/authorize?{}",
            self.stand_in.authority(tenant),
            serde_urlencoded::to_string(&params).unwrap()
        )
    }

    pub fn token_url(&self, tenant: &str) -> String {
        format!("{}/oauth2/v2.0/token", self.stand_in.authority(tenant))
    }

    /// Runs authorize expecting an immediate redirect back; returns its query parameters.
    pub async fn authorize_redirect(&self, url: &str) -> HashMap<String, String> {
        let response = self.http.get(url).send().await.unwrap();
        assert_eq!(
            response.status(),
            302,
            "expected a redirect, got {}",
            response.text().await.unwrap()
        );
        redirect_params(&response)
    }

    /// Silent sign-in as the only signed-in account `upn` (consent granted); returns the code.
    pub async fn code_for(&self, upn: &str) -> String {
        self.consent_all();
        self.sign_in_only(upn);
        let params = self
            .authorize_redirect(&self.authorize_url("common", &[]))
            .await;
        params["code"].clone()
    }

    pub async fn redeem(&self, code: &str) -> reqwest::Response {
        self.post_token(
            "common",
            &[
                ("client_id", CLIENT),
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
                ("client_secret", SECRET),
            ],
        )
        .await
    }

    pub async fn post_token(&self, tenant: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(self.token_url(tenant))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// Tokens for `upn` (code flow); returns the token response body.
    pub async fn tokens_for(&self, upn: &str) -> Value {
        let code = self.code_for(upn).await;
        let response = self.redeem(&code).await;
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    pub async fn refresh(&self, refresh_token: &str) -> reqwest::Response {
        self.post_token(
            "common",
            &[
                ("client_id", CLIENT),
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
                ("client_secret", SECRET),
            ],
        )
        .await
    }

    pub fn graph(&self, path: &str) -> String {
        format!("{}{path}", self.stand_in.graph_base())
    }
}

pub fn redirect_params(response: &reqwest::Response) -> HashMap<String, String> {
    let location = response
        .headers()
        .get("location")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let (base, query) = location.split_once('?').unwrap();
    assert_eq!(base, REDIRECT);
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .unwrap()
        .into_iter()
        .collect()
}

/// Asserts Entra's error JSON shape and returns the body.
pub async fn assert_entra_error(
    response: reqwest::Response,
    status: u16,
    error: &str,
    code: u32,
) -> Value {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], error, "{body}");
    assert_eq!(body["error_codes"], serde_json::json!([code]), "{body}");
    let description = body["error_description"].as_str().unwrap();
    assert!(
        description.starts_with(&format!("AADSTS{code}: ")),
        "{description}"
    );
    assert!(description.contains("\r\nTrace ID: "), "{description}");
    assert!(
        description.contains("\r\nCorrelation ID: "),
        "{description}"
    );
    assert!(
        description.contains("\r\nTimestamp: 2025-"),
        "{description}"
    );
    let trace = body["trace_id"].as_str().unwrap();
    assert!(description.contains(trace));
    assert_eq!(body["correlation_id"].as_str().unwrap().len(), 36);
    assert!(body["timestamp"].as_str().unwrap().ends_with('Z'));
    assert!(body["error_uri"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/error?code={code}")));
    body
}

/// The value of a hidden `req` input in a sign-in page.
pub fn req_of(html: &str) -> String {
    let start = html.find("name=\"req\" value=\"").unwrap() + "name=\"req\" value=\"".len();
    let end = html[start..].find('"').unwrap();
    html[start..start + end].to_owned()
}
