//! Which mailbox a Graph request acts on (`/me/…` or `/users/{id|userPrincipalName|mail}/…`) and
//! what the caller may do there. The gate resolves it once per request (before limits, which are
//! per app per mailbox) and handlers take it as a [`TargetMailbox`] extractor, so `/me` and `/users`
//! share every handler.
//!
//! Access, as Microsoft documents it:
//! - a delegated token on its own mailbox (`/me` or `/users/{self}`): the user's mail scopes;
//! - a delegated token on another mailbox (a shared one, or a colleague's): the `.Shared` scopes
//!   *and* Full Access on that mailbox; sending also Send As (else `ErrorSendAsDenied`);
//! - an app-only token: `/me` is a 400; any mailbox of the app's tenant with the application
//!   permissions granted, within the app's application access policy.

use std::collections::BTreeSet;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;
use serde::Deserialize;

use super::Caller;
use crate::errors::GraphError;
use crate::model::{MailboxPermission, User};
use crate::state::State as Store;

/// What an operation does to a mailbox, for the permission it needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// List and get messages and folders, delta (`Mail.ReadBasic` is enough).
    ReadBasic,
    /// Read content such as attachments (`Mail.Read`).
    Read,
    /// Create, change, move or delete (`Mail.ReadWrite`).
    Write,
    /// Send (`Mail.Send`).
    Send,
}

/// How the caller reaches the mailbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Access {
    /// A delegated token on the signed-in user's own mailbox.
    Own,
    /// A delegated token on someone else's mailbox, with the rights its owner gave the user.
    Delegate(MailboxPermission),
    /// An app-only token; `in_policy`: the app's application access policy covers the mailbox.
    App { in_policy: bool },
}

/// The mailbox a request acts on.
#[derive(Clone, Debug)]
pub struct TargetMailbox {
    pub owner: User,
    /// `me` or `users/{key}` as the request named it: links and `Location`s repeat it.
    pub path: String,
    pub access: Access,
    /// The token's permissions (delegated scopes or application roles), lower-cased.
    scopes: BTreeSet<String>,
}

impl TargetMailbox {
    pub fn oid(&self) -> &str {
        &self.owner.oid
    }

    /// 403 unless the token and the caller's rights on this mailbox allow `need`: first the
    /// permission (`ErrorAccessDenied`), then the mailbox right (Full Access for delegates,
    /// the access policy for apps), then Send As for a delegate's send (`ErrorSendAsDenied`).
    pub fn require(&self, need: Need) -> Result<(), GraphError> {
        if !permissions(&self.access, need)
            .iter()
            .any(|p| self.scopes.contains(*p))
        {
            return Err(GraphError::access_denied());
        }
        match &self.access {
            Access::Own => Ok(()),
            Access::Delegate(rights) if !rights.full_access => Err(GraphError::access_denied()),
            Access::Delegate(rights) if need == Need::Send && !rights.send_as => {
                Err(send_as_denied())
            }
            Access::Delegate(_) => Ok(()),
            Access::App { in_policy: true } => Ok(()),
            Access::App { in_policy: false } => Err(outside_access_policy()),
        }
    }
}

/// The permissions (any one suffices) an operation needs, by how the mailbox is reached.
/// `.Shared` scopes cover the user's own mailbox too, as Microsoft defines them.
fn permissions(access: &Access, need: Need) -> &'static [&'static str] {
    match (access, need) {
        (Access::Own, Need::ReadBasic) => &[
            "mail.readbasic",
            "mail.read",
            "mail.readwrite",
            "mail.readbasic.shared",
            "mail.read.shared",
            "mail.readwrite.shared",
        ],
        (Access::Own, Need::Read) => &[
            "mail.read",
            "mail.readwrite",
            "mail.read.shared",
            "mail.readwrite.shared",
        ],
        (Access::Own, Need::Write) => &["mail.readwrite", "mail.readwrite.shared"],
        (Access::Own, Need::Send) => &["mail.send", "mail.send.shared"],
        (Access::Delegate(_), Need::ReadBasic) => &[
            "mail.readbasic.shared",
            "mail.read.shared",
            "mail.readwrite.shared",
        ],
        (Access::Delegate(_), Need::Read) => &["mail.read.shared", "mail.readwrite.shared"],
        (Access::Delegate(_), Need::Write) => &["mail.readwrite.shared"],
        (Access::Delegate(_), Need::Send) => &["mail.send.shared"],
        (Access::App { .. }, Need::ReadBasic) => &[
            "mail.readbasic.all",
            "mail.readbasic",
            "mail.read",
            "mail.readwrite",
        ],
        (Access::App { .. }, Need::Read) => &["mail.read", "mail.readwrite"],
        (Access::App { .. }, Need::Write) => &["mail.readwrite"],
        (Access::App { .. }, Need::Send) => &["mail.send"],
    }
}

/// 400 for `/me` with an app-only token (field reports' wording).
pub fn me_needs_delegated() -> GraphError {
    GraphError::bad_request(
        "BadRequest",
        "/me request is only valid with delegated authentication flow.",
    )
}

