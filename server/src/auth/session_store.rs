//! tower-sessions' store over SeaORM, so sessions live in the same database
//! on SQLite and PostgreSQL and every instance sees them. Rows are keyed by the
//! SHA-256 of the session id: reading the table does not let anyone sign in.
use crate::clock::Clock;
use crate::db::entities::admin_session;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use std::sync::Arc;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

/// The session data key holding the signed-in admin (see `super::SignedIn`).
pub const SIGNED_IN_KEY: &str = "signed_in";

#[derive(Clone)]
pub struct DbSessionStore {
    db: DatabaseConnection,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for DbSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DbSessionStore")
    }
}

impl DbSessionStore {
    pub fn new(db: DatabaseConnection, clock: Arc<dyn Clock>) -> Self {
        Self { db, clock }
    }

    /// Removes expired sessions; returns how many.
    pub async fn purge_expired(&self) -> Result<u64, sea_orm::DbErr> {
        Ok(admin_session::Entity::delete_many()
            .filter(admin_session::Column::ExpiresAt.lte(self.clock.now()))
            .exec(&self.db)
            .await?
            .rows_affected)
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

fn row(
    record: &Record,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<admin_session::ActiveModel, session_store::Error> {
    Ok(admin_session::ActiveModel {
        id_hash: Set(session_key(&record.id)),
        admin_id: Set(admin_id_of(record)),
        data: Set(serde_json::to_string(&record.data).map_err(backend)?),
        expires_at: Set(to_chrono(record.expiry_date)),
        created_at: Set(now),
    })
}

#[async_trait::async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // A 128-bit random id colliding is not expected; if it ever does, draw again.
        for _ in 0..4 {
            let inserted = admin_session::Entity::insert(row(record, self.clock.now())?)
                .on_conflict(
                    OnConflict::column(admin_session::Column::IdHash)
                        .do_nothing()
                        .to_owned(),
                )
                .exec_without_returning(&self.db)
                .await
                .map_err(backend)?;
            if inserted == 1 {
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
        admin_session::Entity::update_many()
            .col_expr(
                admin_session::Column::AdminId,
                sea_orm::sea_query::Expr::value(admin_id_of(record)),
            )
            .col_expr(
                admin_session::Column::Data,
                sea_orm::sea_query::Expr::value(
                    serde_json::to_string(&record.data).map_err(backend)?,
                ),
            )
            .col_expr(
                admin_session::Column::ExpiresAt,
                sea_orm::sea_query::Expr::value(to_chrono(record.expiry_date)),
            )
            .filter(admin_session::Column::IdHash.eq(session_key(&record.id)))
            .exec(&self.db)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let found = admin_session::Entity::find_by_id(session_key(id))
            .filter(admin_session::Column::ExpiresAt.gt(self.clock.now()))
            .one(&self.db)
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
        admin_session::Entity::delete_by_id(session_key(id))
            .exec(&self.db)
            .await
            .map_err(backend)?;
        Ok(())
    }
}
