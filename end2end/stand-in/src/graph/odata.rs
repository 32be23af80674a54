//! OData bits: message JSON, `$select`, `$filter`, `Prefer` headers.

use std::collections::HashMap;

use axum::http::HeaderMap;
use serde_json::{json, Map, Value};

use crate::errors::GraphError;
use crate::model::Address;
use crate::state::{Attachment, Message};
use crate::timefmt;

pub fn query_map(raw: Option<&str>) -> HashMap<String, String> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(raw.unwrap_or_default()).unwrap_or_default();
    let mut map = HashMap::new();
    for (k, v) in pairs {
        map.entry(k).or_insert(v);
    }
    map
}

/// `$top` (default 10, 1–1000) and `$skip` (default 0) of a collection request, as Graph pages
/// messages and folders alike.
pub fn paging(q: &HashMap<String, String>) -> Result<(usize, usize), GraphError> {
    let top = match q.get("$top") {
        Some(t) => t
            .parse()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| GraphError::bad_request("BadRequest", "Invalid $top value."))?,
        None => 10,
    };
    let skip = q.get("$skip").and_then(|s| s.parse().ok()).unwrap_or(0);
    Ok((top, skip))
}

/// `@odata.nextLink` of the page after `skip`: `path?…&$top=…&$skip=…`, keeping the query
/// options named in `keep` so the client gets the same shape on every page.
pub fn next_link(
    path: &str,
    q: &HashMap<String, String>,
    keep: &[&str],
    top: usize,
    skip: usize,
) -> String {
    let mut next: Vec<(&str, String)> = keep
        .iter()
        .filter_map(|key| q.get(*key).map(|v| (*key, v.clone())))
        .collect();
    next.push(("$top", top.to_string()));
    next.push(("$skip", (skip + top).to_string()));
    format!(
        "{path}?{}",
        serde_urlencoded::to_string(&next).unwrap_or_default()
    )
}

/// The `Prefer` preferences, lower-cased names (`idtype`, `odata.maxpagesize`, …).
fn preferences(headers: &HeaderMap) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for value in headers.get_all("prefer") {
        let Ok(text) = value.to_str() else { continue };
        for pref in text.split(',') {
            let (k, v) = pref.split_once('=').unwrap_or((pref, ""));
            out.insert(
                k.trim().to_ascii_lowercase(),
                v.trim().trim_matches('"').to_owned(),
            );
        }
    }
    out
}

/// `Prefer: IdType="ImmutableId"`.
pub fn wants_immutable(headers: &HeaderMap) -> bool {
    preferences(headers)
        .get("idtype")
        .is_some_and(|v| v.eq_ignore_ascii_case("ImmutableId"))
}

/// `Prefer: odata.maxpagesize=N`.
pub fn max_page_size(headers: &HeaderMap) -> Option<usize> {
    preferences(headers)
        .get("odata.maxpagesize")
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
}

fn recipient(a: &Address) -> Value {
    json!({"emailAddress": {"name": a.name, "address": a.address}})
}

pub fn message_id(m: &Message, immutable: bool) -> &str {
    if immutable {
        &m.immutable_id
    } else {
        &m.rest_id
    }
}

/// A message as Graph returns it.
pub fn message_json(m: &Message, immutable: bool, graph_base: &str) -> Value {
    let preview: String = m.body.chars().take(255).collect();
    json!({
        "@odata.etag": format!("W/\"{}\"", m.change_seq),
        "id": message_id(m, immutable),
        "createdDateTime": timefmt::iso(m.created),
        "lastModifiedDateTime": timefmt::iso(m.modified),
        "changeKey": format!("CQAAABYAAA{}", m.change_seq),
        "categories": [],
        "receivedDateTime": timefmt::iso(m.received),
        "sentDateTime": m.sent.map(timefmt::iso),
        "hasAttachments": m.attachments.iter().any(|a| !a.is_inline),
        "internetMessageId": m.internet_message_id,
        "subject": m.subject,
        "bodyPreview": preview,
        "importance": m.importance,
        "parentFolderId": m.folder_id,
        "conversationId": m.conversation_id,
        "conversationIndex": conversation_index(m),
        "isDeliveryReceiptRequested": false,
        "isReadReceiptRequested": false,
        "isRead": m.is_read,
        "isDraft": m.is_draft,
        "webLink": format!("{graph_base}/owa/?ItemID={}", m.immutable_id),
        "inferenceClassification": "focused",
        "body": {"contentType": m.body_type, "content": m.body},
        "sender": m.from.as_ref().map(recipient),
        "from": m.from.as_ref().map(recipient),
        "toRecipients": m.to.iter().map(recipient).collect::<Vec<_>>(),
        "ccRecipients": m.cc.iter().map(recipient).collect::<Vec<_>>(),
        "bccRecipients": m.bcc.iter().map(recipient).collect::<Vec<_>>(),
        "replyTo": m.reply_to.iter().map(recipient).collect::<Vec<_>>(),
        // Graph gives these only when `$select` names them (see `select`).
        "internetMessageHeaders": m.headers.iter()
            .map(|(name, value)| json!({"name": name, "value": value}))
            .collect::<Vec<_>>(),
        "flag": {"flagStatus": "notFlagged"},
    })
}

