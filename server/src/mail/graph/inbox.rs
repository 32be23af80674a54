//! Receiving through Graph: delta pages of a folder, a message's attachments,
//! and the after-processing actions (mark read, move).
use super::{read_json, GraphClient, GraphError};
use crate::identity::AccessToken;
use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::Method;
use serde_json::{json, Value};
use url::Url;

/// The message properties the inbox stores (everything else stays in Graph).
const SELECT: &str = "id,internetMessageId,subject,from,toRecipients,ccRecipients,replyTo,receivedDateTime,body,hasAttachments,isRead,conversationId,conversationIndex,importance";
/// Graph's default delta page is 10 messages; bigger pages mean fewer round trips.
pub const PAGE_SIZE: u32 = 50;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub name: String,
    pub address: String,
}

/// A message as one delta page describes it.
#[derive(Clone, PartialEq, Eq)]
pub struct DeltaMessage {
    /// The immutable id (the request asks for immutable ids).
    pub id: String,
    pub internet_message_id: String,
    pub subject: String,
    pub from: Option<Address>,
    pub to: Vec<Address>,
    pub cc: Vec<Address>,
    pub reply_to: Vec<Address>,
    pub received_at: DateTime<Utc>,
    /// `text` or `html` (lower case).
    pub body_type: String,
    pub body: String,
    pub has_attachments: bool,
    /// The thread (`conversationId`).
    pub conversation_id: Option<String>,
    /// Exchange's `conversationIndex`, decoded: 22 bytes for a message that
    /// starts a thread, 5 more for each answer down it.
    pub conversation_index_len: usize,
    /// `low`, `normal` or `high` (anything else reads as `normal`).
    pub importance: String,
}

// Hand-written: mail content stays out of logs.
impl std::fmt::Debug for DeltaMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeltaMessage")
            .field("id", &self.id)
            .field("received_at", &self.received_at)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Default)]
pub struct DeltaPage {
    pub messages: Vec<DeltaMessage>,
    /// Immutable ids that left the folder (`@removed`).
    pub removed: Vec<String>,
    /// More pages in this round.
    pub next_link: Option<String>,
    /// The round is complete; the next round starts here.
    pub delta_link: Option<String>,
}

/// An attachment as Graph lists it, without its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentMeta {
    pub id: String,
    pub name: String,
    pub content_type: String,
    /// Graph's figure (a little more than the file: it counts properties too).
    pub size: i64,
    pub is_inline: bool,
    /// The `Content-ID` an HTML body refers to (`cid:`), without `<>`.
    pub content_id: Option<String>,
    pub kind: AttachmentKind,
}

/// What `$value` gives for an attachment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttachmentKind {
    /// `fileAttachment`: the file's bytes.
    File,
    /// `itemAttachment`: the attached item's MIME form (a forwarded message).
    Item,
    /// `referenceAttachment` (a link to a file elsewhere): nothing (405).
    Reference,
}

/// The properties listed; `contentBytes` is left out on purpose.
const ATTACHMENT_SELECT: &str = "id,name,contentType,size,isInline,contentId";
/// A message with more attachment pages than this is refused, not followed forever.
const MAX_ATTACHMENT_PAGES: usize = 20;
/// One file's download (Graph's largest attachment is 150 MB).
const ATTACHMENT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);

fn attachment_meta(a: &Value) -> AttachmentMeta {
    AttachmentMeta {
        id: a["id"].as_str().unwrap_or_default().to_string(),
        name: a["name"].as_str().unwrap_or("attachment").to_string(),
        content_type: a["contentType"]
            .as_str()
            .unwrap_or("application/octet-stream")
            .to_string(),
        size: a["size"].as_i64().unwrap_or(0),
        is_inline: a["isInline"].as_bool().unwrap_or(false),
        content_id: a["contentId"]
            .as_str()
            .map(|c| {
                c.trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_string()
            })
            .filter(|c| !c.is_empty()),
        // Graph names the derived type of each entry; one it does not name
        // is taken for a file (the base type has no other bytes to offer).
        kind: match a["@odata.type"]
            .as_str()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("#microsoft.graph.itemattachment") => AttachmentKind::Item,
            Some("#microsoft.graph.referenceattachment") => AttachmentKind::Reference,
            _ => AttachmentKind::File,
        },
    }
}

