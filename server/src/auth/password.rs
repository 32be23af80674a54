//! Password hashing with argon2id (OWASP's minimum: m=19456 KiB, t=2, p=1),
//! stored as PHC strings. Hashing runs on the blocking pool: it is ~20–50 ms
//! of CPU on purpose and must not stall the async workers. At most one hash
//! per core runs at a time: a burst of sign-ins queues instead of taking
//! every core and 19 MiB each.
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

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

/// The hashes that may run at once: one per core (at least one).
fn running() -> &'static tokio::sync::Semaphore {
    static RUNNING: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    RUNNING.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        tokio::sync::Semaphore::new(cores)
    })
}

/// Hashes running now, and the most that ever ran at once (tests read it).
static IN_FLIGHT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
static PEAK: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Runs one argon2 computation on the blocking pool once a core is free.
async fn bounded<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, PasswordError> {
    use std::sync::atomic::Ordering::SeqCst;
    let _turn = running()
        .acquire()
        .await
        .map_err(|e| PasswordError::Task(e.to_string()))?;
    tokio::task::spawn_blocking(move || {
        let now = IN_FLIGHT.fetch_add(1, SeqCst) + 1;
        PEAK.fetch_max(now, SeqCst);
        let out = work();
        IN_FLIGHT.fetch_sub(1, SeqCst);
        out
    })
    .await
    .map_err(|e| PasswordError::Task(e.to_string()))
}

/// The most hashes that ran at the same moment since the process started.
pub fn peak_concurrency() -> usize {
    PEAK.load(std::sync::atomic::Ordering::SeqCst)
}

fn argon2() -> Result<Argon2<'static>, PasswordError> {
    let params = Params::new(M_COST_KIB, T_COST, P_COST, None)
        .map_err(|e| PasswordError::Hash(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
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
    let ok = Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok();
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
    tokio::task::spawn_blocking(|| {
        let _ = dummy_hash();
    });
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
    async fn a_burst_of_hashes_runs_one_per_core_at_most() {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let mut burst = tokio::task::JoinSet::new();
        for i in 0..(cores * 3 + 2) {
            burst.spawn(async move { hash(&format!("burst password {i}")).await });
        }
        while let Some(done) = burst.join_next().await {
            assert!(done.unwrap().is_ok());
        }
        let peak = peak_concurrency();
        assert!((1..=cores).contains(&peak), "{peak} hashes at once on {cores} cores");
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
