//! Access tokens looked up in the last moments, per mailbox. A burst of
//! messages for one mailbox would otherwise read and decrypt the same token
//! once per message. Kept for two seconds only, so a mailbox that needs
//! re-authentication, or was re-pointed, is noticed as quickly as before (a
//! token is always read just before the calls that use it anyway); dropped
//! at once when Graph refuses it.
use crate::clock::Clock;
use crate::identity::AccessToken;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const TTL: Duration = Duration::from_secs(2);

/// The token (with when Microsoft said it expires) and when it was read.
type Entry = (AccessToken, Instant);

pub struct RecentTokens {
    tokens: Mutex<HashMap<String, Entry>>,
    clock: Arc<dyn Clock>,
}

impl RecentTokens {
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            tokens: Mutex::new(HashMap::new()),
            clock,
        }
    }

    pub fn get(&self, mailbox: &str) -> Option<AccessToken> {
        let map = self.tokens.lock().ok()?;
        let (token, at) = map.get(mailbox)?;
        let fresh = at.elapsed() < TTL
            && token.expires_at - chrono::Duration::minutes(1) > self.clock.now();
        fresh.then(|| token.clone())
    }

    pub fn put(&self, mailbox: &str, token: &AccessToken) {
        if let Ok(mut map) = self.tokens.lock() {
            map.insert(mailbox.to_string(), (token.clone(), Instant::now()));
        }
    }

    pub fn forget(&self, mailbox: &str) {
        if let Ok(mut map) = self.tokens.lock() {
            map.remove(mailbox);
        }
    }
}
