//! `admin`: admin accounts (argon2id PHC strings, made by `auth::password`).
//! Changes that end sessions do it in the same transaction, through
//! [`super::sessions`].
use super::audit::{self, Event};
use super::entities::admin;
use super::error::is_unique_violation;
use super::{sessions, Saved, Store, StoreError};
use app::port::Actor;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, Set, TransactionTrait,
};

#[derive(Clone, PartialEq, Eq)]
pub struct Admin {
    pub id: String,
    /// Normalised (lower-case, trimmed).
    pub username: String,
    pub password_hash: String,
    pub disabled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub last_sign_in_at: Option<DateTime<Utc>>,
}

impl Admin {
    pub fn enabled(&self) -> bool {
        self.disabled_at.is_none()
    }
}

impl std::fmt::Debug for Admin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admin")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("disabled_at", &self.disabled_at)
            .finish_non_exhaustive()
    }
}

fn from_row(a: admin::Model) -> Admin {
    Admin {
        id: a.id,
        username: a.username,
        password_hash: a.password_hash,
        disabled_at: a.disabled_at,
        created_at: a.created_at,
        last_sign_in_at: a.last_sign_in_at,
    }
}

pub(super) async fn count<C: ConnectionTrait>(conn: &C) -> Result<u64, DbErr> {
    admin::Entity::find().count(conn).await
}

/// Inserts an admin; a taken username surfaces as a unique violation.
pub(super) async fn insert<C: ConnectionTrait>(
    conn: &C,
    username: &str,
    password_hash: &str,
    now: DateTime<Utc>,
) -> Result<Admin, DbErr> {
    admin::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        username: Set(username.to_string()),
        password_hash: Set(password_hash.to_string()),
        disabled_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        password_changed_at: Set(now),
        last_sign_in_at: Set(None),
    }
    .insert(conn)
    .await
    .map(from_row)
}

pub struct Admins<'a>(&'a Store);

impl Store {
    pub fn admins(&self) -> Admins<'_> {
        Admins(self)
    }
}

impl Admins<'_> {
    pub async fn count(&self) -> Result<u64, StoreError> {
        Ok(count(&self.0.conn).await?)
    }

    /// `username` must already be normalised (lower-case, trimmed).
    pub async fn by_username(&self, username: &str) -> Result<Option<Admin>, StoreError> {
        Ok(admin::Entity::find()
            .filter(admin::Column::Username.eq(username))
            .one(&self.0.conn)
            .await?
            .map(from_row))
    }

    pub async fn get(&self, id: &str) -> Result<Option<Admin>, StoreError> {
        Ok(admin::Entity::find_by_id(id.to_string())
            .one(&self.0.conn)
            .await?
            .map(from_row))
    }

    /// Every admin, by username.
    pub async fn list(&self) -> Result<Vec<Admin>, StoreError> {
        Ok(admin::Entity::find()
            .order_by_asc(admin::Column::Username)
            .all(&self.0.conn)
            .await?
            .into_iter()
            .map(from_row)
            .collect())
    }

    /// A new admin with this password hash; `Duplicate` when the name is taken.
    pub async fn create(
        &self,
        actor: &Actor,
        username: &str,
        password_hash: &str,
    ) -> Result<Saved<Admin>, StoreError> {
        let now = self.0.now();
        let txn = self.0.conn.begin().await?;
        let created = match insert(&txn, username, password_hash, now).await {
            Ok(a) => a,
            Err(e) if is_unique_violation(&e) => return Ok(Saved::Duplicate),
            Err(e) => return Err(e.into()),
        };
        audit::insert(
            &txn,
            now,
            actor,
            Event::new("admin.created").target("admin", &created.id, &created.username),
        )
        .await?;
        txn.commit().await?;
        Ok(Saved::Done(created))
    }

    /// Disables (ending every session of the admin at once) or enables.
    pub async fn set_disabled(
        &self,
        actor: &Actor,
        id: &str,
        disabled: bool,
    ) -> Result<Saved<Admin>, StoreError> {
        let now = self.0.now();
        let txn = self.0.conn.begin().await?;
        let updated = admin::Entity::update_many()
            .col_expr(
                admin::Column::DisabledAt,
                Expr::value(disabled.then_some(now)),
            )
            .col_expr(admin::Column::UpdatedAt, Expr::value(now))
            .filter(admin::Column::Id.eq(id))
            .exec_with_returning(&txn)
            .await?;
        let Some(target) = updated.into_iter().next().map(from_row) else {
            return Ok(Saved::Missing);
        };
        if disabled {
            sessions::end_for_admin(&txn, id, None).await?;
        }
        let action = if disabled {
            "admin.disabled"
        } else {
            "admin.enabled"
        };
        audit::insert(
            &txn,
            now,
            actor,
            Event::new(action).target("admin", id, &target.username),
        )
        .await?;
        txn.commit().await?;
        if disabled {
            self.0.sessions().ended_for_admin(id);
        }
        Ok(Saved::Done(target))
    }

    /// Sets a new password hash chosen by a person (the admin, or an
    /// operator at the command line) and ends every session of the admin
    /// except `keep` (the session key of the browser that changed it). The
    /// audit entry's detail is `detail(sessions ended)`.
    pub async fn change_password(
        &self,
        actor: &Actor,
        admin: &Admin,
        password_hash: &str,
        keep: Option<&str>,
        detail: impl FnOnce(u64) -> String,
    ) -> Result<(), StoreError> {
        let now = self.0.now();
        let txn = self.0.conn.begin().await?;
        admin::Entity::update_many()
            .col_expr(admin::Column::PasswordHash, Expr::value(password_hash))
            .col_expr(admin::Column::UpdatedAt, Expr::value(now))
            .col_expr(admin::Column::PasswordChangedAt, Expr::value(now))
            .filter(admin::Column::Id.eq(admin.id.as_str()))
            .exec(&txn)
            .await?;
        // Anyone else holding a session of this admin (a stolen cookie,
        // another browser) is signed out.
        let ended = sessions::end_for_admin(&txn, &admin.id, keep).await?;
        audit::insert(
            &txn,
            now,
            actor,
            Event::new("admin.password_changed")
                .target("admin", &admin.id, &admin.username)
                .detail(detail(ended)),
        )
        .await?;
        txn.commit().await?;
        self.0.sessions().ended_for_admin(&admin.id);
        Ok(())
    }

    /// Replaces the hash of the same password with a stronger one (at sign-in).
    pub async fn upgrade_hash(&self, id: &str, password_hash: &str) -> Result<(), StoreError> {
        admin::Entity::update_many()
            .col_expr(admin::Column::PasswordHash, Expr::value(password_hash))
            .col_expr(admin::Column::UpdatedAt, Expr::value(self.0.now()))
            .filter(admin::Column::Id.eq(id))
            .exec(&self.0.conn)
            .await?;
        Ok(())
    }

    pub async fn record_sign_in(&self, id: &str) -> Result<(), StoreError> {
        admin::Entity::update_many()
            .col_expr(admin::Column::LastSignInAt, Expr::value(Some(self.0.now())))
            .filter(admin::Column::Id.eq(id))
            .exec(&self.0.conn)
            .await?;
        Ok(())
    }
}
