//! Control: shared mailboxes and the mailbox permissions (Full Access, Send As) that let a
//! delegate open another mailbox through `/users/{id}`.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::{control, reply, Control, ControlError};
use crate::model::{MailboxPermission, NewUser, User};
use crate::state::Shared;

impl Control {
    /// Adds a shared mailbox: a user that cannot sign in (no browser session, no tokens of its
    /// own); delegates reach it through `/users/{id|upn|mail}/…` with the permissions
    /// [`Control::set_mailbox_permission`] gives them.
    pub fn add_shared_mailbox(&self, new: NewUser) -> Result<User, ControlError> {
        self.create_user(new, true)
    }

    /// Sets what `delegate` may do in `mailbox` (each a UPN, mail or oid), as Exchange's
    /// `Add-MailboxPermission -AccessRights FullAccess` and `Add-RecipientPermission
    /// -AccessRights SendAs` do; both false removes them. Takes effect at once.
    pub fn set_mailbox_permission(
        &self,
        mailbox: &str,
        delegate: &str,
        permission: MailboxPermission,
    ) -> Result<(), ControlError> {
        let mut store = self.shared.lock();
        let oid = |key: &str| {
            store
                .find_user(key)
                .map(|u| u.oid.clone())
                .ok_or_else(|| ControlError::UnknownUser(key.to_owned()))
        };
        let key = (oid(mailbox)?, oid(delegate)?);
        if permission == MailboxPermission::default() {
            store.mailbox_permissions.remove(&key);
        } else {
            store.mailbox_permissions.insert(key, permission);
        }
        Ok(())
    }

    /// What `delegate` may do in `mailbox` (nothing unless set).
    pub fn mailbox_permission(
        &self,
        mailbox: &str,
        delegate: &str,
    ) -> Result<MailboxPermission, ControlError> {
        let store = self.shared.lock();
        let oid = |key: &str| {
            store
                .find_user(key)
                .map(|u| u.oid.clone())
                .ok_or_else(|| ControlError::UnknownUser(key.to_owned()))
        };
        Ok(store.mailbox_permission(&oid(mailbox)?, &oid(delegate)?))
    }
}

/// `POST /users`: a [`NewUser`], and `"shared": true` for a shared mailbox.
#[derive(Deserialize)]
struct NewMailbox {
    #[serde(flatten)]
    user: NewUser,
    #[serde(default)]
    shared: bool,
}

pub fn router() -> Router<Shared> {
    Router::new()
        .route("/_stand-in/users", post(add_user))
        .route(
            "/_stand-in/users/{user}/permissions/{delegate}",
            put(set_permission).get(get_permission),
        )
}

async fn add_user(State(s): State<Shared>, Json(body): Json<NewMailbox>) -> Response {
    let c = control(s);
    reply(if body.shared {
        c.add_shared_mailbox(body.user)
    } else {
        c.add_user(body.user)
    })
}

async fn set_permission(
    State(s): State<Shared>,
    Path((mailbox, delegate)): Path<(String, String)>,
    Json(body): Json<MailboxPermission>,
) -> Response {
    reply(
        control(s)
            .set_mailbox_permission(&mailbox, &delegate, body)
            .map(|()| json!({})),
    )
}

async fn get_permission(
    State(s): State<Shared>,
    Path((mailbox, delegate)): Path<(String, String)>,
) -> Response {
    reply(control(s).mailbox_permission(&mailbox, &delegate))
}
