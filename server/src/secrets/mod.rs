//! Secrets at rest: XChaCha20-Poly1305 with a key from a file.
//!
//! A sealed value is `tm1.<key id>.<nonce>.<ciphertext>` (base64url), and its
//! associated data is `table|column|row id`, so a ciphertext copied to another
//! row or column fails to open instead of decrypting as someone else's secret.
mod key_file;
pub mod rotation;

pub use key_file::create_private_dir;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use sha2::{Digest, Sha256};

const PREFIX: &str = "tm1";

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("key file {path}: {reason}")]
    KeyFile { path: String, reason: String },
    #[error("sealed value is malformed")]
    Malformed,
    #[error("sealed with key {found}, but the configured key is {expected}")]
    WrongKey { expected: String, found: String },
    #[error("ciphertext does not open with this key and row (tampered, moved, or wrong key)")]
    Open,
    #[error("encryption failed")]
    Seal,
}

/// Where a sealed value lives; becomes the associated data.
pub struct Binding<'a> {
    pub table: &'a str,
    pub column: &'a str,
    pub row_id: &'a str,
}

impl Binding<'_> {
    fn aad(&self) -> Vec<u8> {
        format!("{}|{}|{}", self.table, self.column, self.row_id).into_bytes()
    }
}

/// The key; `Debug` shows only its id. During a key rotation it also holds
/// the key being retired, which opens but never seals.
pub struct KeyRing {
    key_id: String,
    cipher: XChaCha20Poly1305,
    retiring: Vec<(String, XChaCha20Poly1305)>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl KeyRing {
    pub fn from_bytes(key: &[u8; 32]) -> Self {
        // A short public fingerprint, so an operator can tell keys apart.
        let digest = Sha256::digest(key);
        let key_id = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
        Self {
            key_id,
            cipher: XChaCha20Poly1305::new(key.into()),
            retiring: Vec::new(),
        }
    }

    /// This ring, also opening what `old` sealed (for a key rotation).
    pub fn opening_also(mut self, old: KeyRing) -> Self {
        self.retiring.push((old.key_id, old.cipher));
        self.retiring.extend(old.retiring);
        self
    }

    /// Whether `sealed` was sealed with this ring's sealing key.
    pub fn is_current(&self, sealed: &str) -> bool {
        sealed.split('.').nth(1) == Some(self.key_id.as_str())
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    pub fn seal(&self, plaintext: &str, binding: &Binding<'_>) -> Result<String, SecretError> {
        let mut nonce = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let aad = binding.aad();
        let ct = self
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: &aad,
                },
            )
            .map_err(|_| SecretError::Seal)?;
        Ok(format!(
            "{PREFIX}.{}.{}.{}",
            self.key_id,
            URL_SAFE_NO_PAD.encode(nonce),
            URL_SAFE_NO_PAD.encode(ct)
        ))
    }

    pub fn open(&self, sealed: &str, binding: &Binding<'_>) -> Result<String, SecretError> {
        let parts: Vec<&str> = sealed.split('.').collect();
        let [prefix, key_id, nonce, ct] = parts.as_slice() else {
            return Err(SecretError::Malformed);
        };
        if *prefix != PREFIX {
            return Err(SecretError::Malformed);
        }
        let cipher = if *key_id == self.key_id {
            &self.cipher
        } else {
            match self.retiring.iter().find(|(id, _)| id == key_id) {
                Some((_, cipher)) => cipher,
                None => {
                    return Err(SecretError::WrongKey {
                        expected: self.key_id.clone(),
                        found: key_id.to_string(),
                    })
                }
            }
        };
        let nonce = URL_SAFE_NO_PAD
            .decode(nonce)
            .map_err(|_| SecretError::Malformed)?;
        let ct = URL_SAFE_NO_PAD
            .decode(ct)
            .map_err(|_| SecretError::Malformed)?;
        if nonce.len() != 24 {
            return Err(SecretError::Malformed);
        }
        let aad = binding.aad();
        let plain = cipher
            .decrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &ct,
                    aad: &aad,
                },
            )
            .map_err(|_| SecretError::Open)?;
        String::from_utf8(plain).map_err(|_| SecretError::Open)
    }
}

#[cfg(test)]
mod tests;
