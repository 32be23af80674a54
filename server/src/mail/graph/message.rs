//! The Graph message JSON for a draft, and where each attachment travels.

use std::fmt;

use app::model::mail::{OutgoingMessage, INLINE_ATTACHMENT_LIMIT};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Map, Value};

/// Graph refuses request bodies over 4 MB (413); attachments are placed so no request exceeds it.
pub(crate) const REQUEST_LIMIT: usize = 4 * 1024 * 1024;

const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";

/// An attachment decoded and ready to send.
#[derive(Clone, PartialEq, Eq)]
pub struct PreparedAttachment {
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// Attachment contents are customer data: debug output shows only their size.
impl fmt::Debug for PreparedAttachment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PreparedAttachment")
            .field("name", &self.name)
            .field("content_type", &self.content_type)
            .field("bytes", &format_args!("<{} bytes>", self.bytes.len()))
            .finish()
    }
}

impl PreparedAttachment {
    pub(crate) fn content_type(&self) -> &str {
        match self.content_type.trim() {
            "" => DEFAULT_CONTENT_TYPE,
            given => given,
        }
    }
}

/// What `GET /me/messages/{id}?$select=isDraft` found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DraftState {
    Draft,
    Sent,
    /// 404: deleted, or never created.
    Missing,
}

/// How an attachment reaches the draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    /// Inside the `POST /me/messages` body.
    Inline,
    /// Its own `POST /me/messages/{id}/attachments`, when the draft body has no room left for it.
    Post,
    /// `createUploadSession` and chunked PUTs: too large for any single JSON request.
    UploadSession,
}

/// Small attachments go inline while the draft request stays under [`REQUEST_LIMIT`]; the rest get
/// requests of their own. Without this, two 2 MB files (each "small") would make the draft a 5.3 MB
/// request that Graph refuses for good.
///
/// A reply or forward takes none inline: Graph documents `createReply`'s
/// `message` as the properties to set, so files are added to the draft after.
pub(crate) fn plan(message: &OutgoingMessage, attachments: &[PreparedAttachment]) -> Vec<Route> {
    let mut room = if message.origin().is_some() {
        0
    } else {
        REQUEST_LIMIT.saturating_sub(json_len(&message_json(message, &[])))
    };
    attachments
        .iter()
        .map(|a| {
            let size = inline_json_len(a);
            if a.bytes.len() >= INLINE_ATTACHMENT_LIMIT || size >= REQUEST_LIMIT {
                Route::UploadSession
            } else if size < room {
                room -= size;
                Route::Inline
            } else {
                Route::Post
            }
        })
        .collect()
}

fn json_len(value: &Value) -> usize {
    value.to_string().len()
}

/// An upper bound on an attachment's JSON size, without encoding it: base64 is 4 bytes per 3, and
/// a JSON string escape is at most 6 bytes per byte of name or content type; 128 covers keys and
/// punctuation.
fn inline_json_len(a: &PreparedAttachment) -> usize {
    a.bytes.len().div_ceil(3) * 4 + (a.name.len() + a.content_type().len()) * 6 + 128
}

/// `#microsoft.graph.fileAttachment` with base64 `contentBytes`.
pub(crate) fn file_attachment_json(a: &PreparedAttachment) -> Value {
    json!({
        "@odata.type": "#microsoft.graph.fileAttachment",
        "name": a.name,
        "contentType": a.content_type(),
        "contentBytes": STANDARD.encode(&a.bytes),
    })
}

/// The draft: a Graph message has one body, so HTML wins when both are given.
///
/// For a reply or forward these are the properties laid over Graph's draft:
/// an empty subject keeps Graph's (`RE: …`), no body keeps its quote of the
/// original.
pub(crate) fn message_json(m: &OutgoingMessage, inline: &[&PreparedAttachment]) -> Value {
    let html = m.html_body.as_deref().filter(|h| !h.trim().is_empty());
    let text = m.text_body.as_deref().filter(|t| !t.trim().is_empty());
    let derived = m.origin().is_some();
    let body = match (html, text) {
        (Some(html), _) => Some(json!({"contentType": "HTML", "content": html})),
        (None, Some(text)) => Some(json!({"contentType": "Text", "content": text})),
        (None, None) if derived => None,
        (None, None) => Some(json!({"contentType": "Text", "content": ""})),
    };
    let mut out = Map::new();
    if !(derived && m.subject.is_empty()) {
        out.insert("subject".into(), Value::from(m.subject.as_str()));
    }
    if let Some(body) = body {
        out.insert("body".into(), body);
    }
    if let Some(importance) = &m.importance {
        out.insert(
            "importance".into(),
            Value::from(importance.to_ascii_lowercase()),
        );
    }
    if !m.headers.is_empty() {
        let headers = m
            .headers
            .iter()
            .map(|(name, value)| json!({"name": name, "value": value}))
            .collect();
        out.insert("internetMessageHeaders".into(), Value::Array(headers));
    }
    for (key, list) in [
        ("toRecipients", &m.to),
        ("ccRecipients", &m.cc),
        ("bccRecipients", &m.bcc),
        ("replyTo", &m.reply_to),
    ] {
        if !list.is_empty() {
            out.insert(key.into(), recipients(list));
        }
    }
    if !inline.is_empty() {
        let attachments = inline.iter().map(|a| file_attachment_json(a)).collect();
        out.insert("attachments".into(), Value::Array(attachments));
    }
    Value::Object(out)
}

/// A draft made in another mailbox than the signed-in account's (a shared
/// mailbox, application access) names that mailbox as From, as Microsoft's
/// guide for shared mailboxes does: Exchange would take the mailbox the draft
/// is in, but an explicit From is what it checks Send As against. `/me` drafts
/// leave it to Exchange.
pub(crate) fn from_mailbox(draft: &mut Value, mailbox: Option<&str>) {
    if let (Some(mailbox), Some(fields)) = (mailbox, draft.as_object_mut()) {
        fields.insert("from".into(), json!({"emailAddress": {"address": mailbox}}));
    }
}

fn recipients(addresses: &[String]) -> Value {
    addresses
        .iter()
        .map(|address| json!({"emailAddress": {"address": address.trim()}}))
        .collect()
}
