//! Certificate credentials for tests: self-signed certificates over a fixed RSA key shipped in
//! `keys/client-cert-key.pem` (PKCS#8, generated for the stand-in only; it protects nothing), and
//! client assertions (RFC 7523) signed with it.
//!
//! ```no_run
//! # fn demo(control: &ms_stand_in::Control, token_url: &str) -> Result<(), Box<dyn std::error::Error>> {
//! use ms_stand_in::test_certificate::TestCertificate;
//! let now = control.now();
//! let cert = TestCertificate::new("CN=Tenant Mail", now - 86_400, now + 365 * 86_400)?;
//! control.add_app_certificate(ms_stand_in::fixture::CLIENT, &cert.pem)?;
//! let assertion = cert.assertion(ms_stand_in::fixture::CLIENT, token_url, now)?;
//! # Ok(()) }
//! ```

use std::str::FromStr;
use std::time::{Duration, SystemTime};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{RandomizedSigner, SignatureEncoding, Signer};
use rsa::{pkcs1v15, pss, RsaPrivateKey};
use serde_json::{json, Value};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use x509_cert::builder::{Builder, CertificateBuilder, Profile};
use x509_cert::der::{Encode, EncodePem};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{EncodePublicKey, SubjectPublicKeyInfoOwned};
use x509_cert::time::{Time, Validity};

use crate::identity::certificates::hex;

/// The private key of every [`TestCertificate`] (PKCS#8 PEM).
pub const PRIVATE_KEY_PEM: &str = include_str!("../keys/client-cert-key.pem");

/// How long [`TestCertificate::assertion`]s are valid (Microsoft suggests 5–10 minutes).
pub const ASSERTION_SECONDS: i64 = 600;

#[derive(Debug, thiserror::Error)]
pub enum TestCertificateError {
    #[error("the test key does not parse: {0}")]
    Key(String),
    #[error("cannot build the certificate: {0}")]
    Build(String),
    #[error("unsupported alg '{0}' (PS256 or RS256)")]
    Alg(String),
    #[error("cannot serialize a JWT part: {0}")]
    Json(#[from] serde_json::Error),
}

/// A self-signed certificate and its key.
#[derive(Clone)]
pub struct TestCertificate {
    /// `-----BEGIN CERTIFICATE-----` PEM: what `add_app_certificate` takes (base64 DER works too).
    pub pem: String,
    pub der: Vec<u8>,
    /// Base64url SHA-256 of the DER: the `x5t#S256` header.
    pub x5t_s256: String,
    /// Base64url SHA-1 of the DER: the legacy `x5t` header.
    pub x5t: String,
    /// Upper-case hex SHA-1: the thumbprint the portal shows and Entra's errors name.
    pub thumbprint_sha1: String,
    key: RsaPrivateKey,
}

impl std::fmt::Debug for TestCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCertificate")
            .field("thumbprint_sha1", &self.thumbprint_sha1)
            .finish_non_exhaustive()
    }
}

fn time(unix: i64) -> Result<Time, TestCertificateError> {
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(unix).unwrap_or(0));
    Time::try_from(at).map_err(|e| TestCertificateError::Build(e.to_string()))
}

impl TestCertificate {
    /// A self-signed certificate for `subject` (e.g. `CN=Tenant Mail`) valid from `not_before`
    /// to `not_after` (Unix seconds), over the fixed test key.
    pub fn new(
        subject: &str,
        not_before: i64,
        not_after: i64,
    ) -> Result<Self, TestCertificateError> {
        let key = RsaPrivateKey::from_pkcs8_pem(PRIVATE_KEY_PEM)
            .map_err(|e| TestCertificateError::Key(e.to_string()))?;
        let build = |e: &dyn std::fmt::Display| TestCertificateError::Build(e.to_string());
        let spki_der = key
            .to_public_key()
            .to_public_key_der()
            .map_err(|e| build(&e))?;
        let spki =
            SubjectPublicKeyInfoOwned::try_from(spki_der.as_bytes()).map_err(|e| build(&e))?;
        let name = Name::from_str(subject).map_err(|e| build(&e))?;
        let validity = Validity {
            not_before: time(not_before)?,
            not_after: time(not_after)?,
        };
        // Distinct certificates over the same key get distinct serials (and so thumbprints).
        let serial = SerialNumber::from((uuid::Uuid::new_v4().as_u128() as u32) | 1);
        let signer = pkcs1v15::SigningKey::<Sha256>::new(key.clone());
        let cert = CertificateBuilder::new(Profile::Root, serial, validity, name, spki, &signer)
            .map_err(|e| build(&e))?
            .build::<pkcs1v15::Signature>()
            .map_err(|e| build(&e))?;
        let der = cert.to_der().map_err(|e| build(&e))?;
        let pem = cert
            .to_pem(x509_cert::der::pem::LineEnding::LF)
            .map_err(|e| build(&e))?;
        let sha1 = Sha1::digest(&der);
        Ok(Self {
            pem,
            x5t_s256: URL_SAFE_NO_PAD.encode(Sha256::digest(&der)),
            x5t: URL_SAFE_NO_PAD.encode(sha1),
            thumbprint_sha1: hex(&sha1),
            der,
            key,
        })
    }

    /// The claims of a client assertion for `client_id` presented at the token endpoint
    /// `audience` (the exact URL called), issued at `now`, valid for ten minutes.
    pub fn claims(client_id: &str, audience: &str, now: i64) -> Value {
        json!({
            "aud": audience,
            "iss": client_id,
            "sub": client_id,
            "jti": uuid::Uuid::new_v4().to_string(),
            "nbf": now,
            "iat": now,
            "exp": now + ASSERTION_SECONDS,
        })
    }

    /// A client assertion as Microsoft documents it: `alg: PS256`, `typ: JWT`, `x5t#S256`.
    pub fn assertion(
        &self,
        client_id: &str,
        audience: &str,
        now: i64,
    ) -> Result<String, TestCertificateError> {
        let header = json!({"alg": "PS256", "typ": "JWT", "x5t#S256": self.x5t_s256});
        self.sign(&header, &Self::claims(client_id, audience, now))
    }

    /// Signs any header and claims with the test key (`alg` PS256 or RS256): for assertions that
    /// are wrong on purpose, or the legacy `RS256` + `x5t` form.
    pub fn sign(&self, header: &Value, claims: &Value) -> Result<String, TestCertificateError> {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(header)?),
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims)?)
        );
        let signature = match header["alg"].as_str().unwrap_or_default() {
            "RS256" => pkcs1v15::SigningKey::<Sha256>::new(self.key.clone())
                .sign(input.as_bytes())
                .to_vec(),
            "PS256" => pss::SigningKey::<Sha256>::new(self.key.clone())
                .sign_with_rng(&mut rand_core::OsRng, input.as_bytes())
                .to_vec(),
            other => return Err(TestCertificateError::Alg(other.to_owned())),
        };
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }
}
