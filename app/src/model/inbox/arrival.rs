//! How new mail is noticed, and how near-instant arrival stands.

use serde::{Deserialize, Serialize};

/// How new mail is noticed: by checking every interval, or also when
/// Microsoft says it arrived (a Graph change notification), which brings it
/// within seconds while the interval stays as the safety net.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Arrival {
    Poll,
    Notify,
}

impl Arrival {
    pub const ALL: &'static [Arrival] = &[Arrival::Poll, Arrival::Notify];
    pub fn code(self) -> &'static str {
        match self {
            Arrival::Poll => "poll",
            Arrival::Notify => "notify",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Arrival::Poll => "Check every interval",
            Arrival::Notify => {
                "Near-instant: Microsoft tells Tenant Mail (and it still checks every interval)"
            }
        }
    }
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|a| a.code() == code)
    }
}

/// How near-instant arrival (a Graph change-notification subscription) stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum InstantArrival {
    /// Set up at the next check.
    Pending,
    /// Microsoft notifies until this time (RFC 3339; renewed before it).
    /// `warning`: the last renewal failed (retried at the next check).
    On {
        until: String,
        warning: Option<String>,
    },
    /// It could not be set up or renewed: polling only, for this reason.
    Failed(String),
    /// This deployment cannot receive notifications (its public URL is not https).
    Unavailable(String),
}
