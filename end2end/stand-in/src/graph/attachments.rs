//! Attachments: list, add inline (≤ 3 MB), and upload sessions (3–150 MB, sequential ≤ 4 MB chunks).

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use super::mail::{decode_attachment, parse_json, AttachmentInput};
use super::odata;
use super::target::{AttachmentKey, MessageKey, Need, TargetMailbox};
use crate::errors::GraphError;
use crate::state::{random_token, Attachment, Shared, UploadSession};
use crate::timefmt;

/// Largest attachment through an upload session.
pub const UPLOAD_LIMIT: u64 = 150 * 1024 * 1024;
/// Largest chunk per PUT.
pub const CHUNK_LIMIT: usize = 4 * 1024 * 1024;
/// How long an upload URL stays valid (seconds).
pub const UPLOAD_SECONDS: i64 = 900;

type GraphResult = Result<Response, GraphError>;

/// `GET …/attachments`: every attachment with its `contentBytes`, unless
/// `$select` leaves them out (as Graph does).
pub async fn list(
    target: TargetMailbox,
    State(shared): State<Shared>,
    Path(MessageKey { id }): Path<MessageKey>,
    RawQuery(query): RawQuery,
) -> GraphResult {
    target.require(Need::Read)?;
    let q = odata::query_map(query.as_deref());
    let select = q.get("$select").map(String::as_str);
    // Encoded only when asked for: a 35 MB file is 47 MB of base64.
    let with_content = select.is_none_or(|s| s.to_ascii_lowercase().contains("contentbytes"));
    let mut store = shared.lock();
    let mailbox = store.mailbox_mut(target.oid());
    let index = mailbox
        .message_index(&id)
        .ok_or_else(GraphError::not_found)?;
    let m = mailbox
        .messages
        .get(index)
        .ok_or_else(GraphError::not_found)?;
    let value: Vec<_> = m
        .attachments
        .iter()
        .map(|a| odata::select(odata::attachment_json(a, m.modified, with_content), select))
        .collect();
    Ok(Json(json!({ "value": value })).into_response())
}

/// `GET …/attachments/{aid}/$value`: the file's raw bytes.
pub async fn value(
    target: TargetMailbox,
    State(shared): State<Shared>,
    Path(AttachmentKey {
        id,
        attachment: attachment_id,
    }): Path<AttachmentKey>,
) -> GraphResult {
    target.require(Need::Read)?;
    let (content_type, bytes) = {
        let mut store = shared.lock();
        let mailbox = store.mailbox_mut(target.oid());
        let index = mailbox
            .message_index(&id)
            .ok_or_else(GraphError::not_found)?;
        let a = mailbox
            .messages
            .get(index)
            .and_then(|m| m.attachments.iter().find(|a| a.id == attachment_id))
            .ok_or_else(GraphError::not_found)?;
        (a.content_type.clone(), a.bytes.clone())
    };
    // Shared bytes: serving a large file copies nothing.
    Ok(([(header::CONTENT_TYPE, content_type)], bytes).into_response())
}

pub async fn add(
    target: TargetMailbox,
    State(shared): State<Shared>,
    Path(MessageKey { id }): Path<MessageKey>,
    body: Bytes,
) -> GraphResult {
    target.require(Need::Write)?;
    let input: AttachmentInput = parse_json(&body)?;
    let now = shared.now();
    let mut store = shared.lock();
    let attachment = decode_attachment(&mut store, &input)?;
    let mailbox = store.mailbox_mut(target.oid());
    let index = mailbox
        .message_index(&id)
        .ok_or_else(GraphError::not_found)?;
    let seq = mailbox.bump();
    let m = mailbox
        .messages
        .get_mut(index)
        .ok_or_else(GraphError::not_found)?;
    m.attachments.push(attachment.clone());
    m.change_seq = seq;
    m.modified = now;
    Ok((
        StatusCode::CREATED,
        Json(odata::attachment_json(&attachment, now, false)),
    )
        .into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AttachmentItem {
    #[serde(default)]
    attachment_type: Option<String>,
    name: Option<String>,
    size: Option<u64>,
    #[serde(default)]
    content_type: Option<String>,
    #[serde(default)]
    is_inline: Option<bool>,
}

#[derive(Deserialize)]
struct UploadInput {
    #[serde(rename = "AttachmentItem", alias = "attachmentItem")]
    attachment_item: Option<AttachmentItem>,
}

pub async fn create_upload_session(
    target: TargetMailbox,
    State(shared): State<Shared>,
    Path(MessageKey { id }): Path<MessageKey>,
    body: Bytes,
) -> GraphResult {
    target.require(Need::Write)?;
    let input: UploadInput = parse_json(&body)?;
    let item = input.attachment_item.ok_or_else(|| {
        GraphError::bad_request(
            "ErrorInvalidParameter",
            "The AttachmentItem parameter is required.",
        )
    })?;
    if item
        .attachment_type
        .as_deref()
        .is_some_and(|t| !t.eq_ignore_ascii_case("file"))
    {
        return Err(GraphError::bad_request(
            "ErrorInvalidParameter",
            "Only attachmentType 'file' is supported.",
        ));
    }
    let size = item.size.filter(|s| *s > 0).ok_or_else(|| {
        GraphError::bad_request("ErrorInvalidParameter", "The attachment size is required.")
    })?;
    if size > UPLOAD_LIMIT {
        return Err(GraphError::bad_request(
            "ErrorAttachmentSizeLimitExceeded",
            "The attachment exceeds the 150 MB limit.",
        ));
    }
    let now = shared.now();
    let mut store = shared.lock();
    let mailbox = store.mailbox_mut(target.oid());
    let index = mailbox
        .message_index(&id)
        .ok_or_else(GraphError::not_found)?;
    let immutable_id = mailbox
        .messages
        .get(index)
        .map(|m| m.immutable_id.clone())
        .ok_or_else(GraphError::not_found)?;
    let token = random_token("up");
    store.uploads.insert(
        token.clone(),
        UploadSession {
            message_immutable_id: immutable_id,
            owner_oid: target.owner.oid.clone(),
            mailbox_path: target.path.clone(),
            name: item.name.unwrap_or_else(|| "attachment".to_owned()),
            content_type: item
                .content_type
                .unwrap_or_else(|| "application/octet-stream".to_owned()),
            size,
            received: Vec::new(),
            expires_at: now + UPLOAD_SECONDS,
            is_inline: item.is_inline.unwrap_or(false),
        },
    );
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "@odata.context": format!("{}/$metadata#microsoft.graph.uploadSession", shared.graph_base()),
            "uploadUrl": format!("{}/upload/{token}", shared.base),
            "expirationDateTime": timefmt::iso(now + UPLOAD_SECONDS),
            "nextExpectedRanges": ["0-"],
        })),
    )
        .into_response())
}

