//! Sign-in throttling per client IP and per username (GCRA via `governor`).
//! In memory per instance: with N instances an attacker gets at most N times
//! the rate, which is still far too slow to guess a 12-character password.
use governor::clock::DefaultClock;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use std::num::NonZeroU32;
use std::time::Duration;

type Keyed = RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock>;

pub struct SignInThrottle {
    per_ip: Keyed,
    per_user: Keyed,
}

/// Attempts allowed at once, and how fast one more becomes allowed.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub ip_burst: u32,
    pub ip_every: Duration,
    pub user_burst: u32,
    pub user_every: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            // An office behind one NAT address: generous per IP, strict per account.
            ip_burst: 30,
            ip_every: Duration::from_secs(2),
            user_burst: 5,
            user_every: Duration::from_secs(12),
        }
    }
}

fn quota(burst: u32, every: Duration) -> Quota {
    let burst = NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(every.max(Duration::from_millis(1)))
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
        .allow_burst(burst)
}

impl SignInThrottle {
    pub fn new(limits: Limits) -> Self {
        Self {
            per_ip: RateLimiter::keyed(quota(limits.ip_burst, limits.ip_every)),
            per_user: RateLimiter::keyed(quota(limits.user_burst, limits.user_every)),
        }
    }

    /// Takes one attempt from both buckets. `Err` carries seconds to wait.
    pub fn check(&self, ip: &str, username: &str) -> Result<(), u64> {
        let wait = |e: governor::NotUntil<governor::clock::QuantaInstant>| {
            use governor::clock::{Clock, DefaultClock};
            e.wait_time_from(DefaultClock::default().now())
                .as_secs()
                .max(1)
        };
        self.per_ip.check_key(&ip.to_string()).map_err(wait)?;
        self.per_user
            .check_key(&username.to_string())
            .map_err(wait)?;
        Ok(())
    }

    /// Drops idle keys so the maps do not grow without bound.
    pub fn shrink(&self) {
        self.per_ip.retain_recent();
        self.per_user.retain_recent();
        self.per_ip.shrink_to_fit();
        self.per_user.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_username_is_throttled_after_its_burst_whatever_the_ip() {
        let t = SignInThrottle::new(Limits {
            ip_burst: 100,
            ip_every: Duration::from_secs(60),
            user_burst: 3,
            user_every: Duration::from_secs(60),
        });
        for i in 0..3 {
            assert!(t.check(&format!("10.0.0.{i}"), "alice").is_ok());
        }
        let wait = t.check("10.0.0.9", "alice").unwrap_err();
        assert!((1..=60).contains(&wait), "{wait}");
        assert!(
            t.check("10.0.0.9", "bob").is_ok(),
            "other users are unaffected"
        );
    }

    #[test]
    fn an_ip_is_throttled_across_usernames() {
        let t = SignInThrottle::new(Limits {
            ip_burst: 2,
            ip_every: Duration::from_secs(60),
            user_burst: 100,
            user_every: Duration::from_secs(60),
        });
        assert!(t.check("10.0.0.1", "a1").is_ok());
        assert!(t.check("10.0.0.1", "a2").is_ok());
        assert!(t.check("10.0.0.1", "a3").is_err());
        assert!(t.check("10.0.0.2", "a3").is_ok());
    }
}
