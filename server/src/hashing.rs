//! The one SHA-256 → lower-case hex helper: what is stored instead of a
//! secret value (state, cookies, session ids, setup and API tokens) and
//! request fingerprints.
use sha2::{Digest, Sha256};

pub fn sha256_hex(bytes: impl AsRef<[u8]>) -> String {
    hex(&Sha256::digest(bytes.as_ref()))
}

/// Lower-case hex of a digest.
pub fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The SHA-256 of `value`'s JSON, hashed as it is written: a large message
/// is not serialised into memory a second time just to be fingerprinted.
pub fn sha256_hex_of_json<T: serde::Serialize>(value: &T) -> String {
    struct Hasher(Sha256);
    impl std::io::Write for Hasher {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.update(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut hasher = Hasher(Sha256::new());
    // Writing to a hasher cannot fail; a value that cannot be serialised
    // hashes as what was written of it.
    let _ = serde_json::to_writer(&mut hasher, value);
    hex(&hasher.0.finalize())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_value_hashes_as_its_json() {
        let v = serde_json::json!({"to": ["a@b.c"], "subject": "x"});
        assert_eq!(
            super::sha256_hex_of_json(&v),
            super::sha256_hex(serde_json::to_vec(&v).unwrap())
        );
    }

    #[test]
    fn known_vector() {
        assert_eq!(
            super::sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