fn invalid_range(message: &str) -> GraphError {
    GraphError::bad_request("InvalidRange", message)
}

/// `Content-Range: bytes START-END/TOTAL`.
fn content_range(headers: &HeaderMap) -> Option<(u64, u64, u64)> {
    let text = headers.get(header::CONTENT_RANGE)?.to_str().ok()?;
    let rest = text.trim().strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let (start, end) = range.split_once('-')?;
    Some((start.parse().ok()?, end.parse().ok()?, total.parse().ok()?))
}

/// `PUT {uploadUrl}`: no `Authorization` header (the URL is the credential), sequential chunks.
pub async fn upload_chunk(
    State(shared): State<Shared>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> GraphResult {
    if headers.contains_key(header::AUTHORIZATION) {
        return Err(GraphError::new(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            "Do not send an Authorization header to an upload URL.",
        ));
    }
    let now = shared.now();
    let mut store = shared.lock();
    let session = store
        .uploads
        .get(&token)
        .filter(|s| s.expires_at > now)
        .cloned()
        .ok_or_else(GraphError::not_found)?;
    let (start, end, total) = content_range(&headers)
        .ok_or_else(|| invalid_range("A valid Content-Range header is required."))?;
    if body.len() > CHUNK_LIMIT {
        return Err(invalid_range("Each chunk must be at most 4 MB."));
    }
    if total != session.size
        || start != session.received.len() as u64
        || end < start
        || end - start + 1 != body.len() as u64
        || end >= total
    {
        return Err(invalid_range(&format!(
            "The Content-Range does not match the next expected range {}-.",
            session.received.len()
        )));
    }
    let mut received = session.received.clone();
    received.extend_from_slice(&body);
    if (received.len() as u64) < session.size {
        let next = received.len();
        if let Some(s) = store.uploads.get_mut(&token) {
            s.received = received;
        }
        return Ok(Json(json!({
            "expirationDateTime": timefmt::iso(session.expires_at),
            "nextExpectedRanges": [format!("{next}-")],
        }))
        .into_response());
    }
    store.uploads.remove(&token);
    let attachment_id = store.next_graph_id("ATT");
    let mailbox = store.mailbox_mut(&session.owner_oid);
    let index = mailbox
        .message_index(&session.message_immutable_id)
        .ok_or_else(GraphError::not_found)?;
    let seq = mailbox.bump();
    let m = mailbox
        .messages
        .get_mut(index)
        .ok_or_else(GraphError::not_found)?;
    m.attachments.push(Attachment {
        id: attachment_id.clone(),
        name: session.name,
        content_type: session.content_type,
        bytes: received.into(),
        is_inline: session.is_inline,
        content_id: None,
        is_item: false,
    });
    m.change_seq = seq;
    m.modified = now;
    let location = format!(
        "{}/{}/messages/{}/attachments/{attachment_id}",
        shared.graph_base(),
        session.mailbox_path,
        session.message_immutable_id
    );
    Ok((StatusCode::CREATED, [(header::LOCATION, location)]).into_response())
}
