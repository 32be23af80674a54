//! Password hashing with argon2id (OWASP's minimum: m=19456 KiB, t=2, p=1),
//! stored as PHC strings, computed on a few threads of its own (`threads`)
//! in memory each thread keeps (`in_place`).
mod in_place;
mod threads;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Params, Version};
use in_place::InPlace;
pub use threads::peak_concurrency;
use threads::run as bounded;

pub const M_COST_KIB: u32 = 19_456;
pub const T_COST: u32 = 2;
pub const P_COST: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("password hashing task failed: {0}")]
    Task(String),
}

/// argon2id with today's parameters, keeping memory for them between hashes.
fn argon2() -> Result<InPlace, PasswordError> {
    let params = Params::new(M_COST_KIB, T_COST, P_COST, None)
        .map_err(|e| PasswordError::Hash(e.to_string()))?;
    Ok(InPlace {
        algorithm: Algorithm::Argon2id,
        version: Version::V0x13,
        kept_blocks: params.block_count(),
        params,
    })
}

fn hash_now(password: &str) -> Result<String, PasswordError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()?
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// A PHC string for `password` with the current parameters.
pub async fn hash(password: &str) -> Result<String, PasswordError> {
    let password = password.to_string();
    bounded(move || hash_now(&password)).await?
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    pub ok: bool,
    /// The stored hash uses weaker parameters (or another algorithm) than
    /// today's: rehash now that the password is known.
    pub needs_rehash: bool,
}

fn verify_now(password: &str, phc: &str) -> Verified {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return Verified {
            ok: false,
            needs_rehash: false,
        };
    };
    // Verify with the parameters stored in the hash, whatever they are.
    let ok = argon2().is_ok_and(|a| a.verify_password(password.as_bytes(), &parsed).is_ok());
    Verified {
        ok,
        needs_rehash: ok && is_weaker(&parsed),
    }
}

fn is_weaker(parsed: &PasswordHash<'_>) -> bool {
    if parsed.algorithm.as_str() != "argon2id" {
        return true;
    }
    match Params::try_from(parsed) {
        Ok(p) => p.m_cost() < M_COST_KIB || p.t_cost() < T_COST || p.p_cost() < P_COST,
        Err(_) => true,
    }
}

/// Checks `password` against `phc`. With `phc = None` (unknown or disabled
/// user) it verifies against a fixed dummy hash, so both answers take the
/// same time and timing does not reveal which usernames exist.
pub async fn verify(password: &str, phc: Option<String>) -> Result<Verified, PasswordError> {
    let password = password.to_string();
    bounded(move || match phc {
        Some(phc) => verify_now(&password, &phc),
        None => {
            let _ = verify_now(&password, dummy_hash());
            Verified {
                ok: false,
                needs_rehash: false,
            }
        }
    })
    .await
}

/// Makes the dummy hash at start-up, so the first unknown username after a
/// start costs one hash like every other attempt, not two.
pub fn warm_up() {
    tokio::spawn(bounded(|| {
        let _ = dummy_hash();
    }));
}

/// A hash with today's parameters of a random password nobody knows.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        let random = uuid::Uuid::new_v4().to_string();
        // A failure leaves an unparseable string; verify_now then returns fast,
        // which is only possible if argon2 itself is broken.
        hash_now(&random).unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::Argon2;

    #[tokio::test]
    async fn hashes_match_the_argon2_crate_both_ways() {
        let ours = hash("correct horse battery").await.unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default()
            .verify_password(b"correct horse battery", &parsed)
            .is_ok());
        assert!(Argon2::default()
            .verify_password(b"correct horse batterY", &parsed)
            .is_err());
        let theirs = Argon2::default()
            .hash_password(b"correct horse battery", &SaltString::generate(&mut OsRng))
            .unwrap()
            .to_string();
        assert!(
            verify("correct horse battery", Some(theirs.clone()))
                .await
                .unwrap()
                .ok
        );
        assert!(
            !verify("correct horse batterY", Some(theirs))
                .await
                .unwrap()
                .ok
        );
    }

    #[tokio::test]
    async fn stronger_stored_hashes_still_verify() {
        let strong = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(M_COST_KIB * 2, T_COST, 2, None).unwrap(),
        )
        .hash_password(b"pw-for-test-only", &SaltString::generate(&mut OsRng))
        .unwrap()
        .to_string();
        let v = verify("pw-for-test-only", Some(strong.clone()))
            .await
            .unwrap();
        assert!(v.ok && !v.needs_rehash);
        assert!(!verify("pw-for-test-0nly", Some(strong)).await.unwrap().ok);
    }

    #[tokio::test]
    async fn hashes_are_argon2id_with_the_required_parameters() {
        let h = hash("correct horse battery").await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        let v = verify("correct horse battery", Some(h.clone()))
            .await
            .unwrap();
        assert_eq!(
            v,
            Verified {
                ok: true,
                needs_rehash: false
            }
        );
        assert!(!verify("wrong horse battery", Some(h)).await.unwrap().ok);
    }

    #[tokio::test]
    async fn weaker_hashes_are_flagged_for_rehash() {
        let weak = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8192, 1, 1, None).unwrap(),
        )
        .hash_password(b"pw-for-test-only", &SaltString::generate(&mut OsRng))
        .unwrap()
        .to_string();
        let v = verify("pw-for-test-only", Some(weak)).await.unwrap();
        assert!(v.ok && v.needs_rehash);
        let argon2i = Argon2::new(Algorithm::Argon2i, Version::V0x13, Params::default())
            .hash_password(b"pw-for-test-only", &SaltString::generate(&mut OsRng))
            .unwrap()
            .to_string();
        assert!(
            verify("pw-for-test-only", Some(argon2i))
                .await
                .unwrap()
                .needs_rehash
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_burst_of_hashes_leaves_a_core_free() {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let threads = cores.saturating_sub(1).max(1);
        let mut burst = tokio::task::JoinSet::new();
        for i in 0..(cores * 3 + 2) {
            burst.spawn(async move { hash(&format!("burst password {i}")).await });
        }
        while let Some(done) = burst.join_next().await {
            assert!(done.unwrap().is_ok());
        }
        let peak = peak_concurrency();
        assert!(
            (1..=threads).contains(&peak),
            "{peak} hashes at once on {cores} cores"
        );
    }

    #[tokio::test]
    async fn unknown_users_and_garbage_hashes_never_verify() {
        assert!(!verify("anything", None).await.unwrap().ok);
        assert!(
            !verify("anything", Some("not a hash".into()))
                .await
                .unwrap()
                .ok
        );
    }
}
