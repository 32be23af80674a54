//! sendMail, drafts and send, get/list, update (isRead), move, delete of one mailbox (`/me` or
//! `/users/{x}`, see [`super::target`]); delivery of incoming mail.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::odata::{self, Filter};
use super::target::{FolderKey, MessageKey, Need, TargetMailbox};
use crate::control::ControlError;
use crate::errors::GraphError;
use crate::ledger::SentMail;
use crate::model::{Address, IncomingMail, User};
use crate::state::{Attachment, Message, Removal, Shared, State as Store};
use crate::webhooks::{self, Change, MessageEvent};

/// Largest attachment accepted inline (bytes).
pub const INLINE_ATTACHMENT_LIMIT: usize = 3 * 1024 * 1024;
/// Largest JSON request accepted (bytes).
pub const REQUEST_LIMIT: usize = 4 * 1024 * 1024;
/// Recipients per message.
pub const RECIPIENT_LIMIT: usize = 500;

type GraphResult = Result<Response, GraphError>;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmailAddressInput {
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecipientInput {
    #[serde(default)]
    pub email_address: EmailAddressInput,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BodyInput {
    #[serde(default)]
    pub content_type: Option<String>,
    #[serde(default)]
    pub content: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentInput {
    #[serde(rename = "@odata.type", default)]
    pub odata_type: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub content_type: Option<String>,
    #[serde(default)]
    pub content_bytes: Option<String>,
    #[serde(default)]
    pub is_inline: Option<bool>,
    #[serde(default)]
    pub content_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageInput {
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub body: Option<BodyInput>,
    #[serde(default)]
    pub to_recipients: Vec<RecipientInput>,
    #[serde(default)]
    pub cc_recipients: Vec<RecipientInput>,
    #[serde(default)]
    pub bcc_recipients: Vec<RecipientInput>,
    #[serde(default)]
    pub attachments: Vec<AttachmentInput>,
    #[serde(default)]
    pub importance: Option<String>,
    #[serde(default)]
    pub internet_message_id: Option<String>,
    #[serde(default)]
    pub single_value_extended_properties: Vec<ExtendedPropertyInput>,
    #[serde(default)]
    pub reply_to: Vec<RecipientInput>,
    #[serde(default)]
    pub internet_message_headers: Vec<HeaderInput>,
    /// Set on a draft made in another mailbox (shared, application access): Exchange sends
    /// it only as the mailbox the draft is in (anything else needs Send As on that address).
    #[serde(default)]
    pub from: Option<RecipientInput>,
}

/// `{"name": "x-…", "value": "…"}`.
#[derive(Debug, Default, Deserialize)]
pub struct HeaderInput {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub value: String,
}

/// Graph's rules for `internetMessageHeaders` on a message it creates: only
/// `x-` names, at most five.
pub fn custom_headers(list: &[HeaderInput]) -> Result<Vec<(String, String)>, GraphError> {
    if list.len() > 5 {
        return Err(GraphError::bad_request(
            "InvalidInternetMessageHeaderCollection",
            "Maximum number of headers in one message should be less than or equal to 5.",
        ));
    }
    list.iter()
        .map(|h| {
            let lower = h.name.to_ascii_lowercase();
            if !lower.starts_with("x-") || h.name.len() < 3 {
                return Err(GraphError::bad_request(
                    "InvalidInternetMessageHeader",
                    format!(
                        "The internet message header name '{}' should start with 'x-' or 'X-'.",
                        h.name
                    ),
                ));
            }
            Ok((h.name.clone(), h.value.clone()))
        })
        .collect()
}

/// `{"id": "String {guid} Name X", "value": "…"}`.
#[derive(Debug, Default, Deserialize)]
pub struct ExtendedPropertyInput {
    pub id: String,
    pub value: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SendMailInput {
    message: Option<MessageInput>,
    #[serde(default)]
    save_to_sent_items: Option<bool>,
}

pub fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, GraphError> {
    if body.len() > REQUEST_LIMIT {
        return Err(GraphError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestBodyTooLarge",
            "The maximum request length supported is 4MB.",
        ));
    }
    if body.is_empty() {
        return Err(GraphError::bad_request(
            "BadRequest",
            "Empty Payload. JSON content expected.",
        ));
    }
    serde_json::from_slice(body).map_err(|_| {
        GraphError::bad_request(
            "BadRequest",
            "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.",
        )
    })
}

fn addresses(list: &[RecipientInput]) -> Result<Vec<Address>, GraphError> {
    list.iter()
        .map(|r| {
            let address = r.email_address.address.clone().unwrap_or_default();
            if !address.contains('@') {
                return Err(GraphError::bad_request(
                    "ErrorInvalidRecipients",
                    format!("At least one recipient is not valid., Recipient '{address}' is not resolved. All recipients must be resolved before a message can be submitted."),
                ));
            }
            Ok(Address {
                name: r.email_address.name.clone().unwrap_or_else(|| address.clone()),
                address,
            })
        })
        .collect()
}

pub fn decode_attachment(
    store: &mut Store,
    input: &AttachmentInput,
) -> Result<Attachment, GraphError> {
    if input
        .odata_type
        .as_deref()
        .is_some_and(|t| t != "#microsoft.graph.fileAttachment")
    {
        return Err(GraphError::bad_request(
            "ErrorInvalidParameter",
            "The stand-in supports only #microsoft.graph.fileAttachment.",
        ));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(input.content_bytes.as_deref().unwrap_or_default())
        .map_err(|_| {
            GraphError::bad_request("ErrorInvalidParameter", "contentBytes is not valid base64.")
        })?;
    if bytes.len() > INLINE_ATTACHMENT_LIMIT {
        return Err(GraphError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "ErrorAttachmentSizeShouldNotBeLessThanMinimumSize",
            "Attachments larger than 3 MB must be uploaded with an upload session (createUploadSession).",
        ));
    }
    Ok(Attachment {
        id: store.next_graph_id("ATT"),
        name: input
            .name
            .clone()
            .unwrap_or_else(|| "attachment".to_owned()),
        content_type: input
            .content_type
            .clone()
            .unwrap_or_else(|| "application/octet-stream".to_owned()),
        bytes: bytes.into(),
        is_inline: input.is_inline.unwrap_or(false),
        content_id: input.content_id.clone(),
        is_item: false,
    })
}

/// Builds a message from Graph input (not yet stored).
pub fn build(
    store: &mut Store,
    input: &MessageInput,
    folder_id: String,
    now: i64,
) -> Result<Message, GraphError> {
    let to = addresses(&input.to_recipients)?;
    let cc = addresses(&input.cc_recipients)?;
    let bcc = addresses(&input.bcc_recipients)?;
    let reply_to = addresses(&input.reply_to)?;
    let from = match &input.from {
        Some(r) => addresses(std::slice::from_ref(r))?.into_iter().next(),
        None => None,
    };
    let headers = custom_headers(&input.internet_message_headers)?;
    let mut attachments = Vec::new();
    for a in &input.attachments {
        attachments.push(decode_attachment(store, a)?);
    }
    let body = input.body.as_ref();
    let body_type = match body.and_then(|b| b.content_type.as_deref()) {
        Some(t) if t.eq_ignore_ascii_case("html") => "html",
        _ => "text",
    };
    let immutable_id = store.next_graph_id("IMM");
    let rest_id = store.next_graph_id("MSG");
    Ok(Message {
        internet_message_id: input
            .internet_message_id
            .clone()
            .unwrap_or_else(|| format!("<{}@stand-in.local>", immutable_id)),
        conversation_id: store.next_graph_id("CNV"),
        reply_to,
        headers,
        immutable_id,
        rest_id,
        folder_id,
        subject: input.subject.clone().unwrap_or_default(),
        body_type: body_type.to_owned(),
        body: body.and_then(|b| b.content.clone()).unwrap_or_default(),
        from,
        to,
        cc,
        bcc,
        created: now,
        modified: now,
        received: now,
        sent: None,
        is_read: true,
        is_draft: true,
        importance: input
            .importance
            .clone()
            .unwrap_or_else(|| "normal".to_owned())
            .to_ascii_lowercase(),
        attachments,
        change_seq: 0,
        extended_properties: input
            .single_value_extended_properties
            .iter()
            .map(|p| (p.id.clone(), p.value.clone()))
            .collect(),
    })
}

pub fn folder_id(store: &mut Store, oid: &str, well_known: &str) -> String {
    store
        .mailbox_mut(oid)
        .folder(well_known)
        .map(|f| f.id.clone())
        .unwrap_or_default()
}

/// Stores a new message and tells the subscriptions on its folder (`created`).
pub fn insert(store: &mut Store, oid: &str, mut message: Message, now: i64) -> Message {
    let mailbox = store.mailbox_mut(oid);
    message.change_seq = mailbox.bump();
    mailbox.messages.push(message.clone());
    let event = MessageEvent::new(oid, &message, Change::Created);
    webhooks::message_changed(store, &event, now);
    message
}

fn fingerprint(m: &Message) -> String {
    let canonical = json!({
        "subject": m.subject,
        "body": m.body,
        "to": m.to.iter().map(|a| a.address.to_ascii_lowercase()).collect::<Vec<_>>(),
        "cc": m.cc.iter().map(|a| a.address.to_ascii_lowercase()).collect::<Vec<_>>(),
        "bcc": m.bcc.iter().map(|a| a.address.to_ascii_lowercase()).collect::<Vec<_>>(),
        "attachments": m.attachments.iter().map(|a| a.name.clone()).collect::<Vec<_>>(),
    });
    let digest = Sha256::digest(canonical.to_string().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Ledger entry and local delivery for a message that was just sent.
fn record_send(
    store: &mut Store,
    user: &User,
    m: &Message,
    via: &str,
    saved_id: Option<String>,
    now: i64,
) {
    let print = fingerprint(m);
    let mailbox = user.mailbox_key();
    let list = |v: &[Address]| v.iter().map(|a| a.address.clone()).collect::<Vec<_>>();
    match store
        .ledger
        .sent
        .iter_mut()
        .find(|s| s.mailbox == mailbox && s.fingerprint == print)
    {
        Some(entry) => {
            entry.send_count += 1;
            entry.via.push(via.to_owned());
            entry.message_ids.extend(saved_id);
            entry.last_sent_at = now;
        }
        None => store.ledger.sent.push(SentMail {
            mailbox,
            fingerprint: print,
            subject: m.subject.clone(),
            to: list(&m.to),
            cc: list(&m.cc),
            bcc: list(&m.bcc),
            body: m.body.clone(),
            attachment_names: m.attachments.iter().map(|a| a.name.clone()).collect(),
            send_count: 1,
            via: vec![via.to_owned()],
            message_ids: saved_id.into_iter().collect(),
            first_sent_at: now,
            last_sent_at: now,
            conversation_id: m.conversation_id.clone(),
            importance: m.importance.clone(),
            reply_to: list(&m.reply_to),
            headers: m
                .headers
                .iter()
                .map(|(name, value)| crate::model::MessageHeader {
                    name: name.clone(),
                    value: value.clone(),
                })
                .collect(),
        }),
    }
    // Recipients that are stand-in users get the mail in their inbox.
    let recipients: Vec<Address> = m.to.iter().chain(&m.cc).chain(&m.bcc).cloned().collect();
    for r in recipients {
        let Some(target) = store.find_user(&r.address).cloned() else {
            continue;
        };
        let inbox = folder_id(store, &target.oid, "inbox");
        let mut copy = m.clone();
        copy.immutable_id = store.next_graph_id("IMM");
        copy.rest_id = store.next_graph_id("MSG");
        copy.folder_id = inbox;
        copy.is_read = false;
        copy.bcc.clear();
        insert(store, &target.oid, copy, now);
    }
}

pub fn sender(user: &User) -> Address {
    Address {
        name: user.display_name.clone(),
        address: user.mail.clone().unwrap_or_else(|| user.upn.clone()),
    }
}

fn check_recipients(m: &Message) -> Result<(), GraphError> {
    let count = m.to.len() + m.cc.len() + m.bcc.len();
    if count == 0 {
        return Err(GraphError::bad_request(
            "ErrorInvalidRecipients",
            "At least one recipient is required, but none were found.",
        ));
    }
    if count > RECIPIENT_LIMIT {
        return Err(GraphError::bad_request(
            "ErrorTooManyRecipients",
            format!("The message has {count} recipients; the limit is {RECIPIENT_LIMIT}."),
        ));
    }
    Ok(())
}

/// `POST /me/sendMail` → 202, empty body. The message goes out from the target mailbox (Send As
/// for a delegate) and its copy lands in that mailbox's Sent Items.
pub async fn send_mail(
    target: TargetMailbox,
    State(shared): State<Shared>,
    body: Bytes,
) -> GraphResult {
    target.require(Need::Send)?;
    let input: SendMailInput = parse_json(&body)?;
    let message = input.message.ok_or_else(|| {
        GraphError::bad_request(
            "ErrorInvalidParameter",
            "The value of the parameter 'Message' is empty.",
        )
    })?;
    let now = shared.now();
    let mut store = shared.lock();
    let oid = target.owner.oid.clone();
    let sent_folder = folder_id(&mut store, &oid, "sentitems");
    let mut m = build(&mut store, &message, sent_folder, now)?;
    check_recipients(&m)?;
    m.from = Some(sender(&target.owner));
    m.is_draft = false;
    m.sent = Some(now);
    let saved = if input.save_to_sent_items.unwrap_or(true) {
        Some(insert(&mut store, &oid, m.clone(), now).immutable_id)
    } else {
        None
    };
    record_send(&mut store, &target.owner, &m, "sendMail", saved, now);
    Ok(StatusCode::ACCEPTED.into_response())
}

/// `POST /me/messages` → 201 with the draft.
pub async fn create_draft(
    target: TargetMailbox,
    State(shared): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> GraphResult {
    target.require(Need::Write)?;
    let input: MessageInput = parse_json(&body)?;
    let now = shared.now();
    let mut store = shared.lock();
    let oid = target.owner.oid.clone();
    let drafts = folder_id(&mut store, &oid, "drafts");
    let m = build(&mut store, &input, drafts, now)?;
    let m = insert(&mut store, &oid, m, now);
    let immutable = odata::wants_immutable(&headers);
    let base = shared.graph_base();
    let location = format!(
        "{base}/{}/messages/{}",
        target.path,
        odata::message_id(&m, immutable)
    );
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(odata::message_json(&m, immutable, &base)),
    )
        .into_response())
}

/// Moves message `index` of mailbox `oid` to `folder`: new REST id, removal recorded for
/// delta; subscriptions hear `deleted` from the old folder and `created` from the new one.
fn relocate(store: &mut Store, oid: &str, index: usize, folder: &str, now: i64) -> Option<Message> {
    let new_rest = store.next_graph_id("MSG");
    let mailbox = store.mailbox_mut(oid);
    let seq = mailbox.bump();
    let m = mailbox.messages.get_mut(index)?;
    let removal = Removal {
        folder_id: m.folder_id.clone(),
        immutable_id: m.immutable_id.clone(),
        rest_id: m.rest_id.clone(),
        seq,
    };
    m.folder_id = folder.to_owned();
    m.rest_id = new_rest;
    m.change_seq = seq;
    m.modified = now;
    let moved = m.clone();
    mailbox.removals.push(removal.clone());
    let left = MessageEvent {
        oid,
        folder_id: &removal.folder_id,
        change: Change::Deleted,
        rest_id: &removal.rest_id,
        immutable_id: &removal.immutable_id,
        change_seq: seq,
    };
    webhooks::message_changed(store, &left, now);
    webhooks::message_changed(store, &MessageEvent::new(oid, &moved, Change::Created), now);
    Some(moved)
}

/// `POST /me/messages/{id}/send` → 202; the draft moves to its mailbox's Sent Items (so a second
/// send finds nothing).
pub async fn send_draft(
    target: TargetMailbox,
    State(shared): State<Shared>,
    Path(MessageKey { id }): Path<MessageKey>,
) -> GraphResult {
    target.require(Need::Send)?;
    let now = shared.now();
    let mut store = shared.lock();
    let oid = target.owner.oid.clone();
    let sent_folder = folder_id(&mut store, &oid, "sentitems");
    let mailbox = store.mailbox_mut(&oid);
    let index = mailbox
        .message_index(&id)
        .ok_or_else(GraphError::not_found)?;
    let draft = mailbox
        .messages
        .get(index)
        .cloned()
        .ok_or_else(GraphError::not_found)?;
    if !draft.is_draft {
        return Err(GraphError::bad_request(
            "ErrorInvalidOperation",
            "The item has already been sent; only drafts can be sent.",
        ));
    }
    check_recipients(&draft)?;
    let own = sender(&target.owner);
    if draft
        .from
        .as_ref()
        .is_some_and(|f| !f.address.eq_ignore_ascii_case(&own.address))
    {
        return Err(GraphError::new(
            StatusCode::FORBIDDEN,
            "ErrorSendAsDenied",
            "The user account which was used to submit this request does not have the right to send mail on behalf of the specified sending account.",
        ));
    }
    let mut sent =
        relocate(&mut store, &oid, index, &sent_folder, now).ok_or_else(GraphError::not_found)?;
    sent.is_draft = false;
    sent.sent = Some(now);
    sent.received = now;
    sent.from = Some(own);
    if let Some(m) = store.mailbox_mut(&oid).messages.get_mut(index) {
        m.is_draft = false;
        m.sent = Some(now);
        m.received = now;
        m.from = sent.from.clone();
    }
    record_send(
        &mut store,
        &target.owner,
        &sent,
        "draft",
        Some(sent.immutable_id.clone()),
        now,
    );
    Ok(StatusCode::ACCEPTED.into_response())
}

/// `GET /me/messages/{id}`.
pub async fn get_message(
    target: TargetMailbox,
    State(shared): State<Shared>,
    Path(MessageKey { id }): Path<MessageKey>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> GraphResult {
    target.require(Need::ReadBasic)?;
    let q = odata::query_map(query.as_deref());
    let mut store = shared.lock();
    let mailbox = store.mailbox_mut(target.oid());
    let index = mailbox
        .message_index(&id)
        .ok_or_else(GraphError::not_found)?;
    let m = mailbox
        .messages
        .get(index)
        .ok_or_else(GraphError::not_found)?;
    let value = odata::message_json(m, odata::wants_immutable(&headers), &shared.graph_base());
    Ok(Json(odata::select(value, q.get("$select").map(String::as_str))).into_response())
}

/// `GET /me/messages` (all folders).
pub async fn list_all(
    target: TargetMailbox,
    State(shared): State<Shared>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> GraphResult {
    list(&target, &shared, &headers, query.as_deref(), None)
}

/// `GET /me/mailFolders/{folder}/messages`.
pub async fn list_folder(
    target: TargetMailbox,
    State(shared): State<Shared>,
    Path(FolderKey { folder }): Path<FolderKey>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> GraphResult {
    list(&target, &shared, &headers, query.as_deref(), Some(&folder))
}

fn list(
    target: &TargetMailbox,
    shared: &Shared,
    headers: &HeaderMap,
    query: Option<&str>,
    folder: Option<&str>,
) -> GraphResult {
    target.require(Need::ReadBasic)?;
    let q = odata::query_map(query);
    let (top, skip) = odata::paging(&q)?;
    let filter = q.get("$filter").map(|f| Filter::parse(f)).transpose()?;
    let ascending = q
        .get("$orderby")
        .is_some_and(|o| o.to_ascii_lowercase().trim_end().ends_with(" asc"));
    let mut store = shared.lock();
    let mailbox = store.mailbox_mut(target.oid());
    let folder_id = match folder {
        Some(key) => Some(
            mailbox
                .folder(key)
                .map(|f| f.id.clone())
                .ok_or_else(GraphError::not_found)?,
        ),
        None => None,
    };
    let mut items: Vec<&Message> = mailbox
        .messages
        .iter()
        .filter(|m| folder_id.as_ref().is_none_or(|f| m.folder_id == *f))
        .filter(|m| filter.as_ref().is_none_or(|f| f.matches(m)))
        .collect();
    items.sort_by_key(|m| (m.received, m.change_seq));
    if !ascending {
        items.reverse();
    }
    let immutable = odata::wants_immutable(headers);
    let base = shared.graph_base();
    let select = q.get("$select").map(String::as_str);
    let page: Vec<Value> = items
        .iter()
        .skip(skip)
        .take(top)
        .map(|m| odata::select(odata::message_json(m, immutable, &base), select))
        .collect();
    let path = match folder {
        Some(f) => format!("{base}/{}/mailFolders/{f}/messages", target.path),
        None => format!("{base}/{}/messages", target.path),
    };
    let mut body = json!({
        "@odata.context": format!("{base}/$metadata#users('{}')/messages", target.oid()),
        "value": page,
    });
    if skip + top < items.len() {
        let link = odata::next_link(&path, &q, &["$select", "$filter", "$orderby"], top, skip);
        if let Some(obj) = body.as_object_mut() {
            obj.insert("@odata.nextLink".to_owned(), Value::from(link));
        }
    }
    Ok(Json(body).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateInput {
    #[serde(default)]
    is_read: Option<bool>,
    #[serde(default)]
    subject: Option<String>,
}

/// `PATCH /me/messages/{id}` (`isRead`; `subject` of drafts).
pub async fn update(
    target: TargetMailbox,
    State(shared): State<Shared>,
    Path(MessageKey { id }): Path<MessageKey>,
    headers: HeaderMap,
    body: Bytes,
) -> GraphResult {
    target.require(Need::Write)?;
    let input: UpdateInput = parse_json(&body)?;
    let now = shared.now();
    let mut store = shared.lock();
    let mailbox = store.mailbox_mut(target.oid());
    let index = mailbox
        .message_index(&id)
        .ok_or_else(GraphError::not_found)?;
    let seq = mailbox.bump();
    let m = mailbox
        .messages
        .get_mut(index)
        .ok_or_else(GraphError::not_found)?;
    if let Some(read) = input.is_read {
        m.is_read = read;
    }
    if let Some(subject) = input.subject {
        if m.is_draft {
            m.subject = subject;
        }
    }
    m.change_seq = seq;
    m.modified = now;
    let value = odata::message_json(m, odata::wants_immutable(&headers), &shared.graph_base());
    let changed = m.clone();
    let event = MessageEvent::new(target.oid(), &changed, Change::Updated);
    webhooks::message_changed(&mut store, &event, now);
    Ok(Json(value).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MoveInput {
    destination_id: Option<String>,
}

/// `POST /me/messages/{id}/move` → 201 with the moved message (new id unless immutable ids).
pub async fn move_message(
    target: TargetMailbox,
    State(shared): State<Shared>,
    Path(MessageKey { id }): Path<MessageKey>,
    headers: HeaderMap,
    body: Bytes,
) -> GraphResult {
    target.require(Need::Write)?;
    let input: MoveInput = parse_json(&body)?;
    let destination = input.destination_id.unwrap_or_default();
    let now = shared.now();
    let mut store = shared.lock();
    let oid = target.owner.oid.clone();
    let mailbox = store.mailbox_mut(&oid);
    let folder = mailbox
        .folder(&destination)
        .map(|f| f.id.clone())
        .ok_or_else(|| GraphError::bad_request("ErrorInvalidIdMalformed", "Id is malformed."))?;
    let index = mailbox
        .message_index(&id)
        .ok_or_else(GraphError::not_found)?;
    let moved =
        relocate(&mut store, &oid, index, &folder, now).ok_or_else(GraphError::not_found)?;
    let value = odata::message_json(
        &moved,
        odata::wants_immutable(&headers),
        &shared.graph_base(),
    );
    Ok((StatusCode::CREATED, Json(value)).into_response())
}

/// `DELETE /me/messages/{id}` → 204 (moves to Deleted Items, as Outlook does).
pub async fn delete(
    target: TargetMailbox,
    State(shared): State<Shared>,
    Path(MessageKey { id }): Path<MessageKey>,
) -> GraphResult {
    target.require(Need::Write)?;
    let now = shared.now();
    let mut store = shared.lock();
    let oid = target.owner.oid.clone();
    let deleted = folder_id(&mut store, &oid, "deleteditems");
    let index = store
        .mailbox_mut(&oid)
        .message_index(&id)
        .ok_or_else(GraphError::not_found)?;
    relocate(&mut store, &oid, index, &deleted, now).ok_or_else(GraphError::not_found)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Control operation: mail arriving from outside.
pub fn deliver(store: &mut Store, mail: IncomingMail, now: i64) -> Result<String, ControlError> {
    let user = store
        .find_user(&mail.to_user)
        .cloned()
        .ok_or_else(|| ControlError::UnknownUser(mail.to_user.clone()))?;
    let folder_key = mail.folder.clone().unwrap_or_else(|| "inbox".to_owned());
    let folder = store
        .mailbox_mut(&user.oid)
        .folder(&folder_key)
        .map(|f| f.id.clone())
        .ok_or(ControlError::UnknownFolder(folder_key))?;
    let immutable_id = store.next_graph_id("IMM");
    let rest_id = store.next_graph_id("MSG");
    let conversation_id = store.next_graph_id("CNV");
    let received = mail.received_at.unwrap_or(now);
    let attachments = mail
        .attachments
        .into_iter()
        .map(|a| crate::state::Attachment {
            id: store.next_graph_id("ATT"),
            name: a.name,
            content_type: if a.content_type.is_empty() {
                "application/octet-stream".to_owned()
            } else {
                a.content_type
            },
            bytes: a.content.into(),
            is_inline: a.is_inline,
            content_id: a.content_id,
            is_item: a.is_item,
        })
        .collect();
    let message = Message {
        internet_message_id: mail
            .internet_message_id
            .unwrap_or_else(|| format!("<{immutable_id}@external.example>")),
        immutable_id: immutable_id.clone(),
        rest_id,
        folder_id: folder,
        subject: mail.subject,
        body_type: mail.content_type.unwrap_or_else(|| "text".to_owned()),
        body: mail.body,
        from: Some(mail.from),
        to: vec![sender(&user)],
        cc: mail.cc,
        bcc: Vec::new(),
        created: received,
        modified: received,
        received,
        sent: Some(received),
        is_read: false,
        is_draft: false,
        importance: mail.importance.unwrap_or_else(|| "normal".to_owned()),
        conversation_id,
        reply_to: mail.reply_to,
        headers: mail
            .headers
            .into_iter()
            .map(|h| (h.name, h.value))
            .collect(),
        attachments,
        change_seq: 0,
        extended_properties: Vec::new(),
    };
    insert(store, &user.oid, message, now);
    Ok(immutable_id)
}
