//! Microsoft Graph v1.0 mail endpoints (`/v1.0/me/…` and `/v1.0/users/{id|upn|mail}/…`, one set
//! of handlers; see [`target`]), change-notification subscriptions (`/v1.0/subscriptions`) and
//! attachment upload sessions (`/upload/…`).

pub mod attachments;
pub mod delta;
pub mod directory;
pub mod folders;
pub mod limits;
pub mod mail;
pub mod odata;
pub mod replies;
pub mod subscriptions;
pub mod target;
pub mod users;

use std::collections::BTreeSet;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderMap, StatusCode};
use axum::routing::{get, post, put};
use axum::Router;

use crate::errors::GraphError;
use crate::model::User;
use crate::state::Shared;

/// Who is calling, from a valid bearer token. Inserted into request extensions by the gate middleware.
#[derive(Clone, Debug)]
pub struct Caller {
    /// The signed-in user; `None` for an app-only token (client credentials).
    pub user: Option<User>,
    /// The tenant the token was issued in.
    pub tenant_id: String,
    pub client_id: String,
    /// Delegated scopes, or an app-only token's application permissions; lower-cased.
    pub scopes: BTreeSet<String>,
}

impl Caller {
    /// 403 `ErrorAccessDenied` unless the token holds one of `any_of`.
    pub fn require(&self, any_of: &[&str]) -> Result<(), GraphError> {
        if any_of.iter().any(|s| self.scopes.contains(*s)) {
            Ok(())
        } else {
            Err(GraphError::access_denied())
        }
    }
}

fn unauthorized(message: &str) -> GraphError {
    GraphError::new(
        StatusCode::UNAUTHORIZED,
        "InvalidAuthenticationToken",
        message,
    )
}

/// Checks `Authorization: Bearer …`: unknown or expired → 401 `InvalidAuthenticationToken`.
pub fn authenticate(shared: &Shared, headers: &HeaderMap) -> Result<Caller, GraphError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .unwrap_or_default();
    if token.is_empty() {
        return Err(unauthorized("Access token is empty."));
    }
    let store = shared.lock();
    let grant = store
        .access_tokens
        .get(token)
        .ok_or_else(|| unauthorized("IDX14100: JWT is not well formed, there are no dots (.).\nThe token needs to be in JWS or JWE Compact Serialization Format."))?;
    if grant.expires_at <= shared.now() {
        return Err(unauthorized(
            "Lifetime validation failed, the token is expired.",
        ));
    }
    let user = match &grant.oid {
        None => None,
        Some(oid) => Some(store.users.get(oid).cloned().ok_or_else(|| {
            GraphError::new(
                StatusCode::NOT_FOUND,
                "MailboxNotEnabledForRESTAPI",
                "The mailbox is either inactive, soft-deleted, or is hosted on-premise.",
            )
        })?),
    };
    Ok(Caller {
        user,
        tenant_id: grant.tenant_id.clone(),
        client_id: grant.client_id.clone(),
        scopes: grant.scopes.clone(),
    })
}

pub fn router() -> Router<Shared> {
    Router::new()
        .route("/v1.0/me", get(users::get_user))
        .route("/v1.0/users/{user}", get(users::get_user))
        .nest("/v1.0/me", mailbox_routes())
        .nest("/v1.0/users/{user}", mailbox_routes())
        .route("/v1.0/organization", get(directory::organization))
        .route(
            "/v1.0/subscriptions",
            post(subscriptions::create).get(subscriptions::list),
        )
        .route(
            "/v1.0/subscriptions/{id}",
            get(subscriptions::get_one)
                .patch(subscriptions::renew)
                .delete(subscriptions::delete),
        )
        .route(
            "/v1.0/subscriptions/{id}/reauthorize",
            post(subscriptions::reauthorize),
        )
        .route("/upload/{session}", put(attachments::upload_chunk))
        .route("/oidc/userinfo", get(users::userinfo))
        .layer(DefaultBodyLimit::max(16 * 1024 * 1024))
}

/// The mail of one mailbox: under `/v1.0/me` and under `/v1.0/users/{user}` alike.
fn mailbox_routes() -> Router<Shared> {
    Router::new()
        .route("/sendMail", post(mail::send_mail))
        .route("/messages", post(mail::create_draft).get(mail::list_all))
        .route(
            "/messages/{id}",
            get(mail::get_message)
                .patch(mail::update)
                .delete(mail::delete),
        )
        .route("/messages/{id}/send", post(mail::send_draft))
        .route("/messages/{id}/move", post(mail::move_message))
        .route("/messages/{id}/createReply", post(replies::create_reply))
        .route(
            "/messages/{id}/createReplyAll",
            post(replies::create_reply_all),
        )
        .route(
            "/messages/{id}/createForward",
            post(replies::create_forward),
        )
        .route(
            "/messages/{id}/attachments",
            get(attachments::list).post(attachments::add),
        )
        .route(
            "/messages/{id}/attachments/{attachment}/$value",
            get(attachments::value),
        )
        .route(
            "/messages/{id}/attachments/createUploadSession",
            post(attachments::create_upload_session),
        )
        .route("/mailFolders", get(folders::list_top))
        .route("/mailFolders/{folder}", get(folders::get_folder))
        .route(
            "/mailFolders/{folder}/childFolders",
            get(folders::list_children),
        )
        .route("/mailFolders/{folder}/messages", get(mail::list_folder))
        .route("/mailFolders/{folder}/messages/delta", get(delta::delta))
}
