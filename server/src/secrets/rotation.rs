//! The files of a key rotation (`tenant-mail key rotate`), in the order that
//! makes it resumable after a crash at any step:
//!
//! 1. the new key is written to `<key file>.next` before anything is
//!    re-sealed (found there again if the rotation is run again);
//! 2. the database re-seals every value under it (`db::rekey`), the old key
//!    still in the key file;
//! 3. the old key is copied to `<key file>.retired-<id>`, for backups made
//!    before the rotation;
//! 4. `.next` is renamed over the key file (atomic on one file system).
//!
//! While `.next` exists the server refuses to start: some values may be
//! sealed under either key.
use super::key_file::write_private_replacing;
use super::{KeyRing, SecretError};
use std::path::{Path, PathBuf};

fn with_suffix(key_file: &Path, suffix: &str) -> PathBuf {
    let mut name = key_file.as_os_str().to_os_string();
    name.push(suffix);
    PathBuf::from(name)
}

/// Where a rotation keeps the key it moves to until it is done.
pub fn next_path(key_file: &Path) -> PathBuf {
    with_suffix(key_file, ".next")
}

/// Where a rotation leaves the key it moved away from.
pub fn retired_path(key_file: &Path, key_id: &str) -> PathBuf {
    with_suffix(key_file, &format!(".retired-{key_id}"))
}

/// Whether a rotation was started and not finished.
pub fn in_progress(key_file: &Path) -> bool {
    next_path(key_file).exists()
}

/// The key to move to: made now (`false`), or the one an unfinished rotation
/// made (`true`, resumed).
pub fn next_key(key_file: &Path) -> Result<(KeyRing, bool), SecretError> {
    let (ring, created) = KeyRing::load_or_create(&next_path(key_file), true)?;
    Ok((ring, !created))
}

/// Steps 3 and 4: keeps the old key beside the key file, then makes the next
/// key the key file. Answers where the old key now is.
pub fn finish(key_file: &Path, old_key_id: &str) -> Result<PathBuf, SecretError> {
    let err = |path: &Path, e: std::io::Error| SecretError::KeyFile {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    let retired = retired_path(key_file, old_key_id);
    let old_text = std::fs::read_to_string(key_file).map_err(|e| err(key_file, e))?;
    write_private_replacing(&retired, &old_text).map_err(|e| err(&retired, e))?;
    let next = next_path(key_file);
    std::fs::rename(&next, key_file).map_err(|e| err(&next, e))?;
    // The rename is durable once the directory is.
    if let Some(dir) = key_file.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| err(dir, e))?;
    }
    Ok(retired)
}
