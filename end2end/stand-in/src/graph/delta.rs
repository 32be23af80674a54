//! `GET /me/mailFolders/{folder}/messages/delta`: rounds of pages (`@odata.nextLink`) ending in an
//! `@odata.deltaLink`; later rounds return changes and `@removed` entries; expired state → 410.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde_json::{json, Value};

use super::odata;
use super::target::{FolderKey, Need, TargetMailbox};
use crate::errors::GraphError;
use crate::state::{random_token, DeltaItem, DeltaPage, DeltaToken, Shared};

/// Page size without `Prefer: odata.maxpagesize`.
pub const DEFAULT_PAGE_SIZE: usize = 10;

fn gone() -> GraphError {
    GraphError::new(
        StatusCode::GONE,
        "syncStateNotFound",
        "The sync state is not found or has expired. Please do a full synchronization again (resyncRequired).",
    )
}

pub async fn delta(
    target: TargetMailbox,
    State(shared): State<Shared>,
    Path(FolderKey { folder }): Path<FolderKey>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<axum::response::Response, GraphError> {
    target.require(Need::ReadBasic)?;
    let q = odata::query_map(query.as_deref());
    let page_size = odata::max_page_size(&headers).unwrap_or(DEFAULT_PAGE_SIZE);
    let immutable = odata::wants_immutable(&headers);
    let base = shared.graph_base();
    let oid = target.owner.oid.clone();
    let mut store = shared.lock();
    let mailbox = store.mailbox_mut(&oid);
    let folder_id = mailbox
        .folder(&folder)
        .map(|f| f.id.clone())
        .ok_or_else(GraphError::not_found)?;
    let generation = mailbox.delta_generation;
    let upto = mailbox.seq;

    let round = if let Some(skip) = q.get("$skiptoken") {
        let page = store.delta_pages.remove(skip).ok_or_else(gone)?;
        if page.generation != generation || page.folder_id != folder_id {
            return Err(gone());
        }
        page
    } else {
        let (since, select) = match q.get("$deltatoken") {
            Some(token) => {
                let state = store.delta_tokens.get(token).cloned().ok_or_else(gone)?;
                if state.generation != generation || state.folder_id != folder_id {
                    return Err(gone());
                }
                (Some(state.since), state.select)
            }
            None => (None, q.get("$select").cloned()),
        };
        let mailbox = store.mailbox_mut(&oid);
        let mut changed: Vec<(u64, DeltaItem)> = mailbox
            .messages
            .iter()
            .filter(|m| m.folder_id == folder_id && since.is_none_or(|s| m.change_seq > s))
            .map(|m| (m.change_seq, DeltaItem::Changed(m.immutable_id.clone())))
            .collect();
        if let Some(since) = since {
            for r in mailbox
                .removals
                .iter()
                .filter(|r| r.folder_id == folder_id && r.seq > since)
            {
                let back_in_folder = mailbox
                    .messages
                    .iter()
                    .any(|m| m.immutable_id == r.immutable_id && m.folder_id == folder_id);
                if !back_in_folder {
                    changed.push((
                        r.seq,
                        DeltaItem::Removed {
                            immutable_id: r.immutable_id.clone(),
                            rest_id: r.rest_id.clone(),
                        },
                    ));
                }
            }
        }
        changed.sort_by_key(|(seq, _)| *seq);
        DeltaPage {
            folder_id: folder_id.clone(),
            remaining: changed.into_iter().map(|(_, item)| item).collect(),
            upto,
            generation,
            select,
        }
    };

    let mut remaining = round.remaining;
    let rest = remaining.split_off(remaining.len().min(page_size));
    let mailbox = store.mailbox_mut(&oid);
    let value: Vec<Value> =
        remaining
            .iter()
            .filter_map(|item| match item {
                DeltaItem::Changed(id) => mailbox
                    .messages
                    .iter()
                    .find(|m| m.immutable_id == *id)
                    .map(|m| {
                        let mut value = odata::select(
                            odata::message_json(m, immutable, &base),
                            round.select.as_deref(),
                        );
                        // Delta does not carry a message's headers: they
                        // are read one message at a time.
                        if let Some(obj) = value.as_object_mut() {
                            obj.remove("internetMessageHeaders");
                        }
                        value
                    }),
                DeltaItem::Removed {
                    immutable_id,
                    rest_id,
                } => Some(json!({
                    "@odata.type": "#microsoft.graph.message",
                    "id": if immutable { immutable_id } else { rest_id },
                    "@removed": {"reason": "deleted"},
                })),
            })
            .collect();
    let link_base = format!("{base}/{}/mailFolders/{folder}/messages/delta", target.path);
    let mut body = json!({
        "@odata.context": format!("{base}/$metadata#Collection(message)"),
        "value": value,
    });
    let (key, link) = if rest.is_empty() {
        let token = random_token("dt");
        store.delta_tokens.insert(
            token.clone(),
            DeltaToken {
                folder_id: round.folder_id,
                since: round.upto,
                generation: round.generation,
                select: round.select,
            },
        );
        (
            "@odata.deltaLink",
            format!("{link_base}?$deltatoken={token}"),
        )
    } else {
        let token = random_token("st");
        store.delta_pages.insert(
            token.clone(),
            DeltaPage {
                remaining: rest,
                ..round
            },
        );
        ("@odata.nextLink", format!("{link_base}?$skiptoken={token}"))
    };
    if let Some(obj) = body.as_object_mut() {
        obj.insert(key.to_owned(), Value::from(link));
    }
    Ok(Json(body).into_response())
}
