//! Outgoing mail as the application (host API) and the admin ("Send test
//! email") hand it over, its validation, and the outbox states.
use super::identifiers::validate_address;
use super::FieldErrors;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const TO: &str = "to";
pub const CC: &str = "cc";
pub const BCC: &str = "bcc";
pub const REPLY_TO: &str = "reply_to";
pub const SUBJECT: &str = "subject";
pub const BODY: &str = "body";
pub const ATTACHMENTS: &str = "attachments";
pub const IDEMPOTENCY_KEY: &str = "idempotency_key";
pub const IN_REPLY_TO: &str = "in_reply_to";
pub const REPLY_ALL: &str = "reply_all";
pub const FORWARD_OF: &str = "forward_of";
pub const IMPORTANCE: &str = "importance";
pub const HEADERS: &str = "headers";

/// Graph takes at most five `internetMessageHeaders` on a message.
pub const MAX_CUSTOM_HEADERS: usize = 5;
/// A header line is at most 998 characters (RFC 5322 §2.1.1); name, colon and space included.
pub const MAX_HEADER_LINE: usize = 998;

/// Exchange Online refuses more recipients than this on one message.
pub const MAX_RECIPIENTS: usize = 500;
/// Graph accepts attachments up to 150 MB through upload sessions; Exchange's
/// default message size limit is 35 MB, so that is the product's limit.
pub const MAX_ATTACHMENT_BYTES: usize = 35 * 1024 * 1024;
pub const MAX_TOTAL_ATTACHMENT_BYTES: usize = 35 * 1024 * 1024;
/// Below this an attachment travels inside the draft; above it, an upload session.
pub const INLINE_ATTACHMENT_LIMIT: usize = 3 * 1024 * 1024;
pub const MAX_SUBJECT_CHARS: usize = 998;
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
pub const MAX_IDEMPOTENCY_KEY_CHARS: usize = 200;

#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutgoingAttachment {
    pub name: String,
    /// e.g. `application/pdf`; `application/octet-stream` when empty.
    #[serde(default)]
    pub content_type: String,
    /// The bytes, base64 (standard alphabet).
    pub content_base64: String,
}

/// A message to send: new, or a reply or forward of a received message.
///
/// `reply_to` is the Reply-To addresses (a list); given as a single string it
/// is instead the id of the received message to reply to, the same as
/// `in_reply_to`.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "wire::Message")]
pub struct OutgoingMessage {
    /// Required unless replying (a reply goes to the original's sender, or
    /// its Reply-To, when `to` is empty).
    #[serde(default)]
    pub to: Vec<String>,
    #[serde(default)]
    pub cc: Vec<String>,
    #[serde(default)]
    pub bcc: Vec<String>,
    /// Reply-To addresses.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(value_type = Vec<String>))]
    pub reply_to: Vec<String>,
    /// Empty on a reply or forward keeps Graph's (`RE: …`, `FW: …`).
    #[serde(default)]
    pub subject: String,
    /// Plain text body. When `html_body` is also given, Graph gets the HTML
    /// (a Graph message has one body). A reply or forward may have none: it
    /// then carries only Graph's quote of the original.
    #[serde(default)]
    pub text_body: Option<String>,
    #[serde(default)]
    pub html_body: Option<String>,
    #[serde(default)]
    pub attachments: Vec<OutgoingAttachment>,
    /// Unique per sending mailbox: enqueueing the same key again returns the
    /// message already queued instead of a second one.
    #[serde(default)]
    pub idempotency_key: Option<String>,
    /// The id of a received message of the sending mailbox to reply to: the
    /// draft is made by Graph's `createReply`, so it is in the original's
    /// conversation with its `In-Reply-To` and `References`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_reply_to: Option<String>,
    /// With `in_reply_to`: reply to everyone (`createReplyAll`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub reply_all: bool,
    /// The id of a received message to forward (`createForward`; its
    /// attachments go along).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forward_of: Option<String>,
    /// `low`, `normal` or `high`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub importance: Option<String>,
    /// Custom Internet headers: at most 5, each name starting with `x-`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl OutgoingMessage {
    /// The received message this answers or forwards, by its id in Tenant Mail.
    pub fn origin(&self) -> Option<(Origin, &str)> {
        match (&self.in_reply_to, &self.forward_of) {
            (Some(id), _) if self.reply_all => Some((Origin::ReplyAll, id)),
            (Some(id), _) => Some((Origin::Reply, id)),
            (None, Some(id)) => Some((Origin::Forward, id)),
            (None, None) => None,
        }
    }
}