impl GraphError {
    /// Graph forgot the delta state (410 Gone, `syncStateNotFound`,
    /// `resyncRequired`): the only way on is a full round from the start.
    pub fn is_sync_state_lost(&self) -> bool {
        match self {
            GraphError::Rejected { status, code, .. } => {
                *status == 410
                    || code.eq_ignore_ascii_case("syncStateNotFound")
                    || code.eq_ignore_ascii_case("resyncRequired")
            }
            _ => false,
        }
    }
}

fn address(v: &Value) -> Option<Address> {
    let e = v.get("emailAddress")?;
    let address = e["address"].as_str().unwrap_or_default().trim().to_string();
    if address.is_empty() {
        return None;
    }
    Some(Address {
        name: e["name"].as_str().unwrap_or_default().to_string(),
        address,
    })
}

fn addresses(v: &Value) -> Vec<Address> {
    v.as_array()
        .map(|list| list.iter().filter_map(address).collect())
        .unwrap_or_default()
}

fn message(v: &Value) -> Result<DeltaMessage, GraphError> {
    let id = v["id"]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| GraphError::Internal("a delta entry has no id".into()))?;
    let received_at = v["receivedDateTime"]
        .as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| GraphError::Internal("a delta entry has no receivedDateTime".into()))?;
    Ok(DeltaMessage {
        id: id.to_string(),
        internet_message_id: v["internetMessageId"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        subject: v["subject"].as_str().unwrap_or_default().to_string(),
        from: address(&v["from"]).or_else(|| address(&v["sender"])),
        to: addresses(&v["toRecipients"]),
        cc: addresses(&v["ccRecipients"]),
        reply_to: addresses(&v["replyTo"]),
        received_at,
        body_type: v["body"]["contentType"]
            .as_str()
            .unwrap_or("text")
            .to_ascii_lowercase(),
        body: v["body"]["content"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        has_attachments: v["hasAttachments"].as_bool().unwrap_or(false),
        conversation_id: v["conversationId"]
            .as_str()
            .filter(|c| !c.is_empty())
            .map(str::to_string),
        conversation_index_len: v["conversationIndex"]
            .as_str()
            .and_then(|b| {
                use base64::Engine;
                base64::engine::general_purpose::STANDARD.decode(b).ok()
            })
            .map_or(0, |b| b.len()),
        importance: match v["importance"]
            .as_str()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("low") => "low",
            Some("high") => "high",
            _ => "normal",
        }
        .to_string(),
    })
}

/// Reads one delta answer. Entries with `@removed` are departures, the rest
/// are messages (new or changed; the caller deduplicates).
pub fn parse_delta(body: &Value) -> Result<DeltaPage, GraphError> {
    let mut page = DeltaPage {
        next_link: body["@odata.nextLink"].as_str().map(str::to_string),
        delta_link: body["@odata.deltaLink"].as_str().map(str::to_string),
        ..DeltaPage::default()
    };
    if page.next_link.is_none() && page.delta_link.is_none() {
        return Err(GraphError::Internal(
            "a delta page has neither a next link nor a delta link".into(),
        ));
    }
    for entry in body["value"].as_array().into_iter().flatten() {
        if entry.get("@removed").is_some() {
            if let Some(id) = entry["id"].as_str() {
                page.removed.push(id.to_string());
            }
        } else {
            page.messages.push(message(entry)?);
        }
    }
    Ok(page)
}

impl GraphClient {
    /// A link Graph gave (next page, delta), if it points at the configured
    /// Graph: the bearer token never goes anywhere else.
    pub(super) fn same_graph(&self, token: &AccessToken, link: &str) -> Result<Url, GraphError> {
        Url::parse(link)
            .ok()
            .filter(|u| token.graph.owns(u))
            .ok_or_else(|| {
                GraphError::Internal(
                    "a link from Graph does not point at the mailbox's Graph".into(),
                )
            })
    }

