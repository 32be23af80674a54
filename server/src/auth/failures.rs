//! Anonymous failures are recorded, but not one audit row each: the audit log
//! is append-only and kept forever, so anyone who can reach the port could
//! otherwise fill it. The first failure per address in a window is recorded;
//! the rest are counted, and the next recorded one says how many there were.
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Addresses remembered at most (a flood from many addresses cannot grow
/// the map without end; the oldest windows go first).
const MAX_ADDRESSES: usize = 10_000;

pub struct FailureSampler {
    window: Duration,
    seen: Mutex<HashMap<String, (Instant, u64)>>,
}

/// Whether to write this failure to the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sample {
    /// Record it; `unrecorded` failures from this address came since the last one recorded.
    Record { unrecorded: u64 },
    /// Counted only.
    Skip,
}

impl FailureSampler {
    pub fn new(window: Duration) -> Self {
        Self {
            window,
            seen: Mutex::new(HashMap::new()),
        }
    }

    pub fn failure(&self, address: &str, now: Instant) -> Sample {
        let Ok(mut seen) = self.seen.lock() else {
            return Sample::Record { unrecorded: 0 };
        };
        match seen.get_mut(address) {
            Some((start, skipped)) if now.duration_since(*start) < self.window => {
                *skipped += 1;
                Sample::Skip
            }
            Some(entry) => {
                let unrecorded = entry.1;
                *entry = (now, 0);
                Sample::Record { unrecorded }
            }
            None => {
                if seen.len() >= MAX_ADDRESSES {
                    let window = self.window;
                    seen.retain(|_, (start, _)| now.duration_since(*start) < window);
                    if seen.len() >= MAX_ADDRESSES {
                        if let Some(oldest) = seen
                            .iter()
                            .min_by_key(|(_, (start, _))| *start)
                            .map(|(k, _)| k.clone())
                        {
                            seen.remove(&oldest);
                        }
                    }
                }
                seen.insert(address.to_string(), (now, 0));
                Sample::Record { unrecorded: 0 }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_record_per_address_and_window_with_the_count_of_the_rest() {
        let s = FailureSampler::new(Duration::from_secs(600));
        let t0 = Instant::now();
        assert_eq!(
            s.failure("203.0.113.9", t0),
            Sample::Record { unrecorded: 0 }
        );
        for i in 1..100 {
            let at = t0 + Duration::from_secs(i);
            assert_eq!(s.failure("203.0.113.9", at), Sample::Skip);
        }
        assert_eq!(
            s.failure("198.51.100.7", t0),
            Sample::Record { unrecorded: 0 }
        );
        let later = t0 + Duration::from_secs(601);
        assert_eq!(
            s.failure("203.0.113.9", later),
            Sample::Record { unrecorded: 99 }
        );
    }

    #[test]
    fn a_flood_from_many_addresses_stays_bounded() {
        let s = FailureSampler::new(Duration::from_secs(600));
        let t0 = Instant::now();
        for i in 0..(MAX_ADDRESSES + 500) {
            s.failure(
                &format!("10.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255),
                t0,
            );
        }
        assert!(s.seen.lock().unwrap().len() <= MAX_ADDRESSES);
    }
}