/// How a draft comes from a received message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Reply,
    ReplyAll,
    Forward,
}

mod checks;
mod wire;

pub use checks::{check_headers, check_reply_text};
use checks::{check_importance, check_origin};

/// Decoded attachment sizes, without allocating: base64 length × 3 / 4 minus padding.
pub fn decoded_len(b64: &str) -> Option<usize> {
    let t = b64.trim();
    if !t.len().is_multiple_of(4)
        || !t
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'='))
    {
        return None;
    }
    let pad = t.bytes().rev().take_while(|c| *c == b'=').count();
    if pad > 2 {
        return None;
    }
    Some(t.len() / 4 * 3 - pad)
}

fn check_list(errors: &mut FieldErrors, field: &str, list: &[String], required: bool) {
    if required && list.iter().all(|a| a.trim().is_empty()) {
        errors.add(field, "Add at least one recipient.");
        return;
    }
    for address in list {
        if let Err(m) = validate_address(address) {
            errors.add(field, format!("{address:?}: {m}"));
            return;
        }
    }
}

/// Every problem, per field. An empty result means the message can be queued.
pub fn validate(m: &OutgoingMessage) -> FieldErrors {
    let mut errors = FieldErrors::new();
    let origin = m.origin().map(|(o, _)| o);
    let replying = matches!(origin, Some(Origin::Reply | Origin::ReplyAll));
    check_list(
        &mut errors,
        TO,
        &m.to,
        !replying && m.cc.is_empty() && m.bcc.is_empty(),
    );
    check_list(&mut errors, CC, &m.cc, false);
    check_list(&mut errors, BCC, &m.bcc, false);
    check_list(&mut errors, REPLY_TO, &m.reply_to, false);
    let recipients = m.to.len() + m.cc.len() + m.bcc.len();
    if recipients > MAX_RECIPIENTS {
        errors.add(
            TO,
            format!(
                "{recipients} recipients; Exchange allows at most {MAX_RECIPIENTS} per message."
            ),
        );
    }
    if m.subject.chars().count() > MAX_SUBJECT_CHARS {
        errors.add(
            SUBJECT,
            format!("Use at most {MAX_SUBJECT_CHARS} characters."),
        );
    }
    if m.subject.contains(['\r', '\n']) {
        errors.add(SUBJECT, "A subject is one line.");
    }
    let text = m.text_body.as_deref().unwrap_or_default();
    let html = m.html_body.as_deref().unwrap_or_default();
    if text.trim().is_empty() && html.trim().is_empty() && origin.is_none() {
        errors.add(BODY, "Add a text or HTML body.");
    }
    check_origin(&mut errors, m);
    check_importance(&mut errors, m.importance.as_deref());
    check_headers(&mut errors, &m.headers);
    if text.len() > MAX_BODY_BYTES || html.len() > MAX_BODY_BYTES {
        errors.add(
            BODY,
            format!("A body is at most {} MB.", MAX_BODY_BYTES / 1024 / 1024),
        );
    }
    let mut total = 0usize;
    for a in &m.attachments {
        let name = a.name.trim();
        if name.is_empty() || name.len() > 255 || name.contains(['/', '\\', '\0']) {
            errors.add(ATTACHMENTS, format!("{name:?} is not a usable file name."));
            break;
        }
        match decoded_len(&a.content_base64) {
            None => {
                errors.add(
                    ATTACHMENTS,
                    format!("{name}: content_base64 is not base64."),
                );
                break;
            }
            Some(n) if n > MAX_ATTACHMENT_BYTES => {
                errors.add(ATTACHMENTS, format!("{name} is larger than 35 MB."));
                break;
            }
            Some(n) => total += n,
        }
    }
    if total > MAX_TOTAL_ATTACHMENT_BYTES {
        errors.add(ATTACHMENTS, "Attachments add up to more than 35 MB.");
    }
    if let Some(key) = &m.idempotency_key {
        if key.is_empty()
            || key.chars().count() > MAX_IDEMPOTENCY_KEY_CHARS
            || key.chars().any(|c| c.is_control())
        {
            errors.add(
                IDEMPOTENCY_KEY,
                format!("1 to {MAX_IDEMPOTENCY_KEY_CHARS} printable characters."),
            );
        }
    }
    errors
}

