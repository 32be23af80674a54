//! RS256 signing of id_tokens and the JWKS that verifies them.
//!
//! The key is a fixed test key shipped in `keys/signing-key.pem` (generated for the stand-in only; it
//! protects nothing). A fixed key keeps tokens verifiable across restarts of the demo.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs1v15;
use rsa::signature::{SignatureEncoding, Signer};
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const PEM: &str = include_str!("../../keys/signing-key.pem");

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the embedded signing key does not parse: {0}")]
    Parse(#[from] rsa::pkcs1::Error),
    #[error("could not serialize JWT part: {0}")]
    Json(#[from] serde_json::Error),
}

pub struct SigningKey {
    signer: pkcs1v15::SigningKey<Sha256>,
    n: Vec<u8>,
    e: Vec<u8>,
    kid: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    pub fn embedded() -> Result<Self, KeyError> {
        let private = RsaPrivateKey::from_pkcs1_pem(PEM)?;
        let n = private.n().to_bytes_be();
        let e = private.e().to_bytes_be();
        let kid = URL_SAFE_NO_PAD.encode(&Sha256::digest(&n)[..15]);
        Ok(Self {
            signer: pkcs1v15::SigningKey::<Sha256>::new(private),
            n,
            e,
            kid,
        })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// `{"keys":[{kty, use, kid, x5t, n, e, issuer}]}` as Entra publishes it.
    pub fn jwks(&self, issuer: &str) -> Value {
        json!({
            "keys": [{
                "kty": "RSA",
                "use": "sig",
                "alg": "RS256",
                "kid": self.kid,
                "x5t": self.kid,
                "n": URL_SAFE_NO_PAD.encode(&self.n),
                "e": URL_SAFE_NO_PAD.encode(&self.e),
                "issuer": issuer,
            }]
        })
    }

    /// A compact JWS (RS256) over `claims`.
    pub fn sign(&self, claims: &Value) -> Result<String, KeyError> {
        let header = json!({"typ": "JWT", "alg": "RS256", "kid": self.kid});
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header)?),
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims)?)
        );
        let signature = self.signer.sign(signing_input.as_bytes());
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature.to_bytes())
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::signature::Verifier;

    #[test]
    fn signed_tokens_verify_with_the_published_key() {
        let key = SigningKey::embedded().unwrap();
        let token = key.sign(&json!({"sub": "x"})).unwrap();
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let jwks = key.jwks("iss");
        let n = URL_SAFE_NO_PAD
            .decode(jwks["keys"][0]["n"].as_str().unwrap())
            .unwrap();
        let e = URL_SAFE_NO_PAD
            .decode(jwks["keys"][0]["e"].as_str().unwrap())
            .unwrap();
        let public = rsa::RsaPublicKey::new(
            rsa::BigUint::from_bytes_be(&n),
            rsa::BigUint::from_bytes_be(&e),
        )
        .unwrap();
        let verifier = pkcs1v15::VerifyingKey::<Sha256>::new(public);
        let sig =
            pkcs1v15::Signature::try_from(URL_SAFE_NO_PAD.decode(parts[2]).unwrap().as_slice())
                .unwrap();
        verifier
            .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &sig)
            .unwrap();
    }
}
