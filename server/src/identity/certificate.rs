//! Certificate credentials: the server makes the key pair (RSA 2048: Entra
//! takes RSA keys only), keeps the private key sealed like a secret, and
//! offers only the self-signed certificate, which the admin uploads to the
//! app registration. Token requests then carry a client assertion (RFC 7523)
//! instead of a secret: a JWT signed PS256 with `x5t#S256` naming the
//! certificate, `aud` the token endpoint called, `iss` = `sub` = the client
//! id, a unique `jti` and a ten-minute lifetime.
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rsa::RsaPrivateKey;
use sha2::{Digest, Sha256};
use std::str::FromStr;
use x509_cert::builder::{Builder, CertificateBuilder, Profile};
use x509_cert::der::{DecodePem, Encode, EncodePem};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{EncodePublicKey, SubjectPublicKeyInfoOwned};
use x509_cert::time::{Time, Validity};
use zeroize::Zeroizing;

/// How long a generated certificate is valid (Entra allows up to three years).
pub const VALID_DAYS: i64 = 730;
/// A client assertion's lifetime (Microsoft suggests 5–10 minutes).
const ASSERTION_SECONDS: i64 = 600;

/// A new key pair: the private key (PKCS#8 PEM, to be sealed at once) and
/// the public certificate with what the editor shows of it.
pub struct Generated {
    pub key_pem: Zeroizing<String>,
    pub certificate: Certificate,
}

/// The public half, as stored and shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    pub pem: String,
    /// Upper-case hex SHA-1 of the DER: the thumbprint Entra's portal shows.
    pub thumbprint: String,
    pub expires_at: DateTime<Utc>,
}

fn time(t: DateTime<Utc>) -> Result<Time, String> {
    let secs = u64::try_from(t.timestamp()).map_err(|_| "a time before 1970".to_string())?;
    Time::try_from(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
        .map_err(|e| e.to_string())
}

/// A self-signed certificate for `CN=Tenant Mail <address>` over a new key.
pub fn generate(address: &str, now: DateTime<Utc>) -> Result<Generated, String> {
    let key = RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).map_err(|e| e.to_string())?;
    let key_pem = key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| e.to_string())?;
    let spki_der = key
        .to_public_key()
        .to_public_key_der()
        .map_err(|e| e.to_string())?;
    let spki =
        SubjectPublicKeyInfoOwned::try_from(spki_der.as_bytes()).map_err(|e| e.to_string())?;
    // A CN is text in an RDN: keep only what needs no escaping.
    let cn: String = address
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '@' | '.' | '-' | '_'))
        .collect();
    let name = Name::from_str(&format!("CN=Tenant Mail {cn}")).map_err(|e| e.to_string())?;
    let expires_at = now + chrono::Duration::days(VALID_DAYS);
    let validity = Validity {
        not_before: time(now - chrono::Duration::minutes(5))?,
        not_after: time(expires_at)?,
    };
    let serial =
        SerialNumber::new(&uuid::Uuid::new_v4().as_bytes()[..15]).map_err(|e| e.to_string())?;
    let signer = rsa::pkcs1v15::SigningKey::<Sha256>::new(key);
    let cert = CertificateBuilder::new(Profile::Root, serial, validity, name, spki, &signer)
        .map_err(|e| e.to_string())?
        .build::<rsa::pkcs1v15::Signature>()
        .map_err(|e| e.to_string())?;
    let der = cert.to_der().map_err(|e| e.to_string())?;
    let pem = cert
        .to_pem(x509_cert::der::pem::LineEnding::LF)
        .map_err(|e| e.to_string())?;
    Ok(Generated {
        key_pem: Zeroizing::new(key_pem.to_string()),
        certificate: Certificate {
            pem,
            // SHA-1 for the portal's thumbprint only (display, not security).
            thumbprint: crate::hashing::hex(&sha1::Sha1::digest(&der)).to_ascii_uppercase(),
            expires_at,
        },
    })
}

#[derive(serde::Serialize)]
struct Claims<'a> {
    aud: &'a str,
    iss: &'a str,
    sub: &'a str,
    jti: String,
    nbf: i64,
    iat: i64,
    exp: i64,
}

/// A client assertion for `client_id` at the token endpoint `token_url`.
pub fn assertion(
    key_pem: &str,
    certificate_pem: &str,
    client_id: &str,
    token_url: &str,
    now: DateTime<Utc>,
) -> Result<String, String> {
    let cert = x509_cert::Certificate::from_pem(certificate_pem).map_err(|e| e.to_string())?;
    let der = cert.to_der().map_err(|e| e.to_string())?;
    // Checked so a damaged key is reported here, not as Microsoft's 700027.
    RsaPrivateKey::from_pkcs8_pem(key_pem).map_err(|e| e.to_string())?;
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::PS256);
    header.x5t_s256 = Some(URL_SAFE_NO_PAD.encode(Sha256::digest(&der)));
    let key =
        jsonwebtoken::EncodingKey::from_rsa_pem(key_pem.as_bytes()).map_err(|e| e.to_string())?;
    let t = now.timestamp();
    let claims = Claims {
        aud: token_url,
        iss: client_id,
        sub: client_id,
        jti: uuid::Uuid::new_v4().to_string(),
        nbf: t,
        iat: t,
        exp: t + ASSERTION_SECONDS,
    };
    jsonwebtoken::encode(&header, &claims, &key).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_certificate_signs_assertions_that_name_it() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let g = generate("support@contoso.com", now).unwrap();
        assert!(g.key_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        assert!(g.certificate.pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(!g.certificate.pem.contains("PRIVATE"));
        assert_eq!(g.certificate.thumbprint.len(), 40);
        assert_eq!(
            g.certificate.expires_at,
            now + chrono::Duration::days(VALID_DAYS)
        );
        let jwt = assertion(
            &g.key_pem,
            &g.certificate.pem,
            "app-id",
            "https://login/t/oauth2/v2.0/token",
            now,
        )
        .unwrap();
        let header = jsonwebtoken::decode_header(&jwt).unwrap();
        assert_eq!(header.alg, jsonwebtoken::Algorithm::PS256);
        assert!(header.x5t_s256.is_some());
        let body: serde_json::Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(jwt.split('.').nth(1).unwrap())
                .unwrap(),
        )
        .unwrap();
        assert_eq!(body["aud"], "https://login/t/oauth2/v2.0/token");
        assert_eq!(body["iss"], "app-id");
        assert_eq!(body["sub"], "app-id");
        assert_eq!(
            body["exp"].as_i64().unwrap() - body["nbf"].as_i64().unwrap(),
            600
        );
        // Two assertions never share a jti.
        let again = assertion(&g.key_pem, &g.certificate.pem, "app-id", "x", now).unwrap();
        assert_ne!(jwt.split('.').nth(1), again.split('.').nth(1));
    }
}