/// Where a queued message is. `Held`: the mailbox needs re-authentication (or
/// its credentials are invalid); kept, and released when it is connected again.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxState {
    Queued,
    Sending,
    Sent,
    Failed,
    Held,
    Cancelled,
}

impl OutboxState {
    pub const ALL: [OutboxState; 6] = [
        OutboxState::Queued,
        OutboxState::Sending,
        OutboxState::Sent,
        OutboxState::Failed,
        OutboxState::Held,
        OutboxState::Cancelled,
    ];
    pub fn code(self) -> &'static str {
        match self {
            OutboxState::Queued => "queued",
            OutboxState::Sending => "sending",
            OutboxState::Sent => "sent",
            OutboxState::Failed => "failed",
            OutboxState::Held => "held",
            OutboxState::Cancelled => "cancelled",
        }
    }
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }
    pub fn label(self) -> &'static str {
        match self {
            OutboxState::Queued => "Queued",
            OutboxState::Sending => "Sending",
            OutboxState::Sent => "Sent",
            OutboxState::Failed => "Failed",
            OutboxState::Held => "Held (re-authenticate)",
            OutboxState::Cancelled => "Cancelled",
        }
    }
    /// No further change will happen on its own.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            OutboxState::Sent | OutboxState::Failed | OutboxState::Cancelled
        )
    }
}

