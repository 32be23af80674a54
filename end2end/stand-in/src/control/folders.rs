//! Control: folders a user created (the well-known ones exist from the start), so tests can
//! deliver or move mail into them and see them in `GET /me/mailFolders`.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::{control, reply, Control, ControlError};
use crate::graph::folders::Node;
use crate::state::{Folder, Shared};

impl Control {
    /// Creates a folder named `display_name` under `parent` (an id or well-known name; `None` or
    /// `msgfolderroot`: the top level); returns its id. Like Exchange, it refuses a second
    /// folder of the same name (case-insensitive) under one parent.
    pub fn add_folder(
        &self,
        user: &str,
        display_name: &str,
        parent: Option<&str>,
    ) -> Result<String, ControlError> {
        let mut store = self.shared.lock();
        let oid = store
            .find_user(user)
            .map(|u| u.oid.clone())
            .ok_or_else(|| ControlError::UnknownUser(user.to_owned()))?;
        let mailbox = store.mailbox_mut(&oid);
        let parent_id = match parent {
            None => None,
            Some(key) => Node::locate(mailbox, key)
                .ok_or_else(|| ControlError::UnknownFolder(key.to_owned()))?
                .as_parent(),
        };
        if mailbox
            .folders
            .iter()
            .any(|f| f.parent_id == parent_id && f.display_name.eq_ignore_ascii_case(display_name))
        {
            return Err(ControlError::Conflict(format!("folder {display_name}")));
        }
        let id = store.next_graph_id("FLDR");
        store.mailbox_mut(&oid).folders.push(Folder {
            id: id.clone(),
            well_known: String::new(),
            display_name: display_name.to_owned(),
            parent_id,
        });
        Ok(id)
    }
}

#[derive(Deserialize)]
struct NewFolder {
    display_name: String,
    #[serde(default)]
    parent: Option<String>,
}

pub fn router() -> Router<Shared> {
    Router::new().route("/_stand-in/users/{user}/folders", post(add_folder))
}

async fn add_folder(
    State(s): State<Shared>,
    Path(user): Path<String>,
    Json(body): Json<NewFolder>,
) -> Response {
    reply(
        control(s)
            .add_folder(&user, &body.display_name, body.parent.as_deref())
            .map(|id| json!({ "id": id })),
    )
}
