//! `GET /me/mailFolders`, `GET /me/mailFolders/{id}` and `GET /me/mailFolders/{id}/childFolders`:
//! the folder tree as Graph shows it, with counts, `$top`/`$skip` paging and `$select`.
//!
//! The mailbox root (`msgfolderroot`, "Top of Information Store") is not stored as a folder:
//! top-level folders have no parent in state and name the root's id in `parentFolderId`.

use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::odata;
use super::target::{FolderKey, Need, TargetMailbox};
use crate::errors::GraphError;
use crate::state::{Folder, Mailbox, Shared};

/// The scopes that let a caller read folders (Mail.ReadBasic is the least privileged).
pub const READ_SCOPES: [&str; 3] = ["mail.read", "mail.readwrite", "mail.readbasic"];

/// The well-known name of the mailbox root.
pub const ROOT_NAME: &str = "msgfolderroot";

/// A place in the folder tree: the root or a stored folder.
#[derive(Clone, Copy, Debug)]
pub enum Node<'a> {
    Root,
    Folder(&'a Folder),
}

impl<'a> Node<'a> {
    /// Resolves an id or well-known name, including the root's (`msgfolderroot`).
    pub fn locate(mailbox: &'a Mailbox, key: &str) -> Option<Self> {
        if key == mailbox.root_id || key.eq_ignore_ascii_case(ROOT_NAME) {
            return Some(Self::Root);
        }
        mailbox.folder(key).map(Self::Folder)
    }

    /// The `parent_id` its children carry in state (`None` for the root's).
    pub fn as_parent(self) -> Option<String> {
        match self {
            Self::Root => None,
            Self::Folder(f) => Some(f.id.clone()),
        }
    }

    fn id(self, mailbox: &Mailbox) -> String {
        match self {
            Self::Root => mailbox.root_id.clone(),
            Self::Folder(f) => f.id.clone(),
        }
    }
}

/// The folders directly under `parent`, in Graph's order (by display name).
pub fn children<'a>(mailbox: &'a Mailbox, parent: Node<'_>) -> Vec<&'a Folder> {
    let parent_id = parent.as_parent();
    let mut list: Vec<&Folder> = mailbox
        .folders
        .iter()
        .filter(|f| f.parent_id == parent_id)
        .collect();
    list.sort_by(|a, b| {
        a.display_name
            .to_lowercase()
            .cmp(&b.display_name.to_lowercase())
            .then_with(|| a.id.cmp(&b.id))
    });
    list
}

/// A `mailFolder` resource.
pub fn folder_json(mailbox: &Mailbox, node: Node<'_>) -> Value {
    let id = node.id(mailbox);
    let (display_name, parent_id) = match node {
        // The root's own parent is the (invisible) mailbox root; any stable id will do.
        Node::Root => (
            "Top of Information Store".to_owned(),
            mailbox.root_id.replacen("ROOT", "MBOX", 1),
        ),
        Node::Folder(f) => (
            f.display_name.clone(),
            f.parent_id
                .clone()
                .unwrap_or_else(|| mailbox.root_id.clone()),
        ),
    };
    let in_folder = mailbox.messages.iter().filter(|m| m.folder_id == id);
    let total = in_folder.clone().count();
    let unread = in_folder.filter(|m| !m.is_read).count();
    json!({
        "id": id,
        "displayName": display_name,
        "parentFolderId": parent_id,
        "childFolderCount": children(mailbox, node).len(),
        "unreadItemCount": unread,
        "totalItemCount": total,
        "isHidden": false,
    })
}

/// `GET /me/mailFolders`: the root's children.
pub async fn list_top(
    target: TargetMailbox,
    State(shared): State<Shared>,
    RawQuery(query): RawQuery,
) -> Result<Response, GraphError> {
    list(&target, &shared, None, query.as_deref())
}

/// `GET /me/mailFolders/{id}/childFolders`.
pub async fn list_children(
    target: TargetMailbox,
    State(shared): State<Shared>,
    Path(FolderKey { folder }): Path<FolderKey>,
    RawQuery(query): RawQuery,
) -> Result<Response, GraphError> {
    list(&target, &shared, Some(&folder), query.as_deref())
}

/// `GET /me/mailFolders/{id}` (an id or a well-known name, `msgfolderroot` included).
pub async fn get_folder(
    target: TargetMailbox,
    State(shared): State<Shared>,
    Path(FolderKey { folder }): Path<FolderKey>,
    RawQuery(query): RawQuery,
) -> Result<Response, GraphError> {
    target.require(Need::ReadBasic)?;
    let q = odata::query_map(query.as_deref());
    let base = shared.graph_base();
    let mut store = shared.lock();
    let mailbox = store.mailbox_mut(target.oid());
    let node = Node::locate(mailbox, &folder).ok_or_else(GraphError::not_found)?;
    let value = odata::select(
        folder_json(mailbox, node),
        q.get("$select").map(String::as_str),
    );
    let mut body = json!({
        "@odata.context": format!(
            "{base}/$metadata#users('{}')/mailFolders/$entity",
            target.oid()
        ),
    });
    if let (Some(out), Value::Object(fields)) = (body.as_object_mut(), value) {
        out.extend(fields);
    }
    Ok(Json(body).into_response())
}

/// One page of a folder's children (`parent` `None`: the top level). `includeHiddenFolders` is
/// accepted and changes nothing: the stand-in has no hidden folders.
fn list(
    target: &TargetMailbox,
    shared: &Shared,
    parent: Option<&str>,
    query: Option<&str>,
) -> Result<Response, GraphError> {
    target.require(Need::ReadBasic)?;
    let q = odata::query_map(query);
    let (top, skip) = odata::paging(&q)?;
    let select = q.get("$select").map(String::as_str);
    let base = shared.graph_base();
    let oid = target.oid();
    let path = &target.path;
    let mut store = shared.lock();
    let mailbox = store.mailbox_mut(oid);
    let node = match parent {
        Some(key) => Node::locate(mailbox, key).ok_or_else(GraphError::not_found)?,
        None => Node::Root,
    };
    let all = children(mailbox, node);
    let page: Vec<Value> = all
        .iter()
        .skip(skip)
        .take(top)
        .map(|f| odata::select(folder_json(mailbox, Node::Folder(f)), select))
        .collect();
    let (path, context) = match parent {
        Some(key) => (
            format!("{base}/{path}/mailFolders/{key}/childFolders"),
            format!(
                "{base}/$metadata#users('{oid}')/mailFolders('{}')/childFolders",
                node.id(mailbox)
            ),
        ),
        None => (
            format!("{base}/{path}/mailFolders"),
            format!("{base}/$metadata#users('{oid}')/mailFolders"),
        ),
    };
    let mut body = json!({ "@odata.context": context, "value": page });
    if skip + top < all.len() {
        let link = odata::next_link(&path, &q, &["$select", "includeHiddenFolders"], top, skip);
        if let Some(obj) = body.as_object_mut() {
            obj.insert("@odata.nextLink".to_owned(), Value::from(link));
        }
    }
    Ok(Json(body).into_response())
}
