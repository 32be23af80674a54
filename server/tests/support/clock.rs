//! Time for tests: a clock they set and move, and the system's time (the
//! server code may not read it directly; tests may, through here).
use chrono::{DateTime, Duration, Utc};
use std::sync::{Arc, Mutex};

#[allow(clippy::disallowed_methods)] // Tests start from the real time.
pub fn now() -> DateTime<Utc> {
    Utc::now()
}

/// A clock that stands still until moved.
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    pub fn at(t: DateTime<Utc>) -> Arc<ManualClock> {
        Arc::new(ManualClock(Mutex::new(t)))
    }
    pub fn set(&self, t: DateTime<Utc>) {
        *self.0.lock().unwrap() = t;
    }
    pub fn advance(&self, by: Duration) {
        *self.0.lock().unwrap() += by;
    }
}

impl server::clock::Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}