/// One outbox entry as the UI and the host API show it.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntryView {
    pub id: String,
    pub state: OutboxState,
    pub subject: String,
    pub to: Vec<String>,
    pub attempts: i32,
    /// Why it failed or is held, or the last transient error while retrying.
    pub last_error: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    pub sent_at: Option<String>,
    pub next_attempt_at: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok_message() -> OutgoingMessage {
        OutgoingMessage {
            to: vec!["someone@contoso.com".into()],
            subject: "Hello".into(),
            text_body: Some("Hi".into()),
            ..OutgoingMessage::default()
        }
    }

    #[test]
    fn a_plain_message_is_valid() {
        assert!(validate(&ok_message()).is_empty());
    }

    #[test]
    fn each_problem_is_reported_on_its_field() {
        let m = OutgoingMessage {
            to: vec![],
            cc: vec!["not an address".into()],
            subject: "two\nlines".into(),
            text_body: None,
            attachments: vec![OutgoingAttachment {
                name: "a.pdf".into(),
                content_type: String::new(),
                content_base64: "***".into(),
            }],
            idempotency_key: Some(String::new()),
            ..OutgoingMessage::default()
        };
        let e = validate(&m);
        for f in [CC, SUBJECT, BODY, ATTACHMENTS, IDEMPOTENCY_KEY] {
            assert!(e.get(f).is_some(), "{f}: {e:?}");
        }
        let none = OutgoingMessage {
            to: vec![],
            ..ok_message()
        };
        assert!(validate(&none).get(TO).is_some());
        let many = OutgoingMessage {
            to: (0..501).map(|i| format!("u{i}@contoso.com")).collect(),
            ..ok_message()
        };
        assert!(validate(&many).get(TO).unwrap().contains("500"));
    }

    #[test]
    fn attachment_sizes_come_from_the_base64_length() {
        assert_eq!(decoded_len("aGVsbG8="), Some(5));
        assert_eq!(decoded_len("aGVsbG8h"), Some(6));
        assert_eq!(decoded_len("abc"), None);
        assert_eq!(decoded_len("a==="), None);
        let big = OutgoingMessage {
            attachments: vec![OutgoingAttachment {
                name: "big.bin".into(),
                content_type: String::new(),
                content_base64: "A".repeat((MAX_ATTACHMENT_BYTES / 3 + 1) * 4),
            }],
            ..ok_message()
        };
        assert!(validate(&big).get(ATTACHMENTS).unwrap().contains("35 MB"));
    }

    #[test]
    fn states_round_trip() {
        for s in OutboxState::ALL {
            assert_eq!(OutboxState::from_code(s.code()), Some(s));
        }
    }

    #[test]
    fn reply_to_is_the_addresses_or_the_message_replied_to() {
        let listed: OutgoingMessage =
            serde_json::from_str(r#"{"to":["a@b.example"],"reply_to":["desk@contoso.com"]}"#)
                .unwrap();
        assert_eq!(listed.reply_to, vec!["desk@contoso.com"]);
        assert_eq!(listed.origin(), None);
        let reply: OutgoingMessage = serde_json::from_str(r#"{"reply_to":"m-1"}"#).unwrap();
        assert!(reply.reply_to.is_empty());
        assert_eq!(reply.origin(), Some((Origin::Reply, "m-1")));
        let all: OutgoingMessage =
            serde_json::from_str(r#"{"in_reply_to":"m-1","reply_all":true}"#).unwrap();
        assert_eq!(all.origin(), Some((Origin::ReplyAll, "m-1")));
        let forward: OutgoingMessage = serde_json::from_str(r#"{"forward_of":"m-2"}"#).unwrap();
        assert_eq!(forward.origin(), Some((Origin::Forward, "m-2")));
        assert!(serde_json::from_str::<OutgoingMessage>(
            r#"{"reply_to":"m-1","in_reply_to":"m-2"}"#
        )
        .is_err());
        // Stored and read back unchanged (the outbox keeps it as JSON); a new
        // message's JSON has none of the reply fields (its request hash is
        // what it was before they existed).
        let back: OutgoingMessage =
            serde_json::from_str(&serde_json::to_string(&all).unwrap()).unwrap();
        assert_eq!(back, all);
        let plain = serde_json::to_value(ok_message()).unwrap();
        for key in [
            "in_reply_to",
            "reply_all",
            "forward_of",
            "importance",
            "headers",
        ] {
            assert!(plain.get(key).is_none(), "{key}");
        }
    }

    #[test]
    fn a_reply_needs_no_recipient_subject_or_body_but_a_forward_needs_a_recipient() {
        let reply = OutgoingMessage {
            in_reply_to: Some("m-1".into()),
            ..OutgoingMessage::default()
        };
        assert!(validate(&reply).is_empty(), "{:?}", validate(&reply));
        let forward = OutgoingMessage {
            forward_of: Some("m-1".into()),
            ..OutgoingMessage::default()
        };
        assert!(validate(&forward).get(TO).is_some());
        let both = OutgoingMessage {
            forward_of: Some("m-1".into()),
            ..reply.clone()
        };
        assert!(validate(&both).get(FORWARD_OF).is_some());
        let all_alone = OutgoingMessage {
            reply_all: true,
            ..ok_message()
        };
        assert!(validate(&all_alone).get(REPLY_ALL).is_some());
    }

    #[test]
    fn importance_and_headers_follow_graph_and_rfc_5322() {
        let with = |importance: &str, headers: &[(&str, &str)]| OutgoingMessage {
            importance: Some(importance.into()),
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            ..ok_message()
        };
        assert!(validate(&with("High", &[("X-Ticket", "T-1"), ("x-a", "")])).is_empty());
        assert!(validate(&with("urgent", &[])).get(IMPORTANCE).is_some());
        for bad in [
            vec![("Subject", "x")],
            vec![("X-Has Space", "x")],
            vec![("X-Colon:", "x")],
            vec![("X-Line", "a\r\nBcc: x@y.example")],
            vec![("X-MS-Exchange-Organization-SCL", "-1")],
            vec![("X-Long", &*"v".repeat(MAX_HEADER_LINE))],
            vec![("X-Dup", "1"), ("x-dup", "2")],
            vec![
                ("X-1", ""),
                ("X-2", ""),
                ("X-3", ""),
                ("X-4", ""),
                ("X-5", ""),
                ("X-6", ""),
            ],
        ] {
            assert!(
                validate(&with("normal", &bad)).get(HEADERS).is_some(),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn the_readers_reply_text_is_checked() {
        assert!(check_reply_text(" \n ").is_some());
        assert!(check_reply_text("Thanks").is_none());
        assert!(check_reply_text(&"x".repeat(MAX_BODY_BYTES + 1)).is_some());
    }
}
