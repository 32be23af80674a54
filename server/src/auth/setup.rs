//! The first admin: until one exists, each start makes a one-time setup token,
//! prints it in the server log and keeps only its hash. Whoever can read the
//! log can create the first admin at /setup; nobody else can. There is no
//! default password.
use crate::db::entities::setup_token;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};

/// A token printed at a start stays usable this long (several instances may
/// each print one; any of them works).
pub const TOKEN_LIFETIME_HOURS: i64 = 24;

fn digest(token: &str) -> String {
    crate::hashing::sha256_hex(token.trim())
}

/// Makes a new setup token if no admin exists yet; returns it for the log.
pub async fn issue_if_needed<C: ConnectionTrait>(
    conn: &C,
    now: DateTime<Utc>,
) -> Result<Option<String>, DbErr> {
    if super::admins::count(conn).await? > 0 {
        return Ok(None);
    }
    let mut bytes = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    setup_token::ActiveModel {
        token_hash: Set(digest(&token)),
        created_at: Set(now),
    }
    .insert(conn)
    .await?;
    Ok(Some(token))
}

/// Uses up a valid token (call inside the transaction that creates the first
/// admin). Deleting the row is the gate: two concurrent setups cannot both win.
pub async fn consume<C: ConnectionTrait>(
    conn: &C,
    token: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let used = setup_token::Entity::delete_many()
        .filter(setup_token::Column::TokenHash.eq(digest(token)))
        .filter(setup_token::Column::CreatedAt.gt(now - Duration::hours(TOKEN_LIFETIME_HOURS)))
        .exec(conn)
        .await?
        .rows_affected
        == 1;
    if used {
        // Every other printed token is void once an admin exists.
        setup_token::Entity::delete_many().exec(conn).await?;
    }
    Ok(used)
}
