//! The stand-in's notion of "now". Tests use a manual clock and move it forward instead of sleeping.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// 2025-01-01T00:00:00Z, the default start of a manual clock.
pub const DEFAULT_MANUAL_START: i64 = 1_735_689_600;

/// A clock in whole seconds since the Unix epoch. Cloning shares the same time.
#[derive(Clone, Debug)]
pub struct Clock {
    inner: Arc<ClockInner>,
}

#[derive(Debug)]
struct ClockInner {
    /// `None`: follow the system clock; `Some(t)`: frozen at `t` (plus the offset).
    start: Option<i64>,
    offset: Mutex<i64>,
}

impl Clock {
    /// Follows the machine's clock; `advance` adds an offset on top of it.
    pub fn system() -> Self {
        Self::with_start(None)
    }

    /// Frozen at `unix_seconds`; only `advance` moves it.
    pub fn manual(unix_seconds: i64) -> Self {
        Self::with_start(Some(unix_seconds))
    }

    fn with_start(start: Option<i64>) -> Self {
        Self {
            inner: Arc::new(ClockInner {
                start,
                offset: Mutex::new(0),
            }),
        }
    }

    /// Seconds since the Unix epoch.
    pub fn now(&self) -> i64 {
        let base = match self.inner.start {
            Some(t) => t,
            None => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
                .unwrap_or(0),
        };
        base.saturating_add(*self.offset())
    }

    /// Moves time forward (never backward).
    pub fn advance(&self, by: Duration) {
        let secs = i64::try_from(by.as_secs()).unwrap_or(i64::MAX);
        let mut offset = self.offset();
        *offset = offset.saturating_add(secs);
    }

    fn offset(&self) -> std::sync::MutexGuard<'_, i64> {
        self.inner
            .offset
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::manual(DEFAULT_MANUAL_START)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_advanced() {
        let clock = Clock::manual(100);
        assert_eq!(clock.now(), 100);
        let shared = clock.clone();
        shared.advance(Duration::from_secs(90 * 86_400));
        assert_eq!(clock.now(), 100 + 90 * 86_400);
    }
}
