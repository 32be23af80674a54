//! Host-API tokens: `tm_` + 32 random bytes (base64url). Only the SHA-256 is
//! stored, so a database leak does not hand out working tokens; 256 random
//! bits need no slow hash.
use base64::Engine;
use rand::RngCore;

pub const TOKEN_PREFIX: &str = "tm_";
/// How many leading characters are kept for display.
pub const DISPLAY_PREFIX_LEN: usize = 8;

pub fn generate() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

pub fn hash(token: &str) -> String {
    crate::hashing::sha256_hex(token)
}

pub fn display_prefix(token: &str) -> String {
    token.chars().take(DISPLAY_PREFIX_LEN).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape() {
        let t = generate();
        assert!(t.starts_with(TOKEN_PREFIX));
        assert_eq!(t.len(), 3 + 43);
        assert_ne!(t, generate());
        assert_eq!(hash(&t).len(), 64);
        assert_eq!(display_prefix(&t).len(), 8);
    }
}
