//! `admin_session`: signed-in browsers, keyed by the SHA-256 of the session
//! id (reading the table does not let anyone sign in), shared by every
//! instance. `auth::session_store` adapts this to tower-sessions.
use super::entities::admin_session;
use super::{Store, StoreError};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};

/// A session row's contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    /// The admin it is signed in as, if any (to end their sessions).
    pub admin_id: Option<String>,
    /// The session's data as JSON (no secrets are put there).
    pub data: String,
    pub expires_at: DateTime<Utc>,
}

/// Ends every session of an admin except `keep` (a session key), inside the
/// transaction of the change that requires it. Returns how many.
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
    Ok(delete.exec(conn).await?.rows_affected)
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
        Ok(())
    }

    /// The session, unless it is unknown or expired.
    pub async fn load(&self, key: &str) -> Result<Option<SessionRow>, StoreError> {
        Ok(admin_session::Entity::find_by_id(key.to_string())
            .filter(admin_session::Column::ExpiresAt.gt(self.0.now()))
            .one(&self.0.conn)
            .await?
            .map(|s| SessionRow {
                admin_id: s.admin_id,
                data: s.data,
                expires_at: s.expires_at,
            }))
    }

    pub async fn delete(&self, key: &str) -> Result<(), StoreError> {
        admin_session::Entity::delete_by_id(key.to_string())
            .exec(&self.0.conn)
            .await?;
        Ok(())
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
