//! argon2 hashing in a memory area the hashing thread keeps, instead of a
//! fresh 19 MiB allocation per hash (see `threads` for why). The PHC string
//! format and the constant-time comparison stay the crates': this is a
//! `PasswordHasher`, so `PasswordVerifier` comes with it.
use argon2::password_hash::{self, Output, ParamsString, PasswordHash, PasswordHasher, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use password_hash::{Decimal, Ident};
use std::cell::RefCell;

thread_local! {
    /// This thread's argon2 memory, sized for today's parameters on first
    /// use. A stored hash with a bigger memory cost (an older, stronger
    /// setting) gets a one-off area of its own.
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Gives this thread's memory area back (the next hash makes a new one), so
/// an idle server does not keep 19 MiB per hashing thread.
pub(super) fn release_memory() {
    MEMORY.with(|memory| *memory.borrow_mut() = Vec::new());
}

/// argon2 with the given settings, hashing in this thread's memory area.
pub struct InPlace {
    pub algorithm: Algorithm,
    pub version: Version,
    pub params: Params,
    /// The memory area kept between hashes, in blocks.
    pub kept_blocks: usize,
}

impl InPlace {
    fn hash_into(&self, password: &[u8], salt: &[u8], out: &mut [u8]) -> argon2::Result<()> {
        let argon2 = Argon2::new(self.algorithm, self.version, self.params.clone());
        let needed = self.params.block_count();
        if needed > self.kept_blocks {
            let mut once = vec![Block::default(); needed];
            return argon2.hash_password_into_with_memory(password, salt, out, &mut once);
        }
        MEMORY.with(|memory| {
            let mut memory = memory.borrow_mut();
            if memory.len() < needed {
                memory.resize(needed, Block::default());
            }
            argon2.hash_password_into_with_memory(password, salt, out, &mut memory[..needed])
        })
    }
}

impl PasswordHasher for InPlace {
    type Params = Params;

    fn hash_password<'a>(
        &self,
        password: &[u8],
        salt: impl Into<Salt<'a>>,
    ) -> password_hash::Result<PasswordHash<'a>> {
        let salt = salt.into();
        let mut salt_bytes = [0u8; Salt::MAX_LENGTH];
        let salt_bytes = salt.decode_b64(&mut salt_bytes)?;
        let output_len = self
            .params
            .output_len()
            .unwrap_or(Params::DEFAULT_OUTPUT_LEN);
        let output = Output::init_with(output_len, |out| {
            Ok(self.hash_into(password, salt_bytes, out)?)
        })?;
        Ok(PasswordHash {
            algorithm: self.algorithm.ident(),
            version: Some(self.version.into()),
            params: ParamsString::try_from(&self.params)?,
            salt: Some(salt),
            hash: Some(output),
        })
    }

    fn hash_password_customized<'a>(
        &self,
        password: &[u8],
        algorithm: Option<Ident<'a>>,
        version: Option<Decimal>,
        params: Params,
        salt: impl Into<Salt<'a>>,
    ) -> password_hash::Result<PasswordHash<'a>> {
        InPlace {
            algorithm: algorithm
                .map(Algorithm::try_from)
                .transpose()?
                .unwrap_or_default(),
            version: version
                .map(Version::try_from)
                .transpose()?
                .unwrap_or_default(),
            params,
            kept_blocks: self.kept_blocks,
        }
        .hash_password(password, salt)
    }
}
