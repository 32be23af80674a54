//! Discovery document and JWKS; id_token signatures verify with the published key.

mod common;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::*;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::signature::Verifier;
use serde_json::Value;
use sha2::Sha256;

#[tokio::test]
async fn openid_configuration_per_tenant_path() {
    let f = fixture().await;
    let base = f.stand_in.base_url();
    for (segment, issuer) in [
        (TENANT.to_owned(), format!("{base}/{TENANT}/v2.0")),
        ("contoso.com".to_owned(), format!("{base}/{TENANT}/v2.0")),
        ("common".to_owned(), format!("{base}/{{tenantid}}/v2.0")),
        (
            "organizations".to_owned(),
            format!("{base}/{{tenantid}}/v2.0"),
        ),
    ] {
        let doc: Value = f
            .http
            .get(format!(
                "{base}/{segment}/v2.0/.well-known/openid-configuration"
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(doc["issuer"], issuer);
        assert_eq!(
            doc["authorization_endpoint"],
            format!("{base}/{segment}/oauth2/v2.0/authorize")
        );
        assert_eq!(
            doc["token_endpoint"],
            format!("{base}/{segment}/oauth2/v2.0/token")
        );
        assert_eq!(
            doc["jwks_uri"],
            format!("{base}/{segment}/discovery/v2.0/keys")
        );
        assert_eq!(doc["id_token_signing_alg_values_supported"][0], "RS256");
    }
    let response = f
        .http
        .get(format!(
            "{base}/nowhere.example/v2.0/.well-known/openid-configuration"
        ))
        .send()
        .await
        .unwrap();
    assert_entra_error(response, 400, "invalid_request", 90002).await;
}

#[tokio::test]
async fn id_token_verifies_against_jwks() {
    let f = fixture().await;
    let tokens = f.tokens_for(MAILBOX).await;
    let id_token = tokens["id_token"].as_str().unwrap();
    let parts: Vec<&str> = id_token.split('.').collect();
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    assert_eq!(header["alg"], "RS256");
    let jwks: Value = f
        .http
        .get(format!(
            "{}/discovery/v2.0/keys",
            f.stand_in.authority("common")
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == header["kid"])
        .unwrap();
    assert_eq!(key["kty"], "RSA");
    let n = URL_SAFE_NO_PAD.decode(key["n"].as_str().unwrap()).unwrap();
    let e = URL_SAFE_NO_PAD.decode(key["e"].as_str().unwrap()).unwrap();
    let public = rsa::RsaPublicKey::new(
        rsa::BigUint::from_bytes_be(&n),
        rsa::BigUint::from_bytes_be(&e),
    )
    .unwrap();
    let signature =
        Signature::try_from(URL_SAFE_NO_PAD.decode(parts[2]).unwrap().as_slice()).unwrap();
    VerifyingKey::<Sha256>::new(public)
        .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature)
        .unwrap();
}

#[tokio::test]
async fn userinfo_sub_matches_id_token_and_logout_clears_the_session() {
    let f = fixture().await;
    let tokens = f.tokens_for(MAILBOX).await;
    let payload = tokens["id_token"]
        .as_str()
        .unwrap()
        .split('.')
        .nth(1)
        .unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    let info: Value = f
        .http
        .get(format!("{}/oidc/userinfo", f.stand_in.base_url()))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["sub"], claims["sub"]);
    assert_eq!(info["email"], MAILBOX);

    assert_eq!(f.stand_in.signed_in().len(), 1);
    let r = f
        .http
        .get(format!(
            "{}/oauth2/v2.0/logout?post_logout_redirect_uri={}",
            f.stand_in.authority("common"),
            "http%3A%2F%2F127.0.0.1%3A3000%2Fbye"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    assert_eq!(r.headers()["location"], "http://127.0.0.1:3000/bye");
    assert!(f.stand_in.signed_in().is_empty());
}