/// Exchange's `conversationIndex`: 22 bytes for a thread's first message
/// (here derived from the conversation id), 5 more for an answer (here: a
/// message with `In-Reply-To`, which Exchange threads under the original).
fn conversation_index(m: &Message) -> String {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(m.conversation_id.as_bytes());
    let mut bytes = digest[..22].to_vec();
    if m.headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("in-reply-to"))
    {
        bytes.extend_from_slice(&digest[22..27]);
    }
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub fn attachment_json(a: &Attachment, modified: i64, with_content: bool) -> Value {
    use base64::Engine;
    let kind = if a.is_item {
        "#microsoft.graph.itemAttachment"
    } else {
        "#microsoft.graph.fileAttachment"
    };
    let mut v = json!({
        "@odata.type": kind,
        "id": a.id,
        "lastModifiedDateTime": timefmt::iso(modified),
        "name": a.name,
        "contentType": a.content_type,
        "size": a.bytes.len(),
        "isInline": a.is_inline,
        "contentId": a.content_id,
    });
    // An item has no `contentBytes`: its MIME form comes only from `$value`.
    if let (true, false, Some(obj)) = (with_content, a.is_item, v.as_object_mut()) {
        obj.insert(
            "contentBytes".to_owned(),
            Value::from(base64::engine::general_purpose::STANDARD.encode(&a.bytes)),
        );
    }
    v
}

/// Applies `$select` (keeps `id`, `@odata.etag` and `@odata.type` as Graph does).
/// Without one, `internetMessageHeaders` is left out, as Graph leaves it out
/// unless asked for by name.
pub fn select(mut value: Value, select: Option<&str>) -> Value {
    let Some(select) = select.filter(|s| !s.trim().is_empty()) else {
        if let Some(obj) = value.as_object_mut() {
            obj.remove("internetMessageHeaders");
        }
        return value;
    };
    let wanted: Vec<String> = select
        .split(',')
        .map(|s| s.trim().to_ascii_lowercase())
        .collect();
    match value {
        Value::Object(obj) => {
            let kept: Map<String, Value> = obj
                .into_iter()
                .filter(|(k, _)| {
                    k == "id"
                        || k == "@odata.etag"
                        || k == "@odata.type"
                        || wanted.contains(&k.to_ascii_lowercase())
                })
                .collect();
            Value::Object(kept)
        }
        other => other,
    }
}

/// One `$filter` clause: `receivedDateTime ge 2025-01-01T00:00:00Z`, `isRead eq false`, joined by `and`;
/// or, alone, the extended-property lambda Graph documents for finding items by a property of your own:
/// `singleValueExtendedProperties/Any(ep: ep/id eq 'String {guid} Name X' and ep/value eq 'v')`.
#[derive(Clone, Debug)]
pub struct Filter {
    clauses: Vec<(String, String, FilterValue)>,
    /// (property id, value); ids compare without regard to case, as in Exchange.
    extended: Option<(String, String)>,
}

#[derive(Clone, Debug)]
enum FilterValue {
    Time(i64),
    Bool(bool),
}

fn invalid_filter(text: &str) -> GraphError {
    GraphError::bad_request("BadRequest", format!("Invalid filter clause: {text}"))
}

impl Filter {
    pub fn parse(text: &str) -> Result<Self, GraphError> {
        if let Some(lambda) = text
            .trim()
            .strip_prefix("singleValueExtendedProperties/Any(")
            .and_then(|rest| rest.strip_suffix(')'))
        {
            return Self::parse_extended(lambda)
                .map(|extended| Self {
                    clauses: Vec::new(),
                    extended: Some(extended),
                })
                .ok_or_else(|| invalid_filter(text));
        }
        let mut clauses = Vec::new();
        for clause in text.split(" and ") {
            let parts: Vec<&str> = clause.split_whitespace().collect();
            let [field, op, value] = parts.as_slice() else {
                return Err(invalid_filter(text));
            };
            let op = op.to_ascii_lowercase();
            if !["eq", "ne", "gt", "ge", "lt", "le"].contains(&op.as_str()) {
                return Err(invalid_filter(text));
            }
            let field = field.to_ascii_lowercase();
            let value = match field.as_str() {
                "receiveddatetime" => FilterValue::Time(
                    timefmt::parse_iso(value.trim_matches('\''))
                        .ok_or_else(|| invalid_filter(text))?,
                ),
                "isread" => FilterValue::Bool(match *value {
                    "true" => true,
                    "false" => false,
                    _ => return Err(invalid_filter(text)),
                }),
                _ => return Err(invalid_filter(text)),
            };
            clauses.push((field, op, value));
        }
        Ok(Self {
            clauses,
            extended: None,
        })
    }

    /// `ep: ep/id eq '…' and ep/value eq '…'` (quotes inside doubled, as OData does).
    fn parse_extended(lambda: &str) -> Option<(String, String)> {
        let (var, body) = lambda.split_once(':')?;
        let var = var.trim();
        let body = body.trim();
        let rest = body.strip_prefix(&format!("{var}/id eq '"))?;
        let (id, rest) = rest.split_once("' and ")?;
        let value = rest
            .strip_prefix(&format!("{var}/value eq '"))?
            .strip_suffix('\'')?;
        // A quote inside a literal must be doubled: a lone one ends it, and
        // what followed would be more filter (OData rejects that here).
        let literal = |text: &str| {
            let undoubled = text.replace("''", "");
            (!undoubled.contains('\'')).then(|| text.replace("''", "'"))
        };
        Some((literal(id)?, literal(value)?))
    }

    pub fn matches(&self, m: &Message) -> bool {
        if let Some((id, value)) = &self.extended {
            return m
                .extended_properties
                .iter()
                .any(|(i, v)| i.eq_ignore_ascii_case(id) && v == value);
        }
        self.clauses.iter().all(|(_field, op, value)| {
            let ordering = match value {
                FilterValue::Time(t) => m.received.cmp(t),
                FilterValue::Bool(b) => m.is_read.cmp(b),
            };
            match op.as_str() {
                "eq" => ordering.is_eq(),
                "ne" => ordering.is_ne(),
                "gt" => ordering.is_gt(),
                "ge" => ordering.is_ge(),
                "lt" => ordering.is_lt(),
                _ => ordering.is_le(),
            }
        })
    }
}
