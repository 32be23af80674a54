//! Received mail for the host application. `GET …/received` reads a
//! mailbox's stream of received messages from a cursor (each message's `seq`,
//! its position in arrival order); `POST …/received/acknowledge` marks
//! messages as handled so `pending=true` stops listing them. Only the
//! caller's tenant's mailboxes: anything else is "not found".
use super::body::parse;
use super::{Caller, Failure, HostApiState};
use crate::db::inbox::{AttachmentInfo, ReceivedMail as Stored};
use app::model::inbox::{ActionState, MailAddress};
use app::model::FieldErrors;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap, HashSet};

pub const DEFAULT_LIMIT: u64 = 50;
pub const MAX_LIMIT: u64 = 200;
pub const MAX_ACKNOWLEDGE_IDS: usize = 500;
/// Message ids are UUIDs; this only keeps a hostile body from building a
/// huge query.
const MAX_ID_CHARS: usize = 100;

/// A received attachment; `download` is the path that returns its bytes.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReceivedFile {
    pub id: String,
    pub name: String,
    pub content_type: String,
    /// In bytes, as Microsoft Graph reported it.
    pub size: i64,
    pub is_inline: bool,
    /// The `Content-ID` the HTML body names the part by (`<img src="cid:…">`),
    /// without its angle brackets; `null` when it has none.
    pub content_id: Option<String>,
    /// `/v1/received/{message_id}/attachments/{attachment_id}` (404 for an
    /// link to a file elsewhere, which has no bytes; an attached message is
    /// its `.eml`).
    pub download: String,
}

/// A received message, as stored.
// No `Debug`: it is mail content, which stays out of logs.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ReceivedMail {
    pub id: String,
    /// Position in the mailbox's stream of received mail: the cursor.
    pub seq: i64,
    pub internet_message_id: String,
    pub from: Option<MailAddress>,
    pub to: Vec<MailAddress>,
    pub cc: Vec<MailAddress>,
    pub reply_to: Vec<MailAddress>,
    pub subject: String,
    /// RFC 3339.
    pub received_at: String,
    /// The body as text (converted from HTML when the message has no text).
    pub body_text: String,
    /// The HTML body exactly as received (not sanitised); `null` for a
    /// text-only message.
    pub body_html: Option<String>,
    pub attachments: Vec<ReceivedFile>,
    /// Microsoft's thread id (`conversationId`): replies and forwards of one
    /// message share it; `null` for mail received before it was kept.
    pub conversation_id: Option<String>,
    /// `low`, `normal` or `high`, as the sender marked it.
    pub importance: String,
    /// The Message-ID this message answers (its `In-Reply-To` header);
    /// compare with another message's `internet_message_id`.
    pub in_reply_to: Option<String>,
    /// The thread's Message-IDs, oldest first (its `References` header).
    pub references: Vec<String>,
    /// Acknowledged through `POST …/received/acknowledge`.
    pub acknowledged: bool,
    /// Where the mailbox's after-processing action (mark read / move) stands.
    pub after_processing: ActionState,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ReceivedPage {
    /// In arrival order.
    pub messages: Vec<ReceivedMail>,
    /// The last listed message's `seq` (the `after` given when none): pass it
    /// as `after` for the next page.
    pub next_cursor: i64,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AcknowledgeRequest {
    /// 1 to 500 message ids of this mailbox.
    #[serde(default)]
    pub ids: Vec<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Acknowledged {
    /// How many were newly acknowledged (already acknowledged ones and ids
    /// that are not this mailbox's are not counted).
    pub acknowledged: u64,
}

#[derive(Debug, PartialEq, Eq)]
struct Feed {
    after: i64,
    limit: u64,
    pending: bool,
}

/// Reads the query by hand so a bad value is a 422 naming the field, like
/// every other invalid input, instead of axum's plain-text 400.
fn feed(query: Option<&str>) -> Result<Feed, Failure> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.unwrap_or(""))
        .map_err(|_| Failure::BadRequest("The query string could not be read.".into()))?;
    let mut feed = Feed {
        after: 0,
        limit: DEFAULT_LIMIT,
        pending: false,
    };
    let mut errors = FieldErrors::new();
    let mut seen = HashSet::new();
    for (key, value) in &pairs {
        let key = key.as_str();
        if matches!(key, "after" | "limit" | "pending") && !seen.insert(key) {
            errors.add(key, "Give this parameter once.");
            continue;
        }
        match key {
            "after" => match value.parse::<i64>() {
                Ok(v) if v >= 0 => feed.after = v,
                _ => errors.add(
                    key,
                    "Give the cursor as a whole number, 0 or more: 0 for the start, then the last next_cursor.",
                ),
            },
            "limit" => match value.parse::<u64>() {
                Ok(v) if (1..=MAX_LIMIT).contains(&v) => feed.limit = v,
                _ => errors.add(key, format!("Give a whole number from 1 to {MAX_LIMIT}.")),
            },
            "pending" => match value.as_str() {
                "true" => feed.pending = true,
                "false" => feed.pending = false,
                _ => errors.add(key, "Give true or false."),
            },
            // Unknown parameters (a cache-buster, say) change nothing.
            _ => {}
        }
    }
    errors.into_result().map_err(Failure::Invalid)?;
    Ok(feed)
}

