//! What Graph (or a proxy in front of it) answers: error bodies and
//! headers, `Retry-After`, and delta pages.
use crate::mail::graph::{from_status, parse_delta, parse_retry_after, GraphError};
use chrono::{DateTime, Utc};
use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};
use reqwest::StatusCode;
use std::time::Duration;

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_796_558_400, 0).unwrap_or_default()
}

/// Whole seconds are exactly that wait; anything else parses or is refused.
pub fn retry_after(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let parsed = parse_retry_after(&text, now());
    let trimmed = text.trim();
    if !trimmed.is_empty() && trimmed.len() <= 12 && trimmed.bytes().all(|b| b.is_ascii_digit()) {
        let seconds: u64 = trimmed.parse().unwrap_or_default();
        assert_eq!(parsed, Some(Duration::from_secs(seconds)));
    }
}

/// The first two bytes pick the status, the bytes up to the first NUL are
/// the `Retry-After` and `request-id` headers, the rest is the body. The
/// status decides the kind, and the sentence an admin sees stays short
/// whatever the body holds.
pub fn graph_error(data: &[u8]) {
    let [a, b, rest @ ..] = data else { return };
    let status = 100 + u16::from_be_bytes([*a, *b]) % 500;
    let Ok(status) = StatusCode::from_u16(status) else {
        return;
    };
    let (header, body) = match rest.iter().position(|&x| x == 0) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &[][..]),
    };
    let mut headers = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_bytes(header) {
        headers.insert(RETRY_AFTER, value.clone());
        headers.insert("request-id", value);
    }
    let error = from_status(status, &headers, body, now());
    let kind_ok = match status.as_u16() {
        429 | 503 | 504 => matches!(error, GraphError::Busy { .. }),
        401 => matches!(error, GraphError::Unauthorized { .. }),
        400..=499 => matches!(error, GraphError::Rejected { .. }),
        _ => matches!(error, GraphError::Ambiguous(_)),
    };
    assert!(kind_ok, "{status} sorted as {error:?}");
    let shown = error.describe().chars().count();
    assert!(shown <= 1_000, "an admin would read {shown} characters");
}

/// A delta answer that parses has somewhere to go next, and every message
/// it yields has an id.
pub fn delta_page(data: &[u8]) {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    if let Ok(page) = parse_delta(&value) {
        assert!(page.next_link.is_some() || page.delta_link.is_some());
        assert!(page.messages.iter().all(|m| !m.id.is_empty()));
        let entries = value["value"].as_array().map_or(0, Vec::len);
        assert!(page.messages.len() + page.removed.len() <= entries);
    }
}