    /// The first page of a full round over `folder`, for mail received since `since`.
    /// Graph filters by `receivedDateTime ge …` itself; the caller filters again,
    /// so a server that ignores the filter imports no older mail either.
    pub fn delta_start(
        &self,
        token: &AccessToken,
        folder: &str,
        since: DateTime<Utc>,
    ) -> Result<String, GraphError> {
        let mut url = self.url(token, &["me", "mailFolders", folder, "messages", "delta"])?;
        let since = since.to_rfc3339_opts(SecondsFormat::Secs, true);
        // Set verbatim: query_pairs_mut would encode `$` as %24.
        url.set_query(Some(&format!(
            "$select={SELECT}&$filter=receivedDateTime+ge+{since}"
        )));
        Ok(url.to_string())
    }

    /// GET one delta page. `link` is `delta_start` or a link Graph gave; a link
    /// to anywhere but the configured Graph is refused, so the bearer token
    /// never goes elsewhere.
    pub async fn delta_page(
        &self,
        token: &AccessToken,
        link: &str,
    ) -> Result<DeltaPage, GraphError> {
        let url = self.same_graph(token, link)?;
        let request = self
            .authorized(Method::GET, url, token)
            .header("Prefer", format!("odata.maxpagesize={PAGE_SIZE}"));
        let response = self.execute(request).await?;
        parse_delta(&read_json(response).await?)
    }

    /// GET /me/messages/{id}/attachments, described only (`$select` leaves out
    /// `contentBytes`): the files are fetched one by one with
    /// [`GraphClient::attachment_value`], so no answer carries them all.
    pub async fn attachment_list(
        &self,
        token: &AccessToken,
        message_id: &str,
    ) -> Result<Vec<AttachmentMeta>, GraphError> {
        let mut url = self.url(token, &["me", "messages", message_id, "attachments"])?;
        // Set verbatim: query_pairs_mut would encode `$` as %24.
        url.set_query(Some(&format!("$select={ATTACHMENT_SELECT}")));
        let mut out = Vec::new();
        for _ in 0..MAX_ATTACHMENT_PAGES {
            let body = read_json(
                self.execute(self.authorized(Method::GET, url, token))
                    .await?,
            )
            .await?;
            out.extend(
                body["value"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(attachment_meta),
            );
            match body["@odata.nextLink"].as_str() {
                Some(next) => url = self.same_graph(token, next)?,
                None => return Ok(out),
            }
        }
        Err(GraphError::Internal(format!(
            "a message's attachment list runs past {MAX_ATTACHMENT_PAGES} pages"
        )))
    }

    /// GET /me/messages/{id}/attachments/{aid}/$value: the file's bytes, as a
    /// response to read a chunk at a time (never buffered here). A long file
    /// may take longer than the client's usual 60 s.
    pub async fn attachment_value(
        &self,
        token: &AccessToken,
        message_id: &str,
        attachment_id: &str,
    ) -> Result<reqwest::Response, GraphError> {
        let request = self
            .request(
                Method::GET,
                &[
                    "me",
                    "messages",
                    message_id,
                    "attachments",
                    attachment_id,
                    "$value",
                ],
                token,
            )?
            .timeout(ATTACHMENT_TIMEOUT);
        self.execute(request).await
    }

    /// PATCH /me/messages/{id} {"isRead": true}.
    pub async fn mark_read(&self, token: &AccessToken, message_id: &str) -> Result<(), GraphError> {
        let request = self.request(Method::PATCH, &["me", "messages", message_id], token)?;
        self.execute(request.json(&json!({ "isRead": true })))
            .await
            .map(drop)
    }

    /// POST /me/messages/{id}/move {"destinationId": folder}. With immutable ids
    /// the message keeps its id, so repeating a move after a crash finds it.
    pub async fn move_message(
        &self,
        token: &AccessToken,
        message_id: &str,
        folder: &str,
    ) -> Result<(), GraphError> {
        let request = self.request(Method::POST, &["me", "messages", message_id, "move"], token)?;
        self.execute(request.json(&json!({ "destinationId": folder })))
            .await
            .map(drop)
    }
}