fn file(a: AttachmentInfo) -> ReceivedFile {
    ReceivedFile {
        download: format!("/v1/received/{}/attachments/{}", a.message_id, a.id),
        id: a.id,
        name: a.name,
        content_type: a.content_type,
        size: a.size,
        is_inline: a.is_inline,
        content_id: a.content_id,
    }
}

fn mail(m: Stored, attachments: Vec<ReceivedFile>) -> ReceivedMail {
    ReceivedMail {
        seq: m.seq,
        internet_message_id: m.internet_message_id,
        from: m.from,
        to: m.to,
        cc: m.cc,
        reply_to: m.reply_to,
        subject: m.subject,
        received_at: m.received_at.to_rfc3339(),
        body_text: m.body_text,
        body_html: m.body_html,
        attachments,
        conversation_id: m.conversation_id,
        importance: m.importance,
        in_reply_to: m.in_reply_to,
        references: m.references,
        acknowledged: m.acknowledged,
        after_processing: m.action,
        id: m.id,
    }
}

#[utoipa::path(
    get,
    path = "/v1/mailboxes/{tenant_email_id}/received",
    tag = "received",
    params(
        ("tenant_email_id" = String, Path, description = "The receiving tenant email (mailbox) id"),
        ("after" = Option<i64>, Query, minimum = 0, description = "List messages after this cursor (a `seq`; default 0 = from the start)"),
        ("limit" = Option<u64>, Query, minimum = 1, maximum = 200, description = "At most this many messages (default 50, at most 200)"),
        ("pending" = Option<bool>, Query, description = "`true`: only messages not acknowledged yet"),
    ),
    responses(
        (status = 200, description = "Messages in arrival order; loop with `after=next_cursor` until `messages` is empty", body = ReceivedPage),
        (status = 401, description = "Missing, unknown or revoked token", body = super::failure::ErrorBody),
        (status = 404, description = "No such mailbox for this token's tenant", body = super::failure::ErrorBody),
        (status = 422, description = "Invalid `after`, `limit` or `pending` (`fields` says why)", body = super::failure::ErrorBody),
        (status = 500, description = "Internal error (`reference` is in the server log)", body = super::failure::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<HostApiState>,
    caller: Caller,
    Path(tenant_email_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<ReceivedPage>, Failure> {
    if !caller.owns(&state, &tenant_email_id).await? {
        return Err(Failure::NotFound);
    }
    let feed = feed(query.as_deref())?;
    let inbox = state.store.inbox();
    let rows = inbox
        .after(&tenant_email_id, feed.after, feed.limit, feed.pending)
        .await?;
    let next_cursor = rows.last().map_or(feed.after, |m| m.seq);
    let ids: Vec<String> = rows.iter().map(|m| m.id.clone()).collect();
    let mut files: HashMap<String, Vec<ReceivedFile>> = HashMap::new();
    for a in inbox.attachments_of(&ids).await? {
        files.entry(a.message_id.clone()).or_default().push(file(a));
    }
    let messages = rows
        .into_iter()
        .map(|m| {
            let attachments = files.remove(&m.id).unwrap_or_default();
            mail(m, attachments)
        })
        .collect();
    Ok(Json(ReceivedPage {
        messages,
        next_cursor,
    }))
}

/// The distinct ids, or why the request is refused.
fn acknowledge_ids(request: AcknowledgeRequest) -> Result<Vec<String>, Failure> {
    if request.ids.is_empty() || request.ids.len() > MAX_ACKNOWLEDGE_IDS {
        return Err(Failure::invalid(
            "ids",
            &format!("Give 1 to {MAX_ACKNOWLEDGE_IDS} message ids."),
        ));
    }
    if request.ids.iter().any(|id| id.len() > MAX_ID_CHARS) {
        return Err(Failure::invalid("ids", "That is not a message id."));
    }
    let distinct: BTreeSet<String> = request.ids.into_iter().collect();
    Ok(distinct.into_iter().collect())
}

#[utoipa::path(
    post,
    path = "/v1/mailboxes/{tenant_email_id}/received/acknowledge",
    tag = "received",
    params(("tenant_email_id" = String, Path, description = "The receiving tenant email (mailbox) id")),
    request_body = AcknowledgeRequest,
    responses(
        (status = 200, description = "Acknowledged; repeating is harmless (counts 0)", body = Acknowledged),
        (status = 400, description = "Not JSON, or not `{\"ids\": [...]}`", body = super::failure::ErrorBody),
        (status = 401, description = "Missing, unknown or revoked token", body = super::failure::ErrorBody),
        (status = 404, description = "No such mailbox for this token's tenant", body = super::failure::ErrorBody),
        (status = 422, description = "No ids, or more than 500", body = super::failure::ErrorBody),
        (status = 500, description = "Internal error (`reference` is in the server log)", body = super::failure::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn acknowledge(
    State(state): State<HostApiState>,
    caller: Caller,
    Path(tenant_email_id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Acknowledged>, Failure> {
    if !caller.owns(&state, &tenant_email_id).await? {
        return Err(Failure::NotFound);
    }
    let request: AcknowledgeRequest = parse(body, r#"{"ids": ["<message id>", ...]}"#)?;
    let ids = acknowledge_ids(request)?;
    // Scoped to this mailbox in the query itself: another mailbox's id
    // matches nothing, so the count never reveals that it exists.
    let acknowledged = state
        .store
        .inbox()
        .acknowledge(&tenant_email_id, &ids)
        .await?;
    tracing::info!(
        token_id = %caller.token_id,
        tenant_email_id = %tenant_email_id,
        requested = ids.len(),
        acknowledged,
        "host API acknowledged received mail"
    );
    Ok(Json(Acknowledged { acknowledged }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(query: &str) -> Vec<String> {
        match feed(Some(query)) {
            Err(Failure::Invalid(f)) => f.0.into_keys().collect(),
            other => panic!("{query}: {other:?}"),
        }
    }

    #[test]
    fn defaults_and_values() {
        let default = Feed {
            after: 0,
            limit: DEFAULT_LIMIT,
            pending: false,
        };
        assert_eq!(feed(None).unwrap(), default);
        assert_eq!(feed(Some("")).unwrap(), default);
        assert_eq!(
            feed(Some("after=17&limit=200&pending=true&_=123")).unwrap(),
            Feed {
                after: 17,
                limit: 200,
                pending: true
            }
        );
    }

    #[test]
    fn bad_values_name_their_field() {
        for (query, field) in [
            ("after=-1", "after"),
            ("after=abc", "after"),
            ("after=", "after"),
            ("after=1.5", "after"),
            ("limit=0", "limit"),
            ("limit=201", "limit"),
            ("limit=-3", "limit"),
            ("pending=yes", "pending"),
            ("after=1&after=2", "after"),
        ] {
            assert_eq!(fields(query), vec![field.to_string()], "{query}");
        }
        assert_eq!(fields("after=x&limit=x&pending=x").len(), 3);
    }

    #[test]
    fn acknowledge_needs_one_to_five_hundred_ids() {
        let ids = |n: usize| AcknowledgeRequest {
            ids: (0..n).map(|i| format!("id-{}", i % 7)).collect(),
        };
        assert!(matches!(acknowledge_ids(ids(0)), Err(Failure::Invalid(_))));
        assert!(matches!(
            acknowledge_ids(ids(MAX_ACKNOWLEDGE_IDS + 1)),
            Err(Failure::Invalid(_))
        ));
        assert_eq!(acknowledge_ids(ids(MAX_ACKNOWLEDGE_IDS)).unwrap().len(), 7);
        let long = AcknowledgeRequest {
            ids: vec!["x".repeat(MAX_ID_CHARS + 1)],
        };
        assert!(matches!(acknowledge_ids(long), Err(Failure::Invalid(_))));
    }
}
