//! A mailbox's folder tree, for the folder picker: `GET /me/mailFolders`
//! gives only the root's children (10 a page unless asked for more), so each
//! folder with children is listed in turn through `…/childFolders`.
use super::{read_json, GraphClient, GraphError};
use crate::identity::AccessToken;
use reqwest::Method;
use std::collections::HashMap;
use url::Url;

/// Folders past this many are left out: a picker of thousands helps nobody,
/// and each level is a request.
pub const MAX_FOLDERS: usize = 500;
/// Nesting deeper than this is not followed.
pub const MAX_DEPTH: usize = 8;
/// Pages of one folder's children read at most.
const MAX_PAGES: usize = 20;

const FOLDER_SELECT: &str = "id,displayName,childFolderCount";

/// One folder, in the tree's order (each folder before its children).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folder {
    pub id: String,
    pub name: String,
    /// The names from the top, e.g. `["Inbox", "Tickets"]`.
    pub path: Vec<String>,
}

impl GraphClient {
    /// Every folder of the mailbox, each followed by its children, names as
    /// Outlook shows them; at most [`MAX_FOLDERS`]. The second value says
    /// whether any were left out.
    pub async fn mail_folders(
        &self,
        token: &AccessToken,
    ) -> Result<(Vec<Folder>, bool), GraphError> {
        // Listed level by level; each folder's children kept under its id.
        let mut children: HashMap<Option<String>, Vec<(String, String)>> = HashMap::new();
        let mut level: Vec<(Option<String>, usize)> = vec![(None, 0)];
        let (mut count, mut truncated) = (0usize, false);
        while !level.is_empty() {
            let mut next = Vec::new();
            for (parent, depth) in level {
                // Enough listed: no more requests.
                if count >= MAX_FOLDERS {
                    truncated = true;
                    break;
                }
                let mut listed = Vec::new();
                for (id, name, has_children) in self.children(token, parent.as_deref()).await? {
                    if count >= MAX_FOLDERS {
                        truncated = true;
                        break;
                    }
                    count += 1;
                    if has_children {
                        if depth + 1 < MAX_DEPTH {
                            next.push((Some(id.clone()), depth + 1));
                        } else {
                            truncated = true;
                        }
                    }
                    listed.push((id, name));
                }
                children.insert(parent, listed);
            }
            level = next;
        }
        let mut out = Vec::with_capacity(count);
        emit(&children, None, &[], &mut out);
        Ok((out, truncated))
    }

    /// (id, display name, has children) of `parent`'s children (the root's when `None`).
    async fn children(
        &self,
        token: &AccessToken,
        parent: Option<&str>,
    ) -> Result<Vec<(String, String, bool)>, GraphError> {
        let mut url: Url = match parent {
            None => self.url(token, &["me", "mailFolders"])?,
            Some(id) => self.url(token, &["me", "mailFolders", id, "childFolders"])?,
        };
        url.set_query(Some(&format!("$top=100&$select={FOLDER_SELECT}")));
        let mut out = Vec::new();
        for _ in 0..MAX_PAGES {
            let body = read_json(
                self.execute(self.authorized(Method::GET, url, token))
                    .await?,
            )
            .await?;
            for f in body["value"].as_array().into_iter().flatten() {
                if let (Some(id), Some(name)) = (f["id"].as_str(), f["displayName"].as_str()) {
                    let has_children = f["childFolderCount"].as_u64().unwrap_or(0) > 0;
                    out.push((id.to_owned(), name.to_owned(), has_children));
                }
            }
            match body["@odata.nextLink"].as_str() {
                Some(next) => url = self.same_graph(token, next)?,
                None => return Ok(out),
            }
        }
        Ok(out)
    }
}

/// Depth first: each folder, then its children, siblings in Graph's order.
fn emit(
    children: &HashMap<Option<String>, Vec<(String, String)>>,
    parent: Option<String>,
    path: &[String],
    out: &mut Vec<Folder>,
) {
    // A folder that names an ancestor as its child must not loop.
    if path.len() >= MAX_DEPTH {
        return;
    }
    for (id, name) in children.get(&parent).into_iter().flatten() {
        let mut folder_path = path.to_vec();
        folder_path.push(name.clone());
        out.push(Folder {
            id: id.clone(),
            name: name.clone(),
            path: folder_path.clone(),
        });
        emit(children, Some(id.clone()), &folder_path, out);
    }
}
