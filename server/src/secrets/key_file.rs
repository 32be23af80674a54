//! The key file: read (refused when others can read it), made on first
//! start, and the files a key rotation leaves beside it.
use super::{KeyRing, SecretError};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rand::RngCore;
use std::path::Path;

impl KeyRing {
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

/// Writes a new private (0600) file; an existing one is an error.
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    write_private_with(path, contents, false)
}

/// Writes a private (0600) file, replacing one that exists.
pub(super) fn write_private_replacing(path: &Path, contents: &str) -> std::io::Result<()> {
    write_private_with(path, contents, true)
}

fn write_private_with(path: &Path, contents: &str, replace: bool) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_private_dir(parent)?;
    }
    let mut options = std::fs::OpenOptions::new();
    match replace {
        true => options.write(true).create(true).truncate(true),
        false => options.write(true).create_new(true),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}