/// 404 for a mailbox path naming no user of the caller's tenant (Exchange's answer).
pub fn invalid_user(key: &str) -> GraphError {
    GraphError::new(
        StatusCode::NOT_FOUND,
        "ErrorInvalidUser",
        format!("The requested user '{key}' is invalid."),
    )
}

/// 404 for `GET /users/{key}` naming no user of the caller's tenant (the directory's answer).
pub fn user_not_found(key: &str) -> GraphError {
    GraphError::new(
        StatusCode::NOT_FOUND,
        "Request_ResourceNotFound",
        format!("Resource '{key}' does not exist or one of its queried reference-property objects are not present."),
    )
}

/// 403 for an app-only token outside its application access policy.
pub fn outside_access_policy() -> GraphError {
    GraphError::new(
        StatusCode::FORBIDDEN,
        "ErrorAccessDenied",
        "Access to OData is disabled.",
    )
}

/// 403 for a delegate without Send As on the mailbox it sends from.
pub fn send_as_denied() -> GraphError {
    GraphError::new(
        StatusCode::FORBIDDEN,
        "ErrorSendAsDenied",
        "The user account which was used to submit this request does not have the right to send mail on behalf of the specified sending account., Cannot submit message.",
    )
}

/// The mailbox `key` names (`me`, or an object id, UPN or mail) as `caller` reaches it; `None`
/// when no user of the caller's tenant has that key. Users are found exactly by id and
/// case-insensitively by UPN or mail.
pub fn open(
    store: &Store,
    caller: &Caller,
    key: &str,
) -> Result<Option<TargetMailbox>, GraphError> {
    let me = key.eq_ignore_ascii_case("me");
    let (owner, access) = match (&caller.user, me) {
        (None, true) => return Err(me_needs_delegated()),
        (Some(user), true) => (user.clone(), Access::Own),
        (signed_in, false) => {
            let Some(owner) = store.find_user_in(&caller.tenant_id, key).cloned() else {
                return Ok(None);
            };
            let access = match signed_in {
                Some(user) if user.oid == owner.oid => Access::Own,
                Some(user) => Access::Delegate(store.mailbox_permission(&owner.oid, &user.oid)),
                None => Access::App {
                    in_policy: store
                        .app(&caller.client_id)
                        .and_then(|app| app.access_policy.as_ref())
                        .is_none_or(|allowed| allowed.contains(&owner.mailbox_key())),
                },
            };
            (owner, access)
        }
    };
    Ok(Some(TargetMailbox {
        owner,
        path: if me {
            "me".to_owned()
        } else {
            format!("users/{key}")
        },
        access,
        scopes: caller.scopes.clone(),
    }))
}

/// The mailbox a request path names: `/v1.0/me…` or `/v1.0/users/{key}…`; `Ok(None)` for other
/// paths. An unknown user is a 404: `Request_ResourceNotFound` for the user itself,
/// `ErrorInvalidUser` for its mail.
pub fn resolve(
    store: &Store,
    caller: &Caller,
    path: &str,
) -> Result<Option<TargetMailbox>, GraphError> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match segments.as_slice() {
        ["v1.0", "me", ..] => open(store, caller, "me"),
        ["v1.0", "users", key, rest @ ..] => {
            let key = percent_decode(key);
            match open(store, caller, &key)? {
                Some(mailbox) => Ok(Some(mailbox)),
                None if rest.is_empty() => Err(user_not_found(&key)),
                None => Err(invalid_user(&key)),
            }
        }
        _ => Ok(None),
    }
}

/// Decodes `%XX` escapes of a path segment (`a%40contoso.com` → `a@contoso.com`).
fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = bytes
            .get(i + 1..i + 3)
            .filter(|_| bytes[i] == b'%')
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl<S: Send + Sync> FromRequestParts<S> for TargetMailbox {
    type Rejection = GraphError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<TargetMailbox>()
            .cloned()
            .ok_or_else(|| {
                GraphError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "generalException",
                    "The stand-in resolved no mailbox for this request.",
                )
            })
    }
}

/// `{id}` of a message route. Mailbox routes are nested under `/users/{user}` as well as `/me`,
/// so handlers take their path parameters by name.
#[derive(Deserialize)]
pub struct MessageKey {
    pub id: String,
}

/// `{folder}` of a folder route.
#[derive(Deserialize)]
pub struct FolderKey {
    pub folder: String,
}

/// `{id}` and `{attachment}` of an attachment route.
#[derive(Deserialize)]
pub struct AttachmentKey {
    pub id: String,
    pub attachment: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_escaped_path_segments() {
        assert_eq!(percent_decode("a%40contoso.com"), "a@contoso.com");
        assert_eq!(percent_decode("plain"), "plain");
        assert_eq!(percent_decode("bad%4"), "bad%4");
        assert_eq!(percent_decode("x%2By"), "x+y");
    }

    #[test]
    fn delegates_need_shared_scopes_and_apps_their_roles() {
        let own = permissions(&Access::Own, Need::Write);
        assert!(own.contains(&"mail.readwrite"));
        let delegate = permissions(&Access::Delegate(MailboxPermission::default()), Need::Write);
        assert_eq!(delegate, &["mail.readwrite.shared"]);
        let app = permissions(&Access::App { in_policy: true }, Need::Send);
        assert_eq!(app, &["mail.send"]);
    }
}
