//! `createReply`, `createReplyAll` and `createForward`: a draft in the
//! original's thread (its `conversationId`, `In-Reply-To` and `References`),
//! addressed and quoted as Outlook would, with any `message` properties given
//! laid over it.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use super::mail::{build, folder_id, insert, parse_json, sender, MessageInput, RecipientInput};
use super::odata;
use super::target::{MessageKey, Need, TargetMailbox};
use crate::errors::GraphError;
use crate::model::Address;
use crate::state::{Message, Shared};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Reply,
    ReplyAll,
    Forward,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReplyInput {
    #[serde(default)]
    comment: Option<String>,
    #[serde(default)]
    message: Option<MessageInput>,
    /// createForward only.
    #[serde(default)]
    to_recipients: Vec<RecipientInput>,
}

pub async fn create_reply(
    target: TargetMailbox,
    shared: State<Shared>,
    id: Path<MessageKey>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, GraphError> {
    create(target, shared, id, headers, body, Kind::Reply)
}

pub async fn create_reply_all(
    target: TargetMailbox,
    shared: State<Shared>,
    id: Path<MessageKey>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, GraphError> {
    create(target, shared, id, headers, body, Kind::ReplyAll)
}

pub async fn create_forward(
    target: TargetMailbox,
    shared: State<Shared>,
    id: Path<MessageKey>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, GraphError> {
    create(target, shared, id, headers, body, Kind::Forward)
}

fn create(
    target: TargetMailbox,
    State(shared): State<Shared>,
    Path(MessageKey { id }): Path<MessageKey>,
    headers: HeaderMap,
    body: Bytes,
    kind: Kind,
) -> Result<Response, GraphError> {
    target.require(Need::Write)?;
    let input: ReplyInput = if body.is_empty() {
        ReplyInput::default()
    } else {
        parse_json(&body)?
    };
    let message = input.message.unwrap_or_default();
    if input.comment.is_some() && message.body.is_some() {
        return Err(GraphError::bad_request(
            "ErrorInvalidRequest",
            "Comment and message body cannot be specified at the same time.",
        ));
    }
    let now = shared.now();
    let mut store = shared.lock();
    let oid = target.owner.oid.clone();
    let original = {
        let mailbox = store.mailbox_mut(&oid);
        let index = mailbox
            .message_index(&id)
            .ok_or_else(GraphError::not_found)?;
        mailbox
            .messages
            .get(index)
            .cloned()
            .ok_or_else(GraphError::not_found)?
    };
    let drafts = folder_id(&mut store, &oid, "drafts");
    let mut draft = build(&mut store, &message, drafts, now)?;
    let me = sender(&target.owner);
    if message.subject.is_none() {
        draft.subject = prefixed(kind, &original.subject);
    }
    if message.to_recipients.is_empty() {
        draft.to = match kind {
            Kind::Forward => {
                build(
                    &mut store,
                    &MessageInput {
                        to_recipients: input.to_recipients,
                        ..MessageInput::default()
                    },
                    String::new(),
                    now,
                )?
                .to
            }
            _ => answer_to(&original, kind, &me),
        };
    }
    if message.cc_recipients.is_empty() && kind == Kind::ReplyAll {
        draft.cc = others(&original.cc, &me, &draft.to);
    }
    if message.body.is_none() {
        draft.body_type = original.body_type.clone();
        draft.body = quoted(&original, input.comment.as_deref().unwrap_or_default());
    }
    draft.conversation_id = original.conversation_id.clone();
    if kind != Kind::Forward {
        let references = original
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("references"))
            .map(|(_, v)| format!("{v} {}", original.internet_message_id))
            .unwrap_or_else(|| original.internet_message_id.clone());
        draft.headers.insert(0, ("References".into(), references));
        draft.headers.insert(
            0,
            ("In-Reply-To".into(), original.internet_message_id.clone()),
        );
    } else {
        // A forward carries the original's attachments.
        for a in &original.attachments {
            let mut copy = a.clone();
            copy.id = store.next_graph_id("ATT");
            draft.attachments.push(copy);
        }
    }
    let draft = insert(&mut store, &oid, draft, now);
    let immutable = odata::wants_immutable(&headers);
    let base = shared.graph_base();
    let location = format!(
        "{base}/{}/messages/{}",
        target.path,
        odata::message_id(&draft, immutable)
    );
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(odata::message_json(&draft, immutable, &base)),
    )
        .into_response())
}

fn prefixed(kind: Kind, subject: &str) -> String {
    let prefix = if kind == Kind::Forward {
        "FW: "
    } else {
        "RE: "
    };
    if subject
        .get(..prefix.len())
        .is_some_and(|s| s.eq_ignore_ascii_case(prefix))
    {
        subject.to_owned()
    } else {
        format!("{prefix}{subject}")
    }
}

fn same(a: &Address, b: &Address) -> bool {
    a.address.eq_ignore_ascii_case(&b.address)
}

/// Reply: the original's Reply-To, else its sender. Reply all adds its other
/// To recipients, never the mailbox itself.
fn answer_to(original: &Message, kind: Kind, me: &Address) -> Vec<Address> {
    let mut to: Vec<Address> = if original.reply_to.is_empty() {
        original.from.iter().cloned().collect()
    } else {
        original.reply_to.clone()
    };
    if kind == Kind::ReplyAll {
        let more = others(&original.to, me, &to);
        to.extend(more);
    }
    to
}

fn others(list: &[Address], me: &Address, already: &[Address]) -> Vec<Address> {
    let mut out: Vec<Address> = Vec::new();
    for a in list {
        if !same(a, me) && !already.iter().chain(&out).any(|b| same(a, b)) {
            out.push(a.clone());
        }
    }
    out
}

/// The comment above the original, as Outlook quotes it.
fn quoted(original: &Message, comment: &str) -> String {
    let from = original
        .from
        .as_ref()
        .map(|a| format!("{} <{}>", a.name, a.address))
        .unwrap_or_default();
    if original.body_type == "html" {
        format!(
            "<html><body><div>{comment}</div><hr><div><b>From:</b> {}<br><b>Subject:</b> {}</div>{}</body></html>",
            escape(&from),
            escape(&original.subject),
            original.body
        )
    } else {
        format!(
            "{comment}\r\n\r\n________________________________\r\nFrom: {from}\r\nSubject: {}\r\n\r\n{}",
            original.subject, original.body
        )
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
