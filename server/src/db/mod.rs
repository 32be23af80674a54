//! The storage layer: every table has one owner here.
//!
//! [`Store`] is the one handle (connection, key ring, clock). Each module owns
//! one table or aggregate: its queries, the mapping between rows and the
//! domain types the rest of the server works with, the sealing and opening
//! of its secrets, and its transactions. Nothing above `db/` imports an
//! entity or writes SQL (`server/tests/layers.rs` checks it), so a new
//! column or account type touches its owner here and the layer that uses it.
//!
//! | module | owns |
//! |---|---|
//! | [`tenants`] | `tenant` |
//! | [`tenant_emails`] | `tenant_email` (settings, sealed client secret) |
//! | [`connections`] | `mailbox_connection` and the connection status of `tenant_email` |
//! | [`flows`] | `oauth_flow` (sealed PKCE verifier) |
//! | [`outbox`] | `outbox_message`, `outbox_attachment` |
//! | [`inbox`] | `inbox_sync`, `inbox_message`, `inbox_attachment`, `inbox_blob`, `inbox_blob_chunk` |
//! | [`slots`] | `graph_slot` |
//! | [`admins`] | `admin` |
//! | [`sessions`] | `admin_session` |
//! | [`setup_tokens`] | `setup_token` |
//! | [`api_tokens`] | `api_token` |
//! | [`audit`] | `audit_event` |
//! | [`throttle`] | `sign_in_throttle` |
//! | [`alerts`] | `alert_destination`, `alert_state`, `alert_delivery` (sealed webhook secret) |
pub mod admins;
pub mod alerts;
pub mod api_tokens;
pub mod audit;
pub mod connections;
/// The SeaORM entities. Only the modules of `db/` use them; they are public
/// for integration tests that look at raw rows (ciphertext at rest, say).
pub mod entities;
mod error;
pub mod flows;
pub mod inbox;
pub mod migrations;
pub mod outbox;
pub mod rekey;
pub mod session_cache;
pub mod sessions;
pub mod setup_tokens;
pub mod slots;
pub mod subscriptions;
pub mod tenant_emails;
pub mod tenants;
pub mod throttle;

pub use error::{Saved, StoreError};

use crate::clock::Clock;
use crate::config::{Config, DatabaseKind};
use crate::secrets::KeyRing;
use chrono::{DateTime, Utc};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};
use sea_orm_migration::MigratorTrait;
use std::sync::Arc;
use std::time::Duration;

/// The storage handle; cheap to clone (the connection is a pool).
#[derive(Clone)]
pub struct Store {
    conn: DatabaseConnection,
    keys: Arc<KeyRing>,
    clock: Arc<dyn Clock>,
    session_cache: Arc<session_cache::SessionCache>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.conn.get_database_backend())
            .finish_non_exhaustive()
    }
}

impl Store {
    pub fn new(conn: DatabaseConnection, keys: Arc<KeyRing>, clock: Arc<dyn Clock>) -> Self {
        // SQLite is one process: every change passes through this cache. On
        // PostgreSQL it is off until its listener hears other instances.
        let one_process = conn.get_database_backend() != sea_orm::DatabaseBackend::Postgres;
        let session_cache = Arc::new(session_cache::SessionCache::new(one_process));
        session_cache::spawn_listener(&conn, &session_cache);
        Self {
            conn,
            keys,
            clock,
            session_cache,
        }
    }

    /// Connects to the configured database and applies pending migrations.
    pub async fn open(
        config: &Config,
        keys: Arc<KeyRing>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, StoreError> {
        Ok(Self::new(connect(config).await?, keys, clock))
    }

    /// The same database and key, another clock (tests move time).
    pub fn with_clock(&self, clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            ..self.clone()
        }
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Several instances share PostgreSQL; SQLite means one process.
    pub fn is_shared(&self) -> bool {
        self.conn.get_database_backend() == sea_orm::DbBackend::Postgres
    }

    /// The raw connection, for integration tests that inspect or break the
    /// database. Server code goes through the table modules.
    #[doc(hidden)]
    pub fn connection(&self) -> &DatabaseConnection {
        &self.conn
    }

    /// True when the database answers and no migration is pending.
    pub async fn ready(&self) -> Result<bool, StoreError> {
        self.conn.ping().await?;
        Ok(migrations::Migrator::get_pending_migrations(&self.conn)
            .await?
            .is_empty())
    }
}

/// Connects and applies pending migrations.
pub async fn connect(config: &Config) -> Result<DatabaseConnection, DbErr> {
    if config.database_kind == DatabaseKind::Sqlite {
        ensure_sqlite_dir(&config.database_url);
    }
    let mut options = ConnectOptions::new(config.database_url.clone());
    options
        .sqlx_logging(false)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        // WAL lets readers run beside the writer; FULL makes a commit durable
        // before we tell anyone it happened. busy_timeout waits out a writer.
        .map_sqlx_sqlite_opts(|o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(5))
        });
    let db = Database::connect(options).await?;
    migrations::Migrator::up(&db, None).await?;
    Ok(db)
}

fn ensure_sqlite_dir(url: &str) {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let path = path.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return;
    }
    if let Some(parent) = std::path::Path::new(path)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
    {
        // The database holds sealed secrets and the audit log: this user's only.
        if let Err(e) = crate::secrets::create_private_dir(parent) {
            tracing::warn!(error = %e, dir = %parent.display(), "cannot create database directory");
        }
    }
}

#[cfg(test)]
pub(crate) mod testing;
