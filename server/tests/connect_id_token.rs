//! id_token validation: good token, bad signature, wrong `aud`, wrong or
//! missing `nonce`, `alg: none`, HMAC with the client secret, times, issuer,
//! unknown key. Signed with the stand-in's published test key.
mod support;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ms_stand_in::{StandIn, StandInConfig};
use serde_json::{json, Value};
use server::identity::discovery::{self, Jwks};
use server::identity::id_token::{validate, Expected};

const TENANT: &str = "11111111-2222-4333-8444-555555555555";
const CLIENT: &str = "c1c1c1c1-0000-4000-8000-000000000001";
const NONCE: &str = "nonce-abc";

struct Keys {
    jwks: Jwks,
    kid: String,
    signing: EncodingKey,
    base: String,
    _stand_in: StandIn,
}

async fn keys() -> Keys {
    let stand_in = StandIn::start(StandInConfig::default()).await.unwrap();
    let http = reqwest::Client::new();
    let jwks = discovery::keys(
        &http,
        &format!("{}/discovery/v2.0/keys", stand_in.authority("common")),
    )
    .await
    .unwrap();
    let kid = jwks.keys[0].kid.clone().unwrap();
    let pem = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../end2end/stand-in/keys/signing-key.pem"
    ))
    .unwrap();
    Keys {
        jwks,
        kid,
        signing: EncodingKey::from_rsa_pem(&pem).unwrap(),
        base: stand_in.base_url(),
        _stand_in: stand_in,
    }
}

impl Keys {
    fn claims(&self) -> Value {
        let now = support::now().timestamp();
        json!({
            "ver": "2.0",
            "iss": format!("{}/{TENANT}/v2.0", self.base),
            "sub": "pairwise-sub",
            "aud": CLIENT,
            "exp": now + 3600,
            "iat": now,
            "nbf": now,
            "nonce": NONCE,
            "oid": "0a0a0a0a-0000-4000-8000-000000000001",
            "tid": TENANT,
            "preferred_username": "mailbox@contoso.com",
        })
    }

    fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.signing).unwrap()
    }

    fn check(&self, token: &str) -> Result<String, String> {
        let issuer = format!("{}/{{tenantid}}/v2.0", self.base);
        validate(
            token,
            &self.jwks,
            &Expected {
                issuer: &issuer,
                client_id: CLIENT,
                nonce: NONCE,
                now: support::now(),
                leeway_seconds: 120,
            },
        )
        .map(|c| c.oid)
        .map_err(|reason| reason.to_string())
    }
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

fn without(mut claims: Value, key: &str) -> Value {
    claims.as_object_mut().unwrap().remove(key);
    claims
}

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
}

#[tokio::test]
async fn a_good_id_token_is_accepted() {
    let k = keys().await;
    assert_eq!(
        k.check(&k.sign(&k.claims())).unwrap(),
        "0a0a0a0a-0000-4000-8000-000000000001"
    );
    // aud as an array with azp.
    let c = with(k.claims(), "aud", json!([CLIENT]));
    assert!(k.check(&k.sign(&c)).is_ok());
    // expired a minute ago: inside the leeway.
    let c = with(k.claims(), "exp", json!(support::now().timestamp() - 60));
    assert!(k.check(&k.sign(&c)).is_ok());
}

#[tokio::test]
async fn bad_signature_is_rejected() {
    let k = keys().await;
    let token = k.sign(&k.claims());
    let parts: Vec<&str> = token.split('.').collect();
    let forged = with(
        k.claims(),
        "oid",
        json!("ffffffff-0000-4000-8000-000000000001"),
    );
    let tampered = format!("{}.{}.{}", parts[0], b64(&forged), parts[2]);
    let e = k.check(&tampered).unwrap_err();
    assert!(e.contains("signature"), "{e}");
    // Signature bytes flipped.
    let mut sig = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
    sig[10] ^= 0xff;
    let flipped = format!("{}.{}.{}", parts[0], parts[1], URL_SAFE_NO_PAD.encode(sig));
    assert!(k.check(&flipped).is_err());
}

#[tokio::test]
async fn alg_none_and_hmac_are_rejected() {
    let k = keys().await;
    let none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        b64(&k.claims())
    );
    assert!(k.check(&none).is_err());
    let none_kid = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT", "kid": k.kid})),
        b64(&k.claims())
    );
    assert!(k.check(&none_kid).is_err());
    // HS256 keyed with something an attacker knows (e.g. the public modulus).
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(k.kid.clone());
    let hmac = jsonwebtoken::encode(
        &header,
        &k.claims(),
        &EncodingKey::from_secret(b"secret-value~1"),
    )
    .unwrap();
    let e = k.check(&hmac).unwrap_err();
    assert!(e.contains("not allowed"), "{e}");
}

#[tokio::test]
async fn wrong_audience_nonce_issuer_and_times_are_rejected() {
    let k = keys().await;
    let now = support::now().timestamp();
    let cases = [
        (
            with(k.claims(), "aud", json!("someone-else")),
            "another application",
        ),
        (with(k.claims(), "aud", json!([CLIENT, "other"])), "azp"),
        (with(k.claims(), "nonce", json!("other-nonce")), "nonce"),
        (without(k.claims(), "nonce"), "nonce"),
        (
            with(
                k.claims(),
                "iss",
                json!(format!(
                    "{}/99999999-2222-4333-8444-555555555555/v2.0",
                    k.base
                )),
            ),
            "issuer",
        ),
        (
            with(k.claims(), "iss", json!("https://evil.example/v2.0")),
            "issuer",
        ),
        (with(k.claims(), "exp", json!(now - 3600)), "expired"),
        (with(k.claims(), "iat", json!(now + 3600)), "future"),
        (with(k.claims(), "nbf", json!(now + 3600)), "not valid yet"),
        (without(k.claims(), "oid"), "missing"),
        (without(k.claims(), "tid"), "names no tenant"),
    ];
    for (claims, reason) in cases {
        let e = k.check(&k.sign(&claims)).unwrap_err();
        assert!(e.contains(reason), "{reason}: {e}");
    }
}

#[tokio::test]
async fn unknown_key_is_rejected() {
    let k = keys().await;
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("not-published".into());
    let token = jsonwebtoken::encode(&header, &k.claims(), &k.signing).unwrap();
    let e = k.check(&token).unwrap_err();
    assert!(e.contains("does not publish"), "{e}");
    assert!(k.check("not.a.jwt").is_err());
    assert!(k.check("").is_err());
}

#[tokio::test]
async fn without_kid_every_published_key_is_tried() {
    let k = keys().await;
    let mut jwks = k.jwks.clone();
    let mut decoy = jwks.keys[0].clone();
    decoy.kid = Some("decoy".into());
    decoy.n = Some(URL_SAFE_NO_PAD.encode([0xC3u8; 256]));
    jwks.keys.insert(0, decoy);
    let token =
        jsonwebtoken::encode(&Header::new(Algorithm::RS256), &k.claims(), &k.signing).unwrap();
    let issuer = format!("{}/{{tenantid}}/v2.0", k.base);
    let expected = Expected {
        issuer: &issuer,
        client_id: CLIENT,
        nonce: NONCE,
        now: support::now(),
        leeway_seconds: 120,
    };
    assert!(validate(&token, &jwks, &expected).is_ok());
    // Only the decoy published: rejected.
    jwks.keys.truncate(1);
    assert!(validate(&token, &jwks, &expected).is_err());
}
