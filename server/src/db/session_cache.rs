//! Signed-in sessions kept in memory for a short while, so a page or server
//! function does not cost a database read just to know who is asking.
//!
//! What makes it safe to serve a session from memory is that every change
//! that ends or alters one reaches every instance at once:
//! - in this process, `Sessions::update`/`delete` and the bulk ends (admin
//!   disabled, password changed) evict before they return;
//! - on PostgreSQL, the same changes send `NOTIFY tm_sessions` (inside the
//!   ending transaction, so it is delivered when that commits) and every
//!   instance's listener evicts. While an instance's listener is not
//!   connected, its cache is off: it reads the database every time.
//!
//! The trade-off: on PostgreSQL another instance may serve a signed-out
//! session for the time a notification takes to arrive (milliseconds on a
//! LAN); never longer than `TTL`, the bound that holds even if one is lost.
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The most a cached session can lag behind the database.
pub const TTL: Duration = Duration::from_secs(15);
/// Sessions kept at most; past it the cache starts afresh (cheap, and rare:
/// admins are few).
const CAPACITY: usize = 10_000;
/// The PostgreSQL notification channel.
pub const CHANNEL: &str = "tm_sessions";

/// A session row's contents (`admin_session`, see `db::sessions`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    /// The admin it is signed in as, if any (to end their sessions).
    pub admin_id: Option<String>,
    /// The session's data as JSON (no secrets are put there).
    pub data: String,
    pub expires_at: DateTime<Utc>,
}

struct Entry {
    row: SessionRow,
    loaded: Instant,
}

pub struct SessionCache {
    entries: Mutex<HashMap<String, Entry>>,
    /// Bumped by every eviction: a read that began before one does not
    /// store what it read (it may be the row that was just ended).
    generation: AtomicU64,
    live: AtomicBool,
}

impl SessionCache {
    /// `live`: whether changes made elsewhere reach this cache (always for
    /// SQLite, one process; on PostgreSQL once the listener is connected).
    pub fn new(live: bool) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            generation: AtomicU64::new(0),
            live: AtomicBool::new(live),
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        // A panic elsewhere while holding the lock leaves a consistent map.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The session if cached, fresh and not expired at `now`.
    pub fn get(&self, key: &str, now: DateTime<Utc>) -> Option<SessionRow> {
        if !self.live.load(Ordering::Acquire) {
            return None;
        }
        let entries = self.entries();
        let entry = entries.get(key)?;
        (entry.loaded.elapsed() < TTL && entry.row.expires_at > now).then(|| entry.row.clone())
    }

    pub fn is_live(&self) -> bool {
        self.live.load(Ordering::Acquire)
    }

    /// Taken before a database read; `put` ignores the read if anything was
    /// evicted meanwhile.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub fn put(&self, read_at_generation: u64, key: &str, row: SessionRow) {
        if !self.live.load(Ordering::Acquire) {
            return;
        }
        let mut entries = self.entries();
        // Checked under the lock evictions take too.
        if self.generation() != read_at_generation {
            return;
        }
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(
            key.to_string(),
            Entry {
                row,
                loaded: Instant::now(),
            },
        );
    }

    pub fn evict(&self, key: &str) {
        let mut entries = self.entries();
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.remove(key);
    }

    /// Every session of one admin (disabled, password changed).
    pub fn evict_admin(&self, admin_id: &str) {
        let mut entries = self.entries();
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.retain(|_, e| e.row.admin_id.as_deref() != Some(admin_id));
    }

    /// On PostgreSQL: the listener connected (true) or lost (false). Either
    /// way what is cached may have missed a change, so it goes.
    pub fn set_live(&self, live: bool) {
        let mut entries = self.entries();
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.clear();
        self.live.store(live, Ordering::Release);
    }

    /// Everything goes; whether it is live stays as it is.
    pub fn clear(&self) {
        let mut entries = self.entries();
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.clear();
    }

    /// Applies one notification: `key:<session key>` or `admin:<admin id>`.
    pub fn apply(&self, payload: &str) {
        match payload.split_once(':') {
            Some(("key", key)) => self.evict(key),
            Some(("admin", admin_id)) => self.evict_admin(admin_id),
            // Unknown: be safe, drop everything.
            _ => self.clear(),
        }
    }
}

