//! Secrets at rest: XChaCha20-Poly1305 with a key from a file.
//!
//! A sealed value is `tm1.<key id>.<nonce>.<ciphertext>` (base64url), and its
//! associated data is `table|column|row id`, so a ciphertext copied to another
//! row or column fails to open instead of decrypting as someone else's secret.
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::path::Path;

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

/// The key; `Debug` shows only its id.
pub struct KeyRing {
    key_id: String,
    cipher: XChaCha20Poly1305,
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
        }
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// Reads the key file; when `create` is set and it does not exist, writes a
    /// new random key with mode 0600 and returns `(ring, true)`.
    pub fn load_or_create(path: &Path, create: bool) -> Result<(Self, bool), SecretError> {
        let err = |reason: String| SecretError::KeyFile {
            path: path.display().to_string(),
            reason,
        };
        if !path.exists() {
            if !create {
                return Err(err("does not exist (generate one with: head -c 32 /dev/urandom | base64 > FILE; chmod 600 FILE)".into()));
            }
            let mut key = [0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut key);
            write_private(path, &format!("{}\n", STANDARD.encode(key)))
                .map_err(|e| err(e.to_string()))?;
            return Ok((Self::from_bytes(&key), true));
        }
        refuse_shared(path).map_err(err)?;
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|_| err("is not base64".into()))?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| err("must hold exactly 32 bytes (base64)".into()))?;
        Ok((Self::from_bytes(&key), false))
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
        if *key_id != self.key_id {
            return Err(SecretError::WrongKey {
                expected: self.key_id.clone(),
                found: key_id.to_string(),
            });
        }
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
        let plain = self
            .cipher
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

/// A key other users of the machine can read is a key they have: refuse it.
fn refuse_shared(path: &Path) -> Result<(), String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(|e| e.to_string())?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(format!(
                "is readable by other users (mode {:o}); make it private: chmod 600 {}",
                mode & 0o777,
                path.display()
            ));
        }
    }
    Ok(())
}

/// Creates `dir` (and its parents) readable by this user only.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_private_dir(parent)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(row: &str) -> Binding<'_> {
        Binding {
            table: "tenant_email",
            column: "client_secret",
            row_id: row,
        }
    }

    #[test]
    fn round_trip_and_binding() {
        let ring = KeyRing::from_bytes(&[7u8; 32]);
        let sealed = ring.seal("s3cr3t~value", &b("row-1")).unwrap();
        assert!(!sealed.contains("s3cr3t"));
        assert!(sealed.starts_with(&format!("tm1.{}.", ring.key_id())));
        assert_eq!(ring.open(&sealed, &b("row-1")).unwrap(), "s3cr3t~value");
        assert!(matches!(
            ring.open(&sealed, &b("row-2")),
            Err(SecretError::Open)
        ));
        let other = KeyRing::from_bytes(&[8u8; 32]);
        assert!(matches!(
            other.open(&sealed, &b("row-1")),
            Err(SecretError::WrongKey { .. })
        ));
        assert!(matches!(
            ring.open("garbage", &b("row-1")),
            Err(SecretError::Malformed)
        ));
    }

    #[test]
    fn nonces_differ() {
        let ring = KeyRing::from_bytes(&[1u8; 32]);
        assert_ne!(
            ring.seal("x", &b("r")).unwrap(),
            ring.seal("x", &b("r")).unwrap()
        );
    }

    #[test]
    fn key_file_created_private_and_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/key");
        assert!(KeyRing::load_or_create(&path, false).is_err());
        let (ring, created) = KeyRing::load_or_create(&path, true).unwrap();
        assert!(created);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        let (again, created) = KeyRing::load_or_create(&path, true).unwrap();
        assert!(!created);
        assert_eq!(ring.key_id(), again.key_id());
        // Readable by others: refused, with the fix.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            let refused = KeyRing::load_or_create(&path, false)
                .unwrap_err()
                .to_string();
            assert!(refused.contains("chmod 600"), "{refused}");
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        std::fs::write(&path, "c2hvcnQ=\n").unwrap();
        assert!(KeyRing::load_or_create(&path, false)
            .unwrap_err()
            .to_string()
            .contains("32 bytes"));
    }
}
