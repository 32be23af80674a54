//! `setup_token`: until the first admin exists, each start makes a one-time
//! setup token, prints it in the server log and keeps only its hash. Whoever
//! can read the log can create the first admin at /setup; nobody else can.
use super::audit::{self, Event};
use super::entities::setup_token;
use super::{admins, Store, StoreError};
use crate::hashing::sha256_hex;
use app::port::Actor;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::Duration;
use rand::RngCore;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set, TransactionTrait};

/// A token printed at a start stays usable this long (several instances may
/// each print one; any of them works).
pub const TOKEN_LIFETIME_HOURS: i64 = 24;

fn digest(token: &str) -> String {
    sha256_hex(token.trim())
}

/// How completing setup ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Setup {
    Done(admins::Admin),
    /// Unknown, used or expired token (and no admin yet).
    InvalidToken,
    /// An admin exists already.
    AlreadyDone,
}

pub struct SetupTokens<'a>(&'a Store);

impl Store {
    pub fn setup_tokens(&self) -> SetupTokens<'_> {
        SetupTokens(self)
    }
}

impl SetupTokens<'_> {
    /// Makes a new setup token if no admin exists yet; returns it for the log.
    pub async fn issue_if_needed(&self) -> Result<Option<String>, StoreError> {
        if admins::count(&self.0.conn).await? > 0 {
            return Ok(None);
        }
        let mut bytes = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let token = URL_SAFE_NO_PAD.encode(bytes);
        setup_token::ActiveModel {
            token_hash: Set(digest(&token)),
            created_at: Set(self.0.now()),
        }
        .insert(&self.0.conn)
        .await?;
        Ok(Some(token))
    }

    /// Whether `token` is one of the unused, unexpired setup tokens (it is
    /// used up only by [`Self::complete`]).
    pub async fn is_valid(&self, token: &str) -> Result<bool, StoreError> {
        let cutoff = self.0.now() - Duration::hours(TOKEN_LIFETIME_HOURS);
        Ok(setup_token::Entity::find_by_id(digest(token))
            .filter(setup_token::Column::CreatedAt.gt(cutoff))
            .one(&self.0.conn)
            .await?
            .is_some())
    }

    /// Uses up a valid token and creates the first admin, in one
    /// transaction: deleting the token row is the gate, so two concurrent
    /// setups cannot both win, and every other printed token is void after.
    pub async fn complete(
        &self,
        actor: &Actor,
        token: &str,
        username: &str,
        password_hash: &str,
    ) -> Result<Setup, StoreError> {
        let now = self.0.now();
        let txn = self.0.conn.begin().await?;
        let valid = setup_token::Entity::delete_many()
            .filter(setup_token::Column::TokenHash.eq(digest(token)))
            .filter(setup_token::Column::CreatedAt.gt(now - Duration::hours(TOKEN_LIFETIME_HOURS)))
            .exec(&txn)
            .await?
            .rows_affected
            == 1;
        if admins::count(&txn).await? > 0 {
            return Ok(Setup::AlreadyDone);
        }
        if !valid {
            return Ok(Setup::InvalidToken);
        }
        setup_token::Entity::delete_many().exec(&txn).await?;
        let created = admins::insert(&txn, username, password_hash, now).await?;
        let actor = Actor {
            username: created.username.clone(),
            admin_id: Some(created.id.clone()),
            ..actor.clone()
        };
        audit::insert(
            &txn,
            now,
            &actor,
            Event::new("admin.setup").target("admin", &created.id, &created.username),
        )
        .await?;
        txn.commit().await?;
        Ok(Setup::Done(created))
    }
}
