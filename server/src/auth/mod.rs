//! Admin sign-in: accounts (argon2id), server-side sessions (tower-sessions
//! over the database), throttling, the gate every request passes, and the
//! one-time setup token for the first admin.
pub mod api_token;
pub mod failures;
pub mod gate;
pub mod password;
pub mod redirect;
pub mod routes;
pub mod session_store;
pub mod throttle;

use crate::config::Config;
use crate::db::Store;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, Session, SessionManagerLayer};

pub use session_store::{session_key, DbSessionStore, SIGNED_IN_KEY};

/// Who is signed in to a session (stored in the session's data).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SignedIn {
    pub admin_id: String,
    pub username: String,
    /// Unix seconds: the absolute timeout counts from here.
    pub signed_in_at: i64,
    /// Unix seconds of the last save: the idle timeout is extended at most
    /// once a minute, not written on every request.
    pub touched_at: i64,
}

const TOUCH_EVERY_SECS: i64 = 60;

pub struct AuthService {
    pub store: Store,
    /// Shared with the admin console (password changes, setup).
    pub throttle: Arc<throttle::SignInThrottle>,
    pub sessions: DbSessionStore,
    pub absolute_secs: i64,
    /// Reverse proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

impl AuthService {
    pub fn new(store: Store, config: &Config) -> Self {
        password::warm_up();
        Self {
            sessions: DbSessionStore::new(store.clone()),
            throttle: Arc::new(throttle::SignInThrottle::new(
                store.clone(),
                throttle::Limits::default(),
            )),
            store,
            absolute_secs: i64::from(config.session_absolute_hours) * 3600,
            trusted_proxies: config.trusted_proxies.clone(),
        }
    }

    /// The signed-in admin of this session, enforcing the absolute timeout and
    /// sliding the idle timeout.
    pub async fn current(&self, session: &Session) -> Option<SignedIn> {
        let mut signed_in = match session.get::<SignedIn>(SIGNED_IN_KEY).await {
            Ok(s) => s?,
            Err(e) => {
                tracing::warn!(error = %e, "cannot load session");
                return None;
            }
        };
        let now = self.store.now().timestamp();
        if now - signed_in.signed_in_at >= self.absolute_secs {
            if let Err(e) = session.flush().await {
                tracing::warn!(error = %e, "cannot end an expired session");
            }
            return None;
        }
        if now - signed_in.touched_at >= TOUCH_EVERY_SECS {
            // Once a minute, also make sure the admin still exists and is enabled.
            let gone = match self.store.admins().get(&signed_in.admin_id).await {
                Ok(Some(a)) => !a.enabled(),
                Ok(None) => true,
                // A database hiccup is not a reason to sign anyone out.
                Err(e) => {
                    tracing::warn!(error = %e, "cannot re-check the signed-in admin");
                    false
                }
            };
            if gone {
                if let Err(e) = session.flush().await {
                    tracing::warn!(error = %e, "cannot end the session of a disabled admin");
                }
                return None;
            }
            signed_in.touched_at = now;
            if let Err(e) = session.insert(SIGNED_IN_KEY, &signed_in).await {
                tracing::warn!(error = %e, "cannot extend session");
            }
        }
        Some(signed_in)
    }
}

/// The session cookie: `__Host-` + Secure on https; on a plain-http loopback
/// public URL (development, tests) browsers would drop a Secure cookie, so it
/// is a plain HttpOnly cookie there. Config refuses plain http elsewhere.
pub fn session_layer(
    config: &Config,
    store: DbSessionStore,
) -> SessionManagerLayer<DbSessionStore> {
    let secure = config.public_url.starts_with("https://");
    let name = if secure {
        "__Host-tm_session"
    } else {
        "tm_session"
    };
    SessionManagerLayer::new(store)
        .with_name(name)
        .with_secure(secure)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(time::Duration::minutes(i64::from(
            config.session_idle_minutes,
        ))))
}

/// Deletes expired sessions and refilled throttle buckets every hour.
pub fn spawn_housekeeping(auth: Arc<AuthService>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            tick.tick().await;
            match auth.store.sessions().purge_expired().await {
                Ok(n) if n > 0 => tracing::info!(removed = n, "expired sessions removed"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "cannot remove expired sessions"),
            }
            match auth.throttle.purge().await {
                Ok(n) if n > 0 => tracing::debug!(removed = n, "refilled throttle buckets removed"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "cannot remove refilled throttle buckets"),
            }
        }
    });
}
