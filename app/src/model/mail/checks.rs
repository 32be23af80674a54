//! Rules for replies, forwards, importance and custom headers.

use super::*;

/// The Inbox reader's reply text (checked in the browser and on the server).
pub fn check_reply_text(text: &str) -> Option<String> {
    if text.trim().is_empty() {
        Some("Write the reply.".into())
    } else if text.len() > MAX_BODY_BYTES {
        Some(format!(
            "A reply is at most {} MB.",
            MAX_BODY_BYTES / 1024 / 1024
        ))
    } else {
        None
    }
}

fn check_received_id(errors: &mut FieldErrors, field: &str, id: &Option<String>) {
    if let Some(id) = id {
        if id.contains('@') {
            // `"reply_to": "desk@contoso.com"` meant a Reply-To address.
            errors.add(
                field,
                "This takes the id of a received message (reply_to as one string means the message replied to); Reply-To addresses are a list: \"reply_to\": [\"desk@contoso.com\"].",
            );
        } else if id.trim().is_empty() || id.len() > 200 || id.chars().any(|c| c.is_control()) {
            errors.add(field, "The id of a received message of this mailbox.");
        }
    }
}

pub(super) fn check_origin(errors: &mut FieldErrors, m: &OutgoingMessage) {
    check_received_id(errors, IN_REPLY_TO, &m.in_reply_to);
    check_received_id(errors, FORWARD_OF, &m.forward_of);
    if m.in_reply_to.is_some() && m.forward_of.is_some() {
        errors.add(FORWARD_OF, "Reply or forward, not both.");
    }
    if m.reply_all && m.in_reply_to.is_none() {
        errors.add(
            REPLY_ALL,
            "reply_all needs in_reply_to: the message to reply to.",
        );
    }
}

pub(super) fn check_importance(errors: &mut FieldErrors, importance: Option<&str>) {
    if let Some(value) = importance {
        if !["low", "normal", "high"]
            .iter()
            .any(|v| v.eq_ignore_ascii_case(value))
        {
            errors.add(IMPORTANCE, "One of low, normal or high.");
        }
    }
}

/// Graph's rules (only `x-` names, at most five) and RFC 5322's (a field name
/// is printable ASCII without `:`, a line at most 998 characters, no line breaks).
pub fn check_headers(errors: &mut FieldErrors, headers: &BTreeMap<String, String>) {
    if headers.len() > MAX_CUSTOM_HEADERS {
        errors.add(
            HEADERS,
            format!("At most {MAX_CUSTOM_HEADERS} headers (Graph's limit)."),
        );
        return;
    }
    let mut seen: Vec<String> = Vec::new();
    for (name, value) in headers {
        let lower = name.to_ascii_lowercase();
        let problem = if !lower.starts_with("x-") || name.len() < 3 {
            Some("a custom header's name starts with x- (Graph refuses others).".to_string())
        } else if !name.bytes().all(|b| (33..=126).contains(&b) && b != b':') {
            Some("a header name is printable ASCII without spaces or colons.".to_string())
        } else if lower.starts_with("x-ms-exchange-") {
            Some(
                "x-ms-exchange- headers are Exchange's own and are removed in transit.".to_string(),
            )
        } else if value.chars().any(|c| c.is_control()) {
            Some("a header value is one line, without control characters.".to_string())
        } else if name.len() + 2 + value.len() > MAX_HEADER_LINE {
            Some(format!(
                "name and value together are at most {MAX_HEADER_LINE} characters."
            ))
        } else if seen.contains(&lower) {
            Some("given twice (header names ignore case).".to_string())
        } else {
            None
        };
        if let Some(why) = problem {
            errors.add(HEADERS, format!("{name:?}: {why}"));
            return;
        }
        seen.push(lower);
    }
}
