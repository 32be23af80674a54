//! The message as JSON gives it: `reply_to` may be the addresses or the id of
//! the message replied to.

use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Deserialize)]
#[serde(untagged)]
pub enum ReplyTo {
    Addresses(Vec<String>),
    Message(String),
}

#[derive(Deserialize)]
pub struct Message {
    #[serde(default)]
    to: Vec<String>,
    #[serde(default)]
    cc: Vec<String>,
    #[serde(default)]
    bcc: Vec<String>,
    #[serde(default)]
    reply_to: Option<ReplyTo>,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    text_body: Option<String>,
    #[serde(default)]
    html_body: Option<String>,
    #[serde(default)]
    attachments: Vec<super::OutgoingAttachment>,
    #[serde(default)]
    idempotency_key: Option<String>,
    #[serde(default)]
    in_reply_to: Option<String>,
    #[serde(default)]
    reply_all: bool,
    #[serde(default)]
    forward_of: Option<String>,
    #[serde(default)]
    importance: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
}

impl TryFrom<Message> for super::OutgoingMessage {
    type Error = &'static str;
    fn try_from(m: Message) -> Result<Self, Self::Error> {
        let (reply_to, replied) = match m.reply_to {
            None => (Vec::new(), None),
            Some(ReplyTo::Addresses(list)) => (list, None),
            Some(ReplyTo::Message(id)) => (Vec::new(), Some(id)),
        };
        let in_reply_to = match (replied, m.in_reply_to) {
            (Some(a), Some(b)) if a != b => {
                return Err("reply_to (a message id) and in_reply_to name different messages")
            }
            (a, b) => a.or(b),
        };
        Ok(Self {
            to: m.to,
            cc: m.cc,
            bcc: m.bcc,
            reply_to,
            subject: m.subject,
            text_body: m.text_body,
            html_body: m.html_body,
            attachments: m.attachments,
            idempotency_key: m.idempotency_key,
            in_reply_to,
            reply_all: m.reply_all,
            forward_of: m.forward_of,
            importance: m.importance,
            headers: m.headers,
        })
    }
}
