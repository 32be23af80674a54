//! `admin_session`: signed-in browsers, keyed by the SHA-256 of the session
//! id (reading the table does not let anyone sign in), shared by every
//! instance. `auth::session_store` adapts this to tower-sessions.
use super::entities::admin_session;
use super::session_cache::CHANNEL;
use super::{Store, StoreError};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, Set, Statement,
};

// Defined beside the cache that holds it (which must not depend on this file).
pub use super::session_cache::SessionRow;

/// Ends every session of an admin except `keep` (a session key), inside the
/// transaction of the change that requires it. Returns how many. Other
/// instances hear of it when the transaction commits; the caller evicts this
/// instance's cache after committing (`Sessions::ended_for_admin`).
pub(super) async fn end_for_admin<C: ConnectionTrait>(
    conn: &C,
    admin_id: &str,
    keep: Option<&str>,
) -> Result<u64, DbErr> {
    let mut delete =
        admin_session::Entity::delete_many().filter(admin_session::Column::AdminId.eq(admin_id));
    if let Some(keep) = keep {
        delete = delete.filter(admin_session::Column::IdHash.ne(keep));
    }
    let ended = delete.exec(conn).await?.rows_affected;
    notify(conn, &format!("admin:{admin_id}")).await?;
    Ok(ended)
}

/// Tells every instance's session cache (PostgreSQL; delivered at commit
/// when inside a transaction). SQLite has one process: nothing to tell.
async fn notify<C: ConnectionTrait>(conn: &C, payload: &str) -> Result<(), DbErr> {
    if conn.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    conn.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT pg_notify($1, $2)",
        [CHANNEL.into(), payload.into()],
    ))
    .await?;
    Ok(())
}

pub struct Sessions<'a>(&'a Store);

impl Store {
    pub fn sessions(&self) -> Sessions<'_> {
        Sessions(self)
    }
}

impl Sessions<'_> {
    /// Inserts a new session; false if the key is taken already.
    pub async fn create(&self, key: &str, row: &SessionRow) -> Result<bool, StoreError> {
        let inserted = admin_session::Entity::insert(admin_session::ActiveModel {
            id_hash: Set(key.to_string()),
            admin_id: Set(row.admin_id.clone()),
            data: Set(row.data.clone()),
            expires_at: Set(row.expires_at),
            created_at: Set(self.0.now()),
        })
        .on_conflict(
            OnConflict::column(admin_session::Column::IdHash)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&self.0.conn)
        .await?;
        Ok(inserted == 1)
    }

    /// Updates an existing session only: a row deleted meanwhile (sign-out
    /// elsewhere, admin disabled, password changed) stays deleted even if a
    /// request that had loaded it finishes afterwards.
    pub async fn update(&self, key: &str, row: &SessionRow) -> Result<(), StoreError> {
        admin_session::Entity::update_many()
            .col_expr(
                admin_session::Column::AdminId,
                Expr::value(row.admin_id.clone()),
            )
            .col_expr(admin_session::Column::Data, Expr::value(row.data.clone()))
            .col_expr(
                admin_session::Column::ExpiresAt,
                Expr::value(row.expires_at),
            )
            .filter(admin_session::Column::IdHash.eq(key))
            .exec(&self.0.conn)
            .await?;
        self.0.session_cache.evict(key);
        notify(&self.0.conn, &format!("key:{key}")).await?;
        Ok(())
    }

    /// The session, unless it is unknown or expired: from the cache when it
    /// holds it (see `session_cache` for why that is safe), else the database.
    pub async fn load(&self, key: &str) -> Result<Option<SessionRow>, StoreError> {
        let now = self.0.now();
        let cache = &self.0.session_cache;
        if let Some(row) = cache.get(key, now) {
            return Ok(Some(row));
        }
        let generation = cache.generation();
        let row = admin_session::Entity::find_by_id(key.to_string())
            .filter(admin_session::Column::ExpiresAt.gt(now))
            .one(&self.0.conn)
            .await?
            .map(|s| SessionRow {
                admin_id: s.admin_id,
                data: s.data,
                expires_at: s.expires_at,
            });
        if let Some(row) = &row {
            cache.put(generation, key, row.clone());
        }
        Ok(row)
    }

    pub async fn delete(&self, key: &str) -> Result<(), StoreError> {
        admin_session::Entity::delete_by_id(key.to_string())
            .exec(&self.0.conn)
            .await?;
        self.0.session_cache.evict(key);
        notify(&self.0.conn, &format!("key:{key}")).await?;
        Ok(())
    }

    /// Whether sessions are being served from memory now (off on
    /// PostgreSQL while the notification listener is not connected).
    pub fn cached(&self) -> bool {
        self.0.session_cache.is_live()
    }

    /// Drops what this instance holds in memory, so the next request reads
    /// the table: for a change made to it by hand (tests do, to age a session).
    pub fn forget_cached(&self) {
        self.0.session_cache.clear();
    }

    /// After a committed change that ended an admin's sessions: this
    /// instance stops serving them at once (others heard the notification).
    pub(super) fn ended_for_admin(&self, admin_id: &str) {
        self.0.session_cache.evict_admin(admin_id);
    }

    /// Removes expired sessions; returns how many.
    pub async fn purge_expired(&self) -> Result<u64, StoreError> {
        Ok(admin_session::Entity::delete_many()
            .filter(admin_session::Column::ExpiresAt.lte(self.0.now()))
            .exec(&self.0.conn)
            .await?
            .rows_affected)
    }
}
