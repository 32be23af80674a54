//! Certificate credentials: client assertions (RFC 7523) instead of a secret on every grant, and
//! each way Entra refuses one.

mod common;

use base64::Engine;
use common::*;
use ms_stand_in::test_certificate::TestCertificate;
use ms_stand_in::ControlError;
use serde_json::{json, Value};

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const DAY: i64 = 86_400;

struct Certs {
    f: Fixture,
    cert: TestCertificate,
}

async fn certs() -> Certs {
    let f = fixture().await;
    let now = f.stand_in.now();
    let cert = TestCertificate::new("CN=Tenant Mail", now - DAY, now + 365 * DAY).unwrap();
    let registered = f.stand_in.add_app_certificate(CLIENT, &cert.pem).unwrap();
    assert_eq!(registered.x5t_s256, cert.x5t_s256);
    assert_eq!(registered.thumbprint_sha1, cert.thumbprint_sha1);
    assert_eq!(registered.subject, "CN=Tenant Mail");
    assert_eq!(registered.not_after, now + 365 * DAY);
    Certs { f, cert }
}

impl Certs {
    fn url(&self) -> String {
        self.f.token_url(TENANT)
    }

    fn now(&self) -> i64 {
        self.f.stand_in.now()
    }

    fn assertion(&self) -> String {
        self.cert
            .assertion(CLIENT, &self.url(), self.now())
            .unwrap()
    }

    /// A PS256 assertion with these claims changed.
    fn with_claims(&self, change: impl FnOnce(&mut Value)) -> String {
        let mut claims = TestCertificate::claims(CLIENT, &self.url(), self.now());
        change(&mut claims);
        let header = json!({"alg": "PS256", "typ": "JWT", "x5t#S256": self.cert.x5t_s256});
        self.cert.sign(&header, &claims).unwrap()
    }

    /// Client credentials with this `client_assertion_type` (or none).
    async fn typed(&self, kind: Option<&str>, assertion: &str) -> reqwest::Response {
        let mut form = vec![
            ("client_id", CLIENT),
            ("grant_type", "client_credentials"),
            ("scope", "https://graph.microsoft.com/.default"),
            ("client_assertion", assertion),
        ];
        if let Some(kind) = kind {
            form.push(("client_assertion_type", kind));
        }
        self.f.post_token(TENANT, &form).await
    }

    async fn app_only(&self, assertion: &str) -> reqwest::Response {
        self.f
            .post_token(
                TENANT,
                &[
                    ("client_id", CLIENT),
                    ("grant_type", "client_credentials"),
                    ("scope", "https://graph.microsoft.com/.default"),
                    ("client_assertion_type", JWT_BEARER),
                    ("client_assertion", assertion),
                ],
            )
            .await
    }
}

#[tokio::test]
async fn assertions_replace_the_secret_on_every_grant() {
    let c = certs().await;
    // Client credentials, PS256 + x5t#S256 as documented.
    let r = c.app_only(&c.assertion()).await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert!(body["access_token"].is_string());

    // The legacy form: RS256 + x5t (SHA-1).
    let header = json!({"alg": "RS256", "typ": "JWT", "x5t": c.cert.x5t});
    let legacy = c
        .cert
        .sign(&header, &TestCertificate::claims(CLIENT, &c.url(), c.now()))
        .unwrap();
    assert_eq!(c.app_only(&legacy).await.status(), 200);

    // Without client_id: the assertion's issuer names the client (RFC 7523).
    let r =
        c.f.post_token(
            TENANT,
            &[
                ("grant_type", "client_credentials"),
                ("scope", "https://graph.microsoft.com/.default"),
                ("client_assertion_type", JWT_BEARER),
                ("client_assertion", &c.assertion()),
            ],
        )
        .await;
    assert_eq!(r.status(), 200);

    // Authorization code and refresh token grants, at /common (aud is the URL called).
    let code = c.f.code_for(MAILBOX).await;
    let common = c.f.token_url("common");
    let assertion = c.cert.assertion(CLIENT, &common, c.now()).unwrap();
    let r =
        c.f.post_token(
            "common",
            &[
                ("client_id", CLIENT),
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
                ("client_assertion_type", JWT_BEARER),
                ("client_assertion", &assertion),
            ],
        )
        .await;
    assert_eq!(r.status(), 200);
    let tokens: Value = r.json().await.unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let assertion = c.cert.assertion(CLIENT, &common, c.now()).unwrap();
    let r =
        c.f.post_token(
            "common",
            &[
                ("client_id", CLIENT),
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh),
                ("client_assertion_type", JWT_BEARER),
                ("client_assertion", &assertion),
            ],
        )
        .await;
    assert_eq!(r.status(), 200);

    let ledger = c.f.stand_in.ledger();
    let auths: Vec<(&str, u16)> = ledger
        .token_requests
        .iter()
        .map(|t| (t.client_auth.as_str(), t.status))
        .collect();
    assert_eq!(
        auths,
        [
            ("assertion", 200),
            ("assertion", 200),
            ("assertion", 200),
            ("assertion", 200),
            ("assertion", 200)
        ]
    );
    assert_eq!(ledger.token_requests[2].client_id.as_deref(), Some(CLIENT));
}

