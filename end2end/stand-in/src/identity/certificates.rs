//! X.509 certificates of app registrations: parsing (PEM or base64 DER), the thumbprints Entra
//! names them by, and the RSA key that verifies client assertions.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use rsa::pkcs8::DecodePublicKey;
use rsa::RsaPublicKey;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use x509_cert::der::{Decode, DecodePem, Encode};

use crate::model::Certificate;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CertificateError {
    #[error("not an X.509 certificate (PEM or base64 DER): {0}")]
    Parse(String),
    #[error("the certificate's key is not RSA (Entra accepts RSA keys only)")]
    NotRsa,
}

/// Upper-case hex, as Entra and the Azure portal write thumbprints.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// Reads a certificate given as PEM (`-----BEGIN CERTIFICATE-----`) or base64 DER.
pub fn parse(text: &str) -> Result<(Certificate, RsaPublicKey), CertificateError> {
    let text = text.trim();
    let (cert, der) = if text.contains("-----BEGIN") {
        let cert = x509_cert::Certificate::from_pem(text.as_bytes())
            .map_err(|e| CertificateError::Parse(e.to_string()))?;
        let der = cert
            .to_der()
            .map_err(|e| CertificateError::Parse(e.to_string()))?;
        (cert, der)
    } else {
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let der = STANDARD
            .decode(compact)
            .map_err(|e| CertificateError::Parse(e.to_string()))?;
        let cert = x509_cert::Certificate::from_der(&der)
            .map_err(|e| CertificateError::Parse(e.to_string()))?;
        (cert, der)
    };
    let tbs = &cert.tbs_certificate;
    let spki = tbs
        .subject_public_key_info
        .to_der()
        .map_err(|e| CertificateError::Parse(e.to_string()))?;
    let key = RsaPublicKey::from_public_key_der(&spki).map_err(|_| CertificateError::NotRsa)?;
    let unix = |t: x509_cert::time::Time| {
        i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
    };
    let sha1 = Sha1::digest(&der);
    let sha256 = Sha256::digest(&der);
    let view = Certificate {
        thumbprint_sha1: hex(&sha1),
        thumbprint_sha256: hex(&sha256),
        x5t: URL_SAFE_NO_PAD.encode(sha1),
        x5t_s256: URL_SAFE_NO_PAD.encode(sha256),
        subject: tbs.subject.to_string(),
        not_before: unix(tbs.validity.not_before),
        not_after: unix(tbs.validity.not_after),
        der_base64: STANDARD.encode(&der),
    };
    Ok((view, key))
}

/// The RSA key of a registered certificate.
pub fn public_key(cert: &Certificate) -> Option<RsaPublicKey> {
    parse(&cert.der_base64).ok().map(|(_, key)| key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_certificate::TestCertificate;

    #[test]
    fn pem_and_base64_der_give_the_same_thumbprints() {
        let made = TestCertificate::new("CN=stand-in test", 1_735_689_600, 1_767_225_600).unwrap();
        let (from_pem, _) = parse(&made.pem).unwrap();
        let (from_der, _) = parse(&STANDARD.encode(&made.der)).unwrap();
        assert_eq!(from_pem, from_der);
        assert_eq!(from_pem.not_before, 1_735_689_600);
        assert_eq!(from_pem.not_after, 1_767_225_600);
        assert_eq!(from_pem.subject, "CN=stand-in test");
        assert_eq!(from_pem.x5t_s256, made.x5t_s256);
        assert_eq!(from_pem.x5t, made.x5t);
        assert_eq!(from_pem.thumbprint_sha1.len(), 40);
        assert_eq!(from_pem.thumbprint_sha256.len(), 64);
        assert!(matches!(
            parse("not a certificate"),
            Err(CertificateError::Parse(_))
        ));
    }
}
