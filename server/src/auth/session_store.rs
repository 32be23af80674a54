//! tower-sessions' store over `db::sessions`, so sessions live in the
//! database on SQLite and PostgreSQL and every instance sees them. Rows are
//! keyed by the SHA-256 of the session id: reading the table does not let
//! anyone sign in.
use crate::db::sessions::SessionRow;
use crate::db::Store;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

/// The session data key holding the signed-in admin (see `super::SignedIn`).
pub const SIGNED_IN_KEY: &str = "signed_in";

#[derive(Clone)]
pub struct DbSessionStore {
    store: Store,
}

impl std::fmt::Debug for DbSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DbSessionStore")
    }
}

impl DbSessionStore {
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

/// What the session table is keyed by, and what audit/flow rows refer to.
pub fn session_key(id: &Id) -> String {
    crate::hashing::sha256_hex(id.to_string())
}

fn backend(e: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

fn to_chrono(t: time::OffsetDateTime) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(t.unix_timestamp(), t.nanosecond()).unwrap_or_default()
}

fn to_time(t: chrono::DateTime<chrono::Utc>) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(t.timestamp())
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

fn admin_id_of(record: &Record) -> Option<String> {
    record
        .data
        .get(SIGNED_IN_KEY)
        .and_then(|v| v.get("admin_id"))
        .and_then(|v| v.as_str())
        .map(str::to_string)
}

fn row(record: &Record) -> Result<SessionRow, session_store::Error> {
    Ok(SessionRow {
        admin_id: admin_id_of(record),
        data: serde_json::to_string(&record.data).map_err(backend)?,
        expires_at: to_chrono(record.expiry_date),
    })
}

#[async_trait::async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // A 128-bit random id colliding is not expected; if it ever does, draw again.
        for _ in 0..4 {
            let key = session_key(&record.id);
            let created = self
                .store
                .sessions()
                .create(&key, &row(record)?)
                .await
                .map_err(backend)?;
            if created {
                return Ok(());
            }
            record.id = Id::default();
        }
        Err(backend("could not allocate a session id"))
    }

    /// Updates only: a row deleted meanwhile (sign-out elsewhere, admin
    /// disabled, password changed) stays deleted even if a request that had
    /// loaded the session before finishes afterwards. New sessions and
    /// rotated ids go through `create`.
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.store
            .sessions()
            .update(&session_key(&record.id), &row(record)?)
            .await
            .map_err(backend)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let found = self
            .store
            .sessions()
            .load(&session_key(id))
            .await
            .map_err(backend)?;
        let Some(found) = found else {
            return Ok(None);
        };
        Ok(Some(Record {
            id: *id,
            data: serde_json::from_str(&found.data).map_err(backend)?,
            expiry_date: to_time(found.expires_at),
        }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.store
            .sessions()
            .delete(&session_key(id))
            .await
            .map_err(backend)
    }
}