#[tokio::test]
async fn aadsts700027_unknown_thumbprint_or_bad_signature() {
    let c = certs().await;
    let now = c.now();
    let other = TestCertificate::new("CN=Not registered", now - DAY, now + DAY).unwrap();
    let assertion = other.assertion(CLIENT, &c.url(), now).unwrap();
    let body =
        assert_entra_error(c.app_only(&assertion).await, 401, "invalid_client", 700_027).await;
    let description = body["error_description"].as_str().unwrap();
    let sha256_hex: String = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(&other.x5t_s256)
        .unwrap()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    assert!(
        description.contains("The key was not found."),
        "{description}"
    );
    assert!(
        description.contains(&format!("Thumbprint of key used by client: '{sha256_hex}'")),
        "{description}"
    );
    // Legacy x5t of an unknown certificate: its SHA-1 hex, as the portal shows it.
    let header = json!({"alg": "RS256", "x5t": other.x5t});
    let legacy = other
        .sign(&header, &TestCertificate::claims(CLIENT, &c.url(), now))
        .unwrap();
    let body = assert_entra_error(c.app_only(&legacy).await, 401, "invalid_client", 700_027).await;
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .contains(&other.thumbprint_sha1));

    // Claims changed after signing.
    let good = c.assertion();
    let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
    let mut claims = TestCertificate::claims(CLIENT, &c.url(), now);
    claims["exp"] = json!(now + 86_400);
    parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(serde_json::to_vec(&claims).unwrap());
    let body = assert_entra_error(
        c.app_only(&parts.join(".")).await,
        401,
        "invalid_client",
        700_027,
    )
    .await;
    let description = body["error_description"].as_str().unwrap();
    assert!(description.contains("did not match"), "{description}");
    assert!(
        description.contains("Found key 'Start=12/31/2024 00:00:00"),
        "{description}"
    );
    // A removed certificate is unknown again.
    assert!(c
        .f
        .stand_in
        .remove_app_certificate(CLIENT, &c.cert.thumbprint_sha1)
        .unwrap());
    assert_entra_error(
        c.app_only(&c.assertion()).await,
        401,
        "invalid_client",
        700_027,
    )
    .await;
}

