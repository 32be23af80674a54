//! Admin rows: reading, creating, disabling, password changes, and ending an
//! admin's sessions. Shared by the sign-in routes, the backend port and the CLI.
use crate::db::entities::{admin, admin_session};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, Set,
};

pub async fn count<C: ConnectionTrait>(conn: &C) -> Result<u64, DbErr> {
    admin::Entity::find().count(conn).await
}

pub async fn count_enabled<C: ConnectionTrait>(conn: &C) -> Result<u64, DbErr> {
    admin::Entity::find()
        .filter(admin::Column::DisabledAt.is_null())
        .count(conn)
        .await
}

/// `username` must already be normalised (lower-case, trimmed).
pub async fn find_by_username<C: ConnectionTrait>(
    conn: &C,
    username: &str,
) -> Result<Option<admin::Model>, DbErr> {
    admin::Entity::find()
        .filter(admin::Column::Username.eq(username))
        .one(conn)
        .await
}

pub async fn find<C: ConnectionTrait>(conn: &C, id: &str) -> Result<Option<admin::Model>, DbErr> {
    admin::Entity::find_by_id(id.to_string()).one(conn).await
}

pub async fn list<C: ConnectionTrait>(conn: &C) -> Result<Vec<admin::Model>, DbErr> {
    admin::Entity::find()
        .order_by_asc(admin::Column::Username)
        .all(conn)
        .await
}

/// Inserts an admin; a taken username surfaces as a unique violation.
pub async fn create<C: ConnectionTrait>(
    conn: &C,
    username: &str,
    password_hash: String,
    now: DateTime<Utc>,
) -> Result<admin::Model, DbErr> {
    admin::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        username: Set(username.to_string()),
        password_hash: Set(password_hash),
        disabled_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        password_changed_at: Set(now),
        last_sign_in_at: Set(None),
    }
    .insert(conn)
    .await
}

pub async fn set_password_hash<C: ConnectionTrait>(
    conn: &C,
    id: &str,
    password_hash: String,
    now: DateTime<Utc>,
    changed_by_user: bool,
) -> Result<(), DbErr> {
    let mut update = admin::Entity::update_many()
        .col_expr(admin::Column::PasswordHash, Expr::value(password_hash))
        .col_expr(admin::Column::UpdatedAt, Expr::value(now));
    if changed_by_user {
        update = update.col_expr(admin::Column::PasswordChangedAt, Expr::value(now));
    }
    update.filter(admin::Column::Id.eq(id)).exec(conn).await?;
    Ok(())
}

pub async fn set_disabled<C: ConnectionTrait>(
    conn: &C,
    id: &str,
    disabled_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    Ok(admin::Entity::update_many()
        .col_expr(admin::Column::DisabledAt, Expr::value(disabled_at))
        .col_expr(admin::Column::UpdatedAt, Expr::value(now))
        .filter(admin::Column::Id.eq(id))
        .exec(conn)
        .await?
        .rows_affected)
}

pub async fn record_sign_in<C: ConnectionTrait>(
    conn: &C,
    id: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    admin::Entity::update_many()
        .col_expr(admin::Column::LastSignInAt, Expr::value(Some(now)))
        .filter(admin::Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}

/// Ends every session of an admin except `keep` (a session key), e.g. after
/// a password change or when the admin is disabled.
pub async fn end_sessions<C: ConnectionTrait>(
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