/// On PostgreSQL, listens for `tm_sessions` notifications for as long as the
/// cache is in use, and keeps it off whenever the listener is not connected.
/// Elsewhere (SQLite: one process) the cache needs no listener.
pub fn spawn_listener(conn: &sea_orm::DatabaseConnection, cache: &std::sync::Arc<SessionCache>) {
    if conn.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
        return;
    }
    // Outside a runtime (a synchronous caller) the cache simply stays off.
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let pool = conn.get_postgres_connection_pool().clone();
    let cache = std::sync::Arc::downgrade(cache);
    runtime.spawn(async move {
        // Ends once the store (and its cache) is gone.
        while let Some(alive) = cache.upgrade() {
            let outcome = listen(&pool, &alive).await;
            alive.set_live(false);
            drop(alive);
            match outcome {
                Ok(Listening::StoreGone) => return,
                Ok(Listening::Lost) => tracing::warn!("session notifications lost: sessions are read from the database until they resume"),
                Err(e) => tracing::warn!(error = %e, "cannot listen for session notifications: sessions are read from the database until it works"),
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
}

enum Listening {
    StoreGone,
    Lost,
}

async fn listen(
    pool: &sea_orm::sqlx::PgPool,
    cache: &std::sync::Arc<SessionCache>,
) -> Result<Listening, sea_orm::sqlx::Error> {
    let mut listener = sea_orm::sqlx::postgres::PgListener::connect_with(pool).await?;
    // A lost connection must end the cache's trust, not be quietly repaired.
    listener.eager_reconnect(false);
    listener.listen(CHANNEL).await?;
    cache.set_live(true);
    let weak = std::sync::Arc::downgrade(cache);
    let mut check = tokio::time::interval(Duration::from_secs(5));
    loop {
        tokio::select! {
            received = listener.try_recv() => match received? {
                Some(notification) => cache.apply(notification.payload()),
                None => return Ok(Listening::Lost),
            },
            _ = check.tick() => {
                // Only this task and the caller's reference remain: the store is gone.
                if weak.strong_count() <= 1 {
                    return Ok(Listening::StoreGone);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(admin: &str, expires_at: DateTime<Utc>) -> SessionRow {
        SessionRow {
            admin_id: Some(admin.into()),
            data: "{}".into(),
            expires_at,
        }
    }

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-06T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn serves_what_it_holds_until_evicted_or_expired() {
        let cache = SessionCache::new(true);
        let later = now() + chrono::Duration::minutes(30);
        cache.put(cache.generation(), "k1", row("a1", later));
        cache.put(cache.generation(), "k2", row("a2", later));
        assert_eq!(cache.get("k1", now()), Some(row("a1", later)));
        // Past the session's own expiry it is not served.
        assert_eq!(cache.get("k1", later), None);
        cache.evict("k1");
        assert_eq!(cache.get("k1", now()), None);
        cache.apply("admin:a2");
        assert_eq!(cache.get("k2", now()), None);
    }

    #[test]
    fn a_read_that_raced_an_eviction_is_not_kept() {
        let cache = SessionCache::new(true);
        let later = now() + chrono::Duration::minutes(30);
        let before = cache.generation();
        // Another request ends the session while this one reads the row.
        cache.apply("key:k1");
        cache.put(before, "k1", row("a1", later));
        assert_eq!(cache.get("k1", now()), None);
    }

    #[test]
    fn off_while_changes_elsewhere_cannot_reach_it() {
        let cache = SessionCache::new(false);
        let later = now() + chrono::Duration::minutes(30);
        cache.put(cache.generation(), "k1", row("a1", later));
        assert_eq!(cache.get("k1", now()), None);
        cache.set_live(true);
        cache.put(cache.generation(), "k1", row("a1", later));
        assert!(cache.get("k1", now()).is_some());
        // The listener drops: everything goes, nothing is served.
        cache.set_live(false);
        assert_eq!(cache.get("k1", now()), None);
        cache.set_live(true);
        assert_eq!(cache.get("k1", now()), None);
    }
}