#[tokio::test]
async fn claims_are_checked_as_entra_does() {
    let c = certs().await;
    let now = c.now();
    // iss ≠ sub.
    let a = c.with_claims(|cl| cl["sub"] = json!("someone-else"));
    assert_entra_error(c.app_only(&a).await, 401, "invalid_client", 50_048).await;
    // iss = sub, but another client.
    let a = c.with_claims(|cl| {
        cl["iss"] = json!("a9b00000-0000-4000-8000-000000000999");
        cl["sub"] = json!("a9b00000-0000-4000-8000-000000000999");
    });
    assert_entra_error(c.app_only(&a).await, 401, "invalid_client", 700_021).await;
    // aud must be the very URL called.
    for aud in [
        json!(c.f.token_url("common")),
        json!([c.url()]),
        json!(null),
    ] {
        let a = c.with_claims(|cl| cl["aud"] = aud.clone());
        assert_entra_error(c.app_only(&a).await, 401, "invalid_client", 50_012).await;
    }
    // exp passed, nbf too far ahead, no exp.
    let a = c.with_claims(|cl| cl["exp"] = json!(now));
    let body = assert_entra_error(c.app_only(&a).await, 401, "invalid_client", 700_024).await;
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .contains("Current time: 2025-01-01T00:00:00Z"));
    let a = c.with_claims(|cl| cl["nbf"] = json!(now + 301));
    assert_entra_error(c.app_only(&a).await, 401, "invalid_client", 700_024).await;
    let a = c.with_claims(|cl| {
        cl.as_object_mut().unwrap().remove("exp");
    });
    assert_entra_error(c.app_only(&a).await, 401, "invalid_client", 700_024).await;
    // Five minutes of skew on nbf are fine.
    let a = c.with_claims(|cl| cl["nbf"] = json!(now + 300));
    assert_eq!(c.app_only(&a).await.status(), 200);
    // jti: required, and used once.
    let a = c.with_claims(|cl| {
        cl.as_object_mut().unwrap().remove("jti");
    });
    assert_entra_error(c.app_only(&a).await, 401, "invalid_client", 50_027).await;
    let once = c.assertion();
    assert_eq!(c.app_only(&once).await.status(), 200);
    let body = assert_entra_error(c.app_only(&once).await, 401, "invalid_client", 50_027).await;
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .contains("presented before"));
}

#[tokio::test]
async fn malformed_assertions_and_expired_certificates() {
    let c = certs().await;
    let now = c.now();
    let claims = TestCertificate::claims(CLIENT, &c.url(), now);
    // No thumbprint in the header.
    let a = c
        .cert
        .sign(&json!({"alg": "PS256", "typ": "JWT"}), &claims)
        .unwrap();
    assert_entra_error(c.app_only(&a).await, 401, "invalid_client", 50_027).await;
    // Not RSA: an HMAC "signature".
    let header = b64url(&json!({"alg": "HS256", "x5t#S256": c.cert.x5t_s256}));
    let hs = format!("{header}.{}.c2ln", b64url(&claims));
    assert_entra_error(c.app_only(&hs).await, 401, "invalid_client", 50_027).await;
    assert_entra_error(c.app_only("not-a-jwt").await, 401, "invalid_client", 50_027).await;
    // The assertion type is required and must be jwt-bearer.
    let r = c.typed(None, &c.assertion()).await;
    assert_entra_error(r, 400, "invalid_request", 900_144).await;
    let r = c.typed(Some("urn:other"), &c.assertion()).await;
    assert_entra_error(r, 400, "invalid_request", 50_027).await;

    // An expired registered certificate: AADSTS1000502.
    let old = TestCertificate::new("CN=Old", now - 400 * DAY, now - DAY).unwrap();
    let registered = c.f.stand_in.add_app_certificate(CLIENT, &old.pem).unwrap();
    let a = old.assertion(CLIENT, &c.url(), now).unwrap();
    let body = assert_entra_error(c.app_only(&a).await, 401, "invalid_client", 1_000_502).await;
    let description = body["error_description"].as_str().unwrap();
    // x5t#S256 names the certificate by its SHA-256.
    assert!(
        description.contains(&registered.thumbprint_sha256),
        "{description}"
    );
}

fn b64url(value: &Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
}

#[tokio::test]
async fn registering_certificates() {
    let f = fixture().await;
    let now = f.stand_in.now();
    let cert = TestCertificate::new("CN=Der", now, now + DAY).unwrap();
    let der = base64::engine::general_purpose::STANDARD.encode(&cert.der);
    let added = f.stand_in.add_app_certificate(CLIENT, &der).unwrap();
    assert_eq!(added.x5t, cert.x5t);
    assert_eq!(added.der_base64, der);
    assert_eq!(f.stand_in.app(CLIENT).unwrap().certificates, [added]);
    assert!(matches!(
        f.stand_in.add_app_certificate(CLIENT, &cert.pem),
        Err(ControlError::Conflict(_))
    ));
    assert!(matches!(
        f.stand_in.add_app_certificate(
            CLIENT,
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"
        ),
        Err(ControlError::Invalid(_))
    ));
    assert!(matches!(
        f.stand_in.add_app_certificate("nope", &cert.pem),
        Err(ControlError::UnknownApp(_))
    ));
    assert!(!f.stand_in.remove_app_certificate(CLIENT, "00").unwrap());
}
