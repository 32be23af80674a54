//! Unit tests: Retry-After, backoff, message JSON, error bodies, redaction.

use std::time::Duration;

use app::model::mail::{OutgoingMessage, INLINE_ATTACHMENT_LIMIT};
use chrono::{TimeZone, Utc};
use rand::rngs::StdRng;
use rand::SeedableRng;
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::StatusCode;
use serde_json::json;

use super::errors::{from_status, parse_error_body, ErrorBody};
use super::message::{message_json, plan, Route};
use super::*;

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap()
}

#[test]
fn retry_after_seconds_and_decimals() {
    assert_eq!(parse_retry_after("2", now()), Some(Duration::from_secs(2)));
    assert_eq!(parse_retry_after(" 0 ", now()), Some(Duration::ZERO));
    assert_eq!(
        parse_retry_after("2.5", now()),
        Some(Duration::from_millis(2500))
    );
}

#[test]
fn retry_after_http_dates() {
    assert_eq!(
        parse_retry_after("Wed, 01 Jan 2025 00:00:30 GMT", now()),
        Some(Duration::from_secs(30))
    );
    assert_eq!(
        parse_retry_after("Tue, 31 Dec 2024 23:59:00 GMT", now()),
        Some(Duration::ZERO)
    );
    // RFC 9110's obsolete formats: RFC 850 and asctime.
    assert_eq!(
        parse_retry_after("Wednesday, 01-Jan-25 00:01:00 GMT", now()),
        Some(Duration::from_secs(60))
    );
    assert_eq!(
        parse_retry_after("Wed Jan  1 00:00:05 2025", now()),
        Some(Duration::from_secs(5))
    );
}

#[test]
fn retry_after_garbage_and_negative() {
    for value in [
        "", "soon", "-1", "-2.5", "1e3", "inf", "NaN", "2.", ".5", "+2", "1 2",
    ] {
        assert_eq!(parse_retry_after(value, now()), None, "{value:?}");
    }
    assert_eq!(parse_retry_after("99999999999999999999999", now()), None);
}

#[test]
fn backoff_stays_within_cap_and_exponential_ceiling() {
    let mut rng = StdRng::seed_from_u64(7);
    let base = Duration::from_millis(500);
    let cap = Duration::from_secs(60);
    for attempt in 0..40 {
        let ceiling = base
            .checked_mul(1u32.checked_shl(attempt).unwrap_or(u32::MAX))
            .unwrap_or(cap)
            .min(cap);
        for _ in 0..200 {
            let d = backoff(attempt, base, cap, &mut rng);
            assert!(d <= cap, "{d:?} above cap at attempt {attempt}");
            assert!(d <= ceiling, "{d:?} above {ceiling:?} at attempt {attempt}");
        }
    }
    assert!(backoff(u32::MAX, base, cap, &mut rng) <= cap);
    assert_eq!(
        backoff(3, Duration::ZERO, cap, &mut rng),
        Duration::ZERO,
        "no base, no wait"
    );
}

#[test]
fn backoff_is_spread_out() {
    let mut rng = StdRng::seed_from_u64(42);
    let base = Duration::from_secs(1);
    let cap = Duration::from_secs(30);
    let samples: Vec<Duration> = (0..1000).map(|_| backoff(4, base, cap, &mut rng)).collect();
    let distinct: std::collections::BTreeSet<_> = samples.iter().collect();
    assert!(
        distinct.len() > 900,
        "only {} distinct values",
        distinct.len()
    );
    // Full jitter over [0, 16 s]: both halves are used.
    assert!(samples.iter().any(|d| *d < Duration::from_secs(4)));
    assert!(samples.iter().any(|d| *d > Duration::from_secs(12)));
    let mean = samples.iter().sum::<Duration>() / 1000;
    assert!(
        mean > Duration::from_secs(6) && mean < Duration::from_secs(10),
        "{mean:?}"
    );
}

fn message() -> OutgoingMessage {
    OutgoingMessage {
        to: vec!["a@example.org".into(), "b@example.org".into()],
        cc: vec!["c@example.org".into()],
        bcc: vec!["d@example.org".into()],
        reply_to: vec!["e@example.org".into()],
        subject: "Invoice".into(),
        text_body: Some("plain".into()),
        html_body: None,
        ..OutgoingMessage::default()
    }
}

fn attachment(name: &str, size: usize) -> PreparedAttachment {
    PreparedAttachment {
        name: name.into(),
        content_type: String::new(),
        bytes: vec![7; size],
    }
}

#[test]
fn a_draft_in_another_mailbox_names_it_as_from() {
    let mut draft = message_json(&message(), &[]);
    super::message::from_mailbox(&mut draft, None);
    assert!(draft.get("from").is_none(), "/me: Exchange decides");
    super::message::from_mailbox(&mut draft, Some("support@contoso.com"));
    assert_eq!(
        draft["from"],
        json!({"emailAddress": {"address": "support@contoso.com"}})
    );
}

#[test]
fn text_message_with_every_recipient_kind() {
    let m = message_json(&message(), &[]);
    assert_eq!(
        m,
        json!({
            "subject": "Invoice",
            "body": {"contentType": "Text", "content": "plain"},
            "toRecipients": [
                {"emailAddress": {"address": "a@example.org"}},
                {"emailAddress": {"address": "b@example.org"}},
            ],
            "ccRecipients": [{"emailAddress": {"address": "c@example.org"}}],
            "bccRecipients": [{"emailAddress": {"address": "d@example.org"}}],
            "replyTo": [{"emailAddress": {"address": "e@example.org"}}],
        })
    );
}

#[test]
fn html_wins_over_text_and_empty_html_does_not() {
    let mut m = message();
    m.html_body = Some("<p>hi</p>".into());
    assert_eq!(
        message_json(&m, &[])["body"],
        json!({"contentType": "HTML", "content": "<p>hi</p>"})
    );
    m.html_body = Some("  ".into());
    assert_eq!(message_json(&m, &[])["body"]["contentType"], "Text");
    m.cc.clear();
    m.bcc.clear();
    m.reply_to.clear();
    let json = message_json(&m, &[]);
    assert!(json.get("ccRecipients").is_none() && json.get("replyTo").is_none());
}

#[test]
fn inline_attachment_is_a_base64_file_attachment() {
    let a = PreparedAttachment {
        name: "hello.txt".into(),
        content_type: "text/plain".into(),
        bytes: b"hello".to_vec(),
    };
    let b = attachment("blob", 3);
    let json = message_json(&message(), &[&a, &b]);
    assert_eq!(
        json["attachments"],
        json!([
            {"@odata.type": "#microsoft.graph.fileAttachment", "name": "hello.txt",
             "contentType": "text/plain", "contentBytes": "aGVsbG8="},
            {"@odata.type": "#microsoft.graph.fileAttachment", "name": "blob",
             "contentType": "application/octet-stream", "contentBytes": "BwcH"},
        ])
    );
}

#[test]
fn attachments_are_routed_by_size_and_room_left() {
    let mib = 1024 * 1024;
    let routes = plan(
        &message(),
        &[
            attachment("a", 10),
            attachment("big", 5 * mib),
            attachment("two-a", 2 * mib),
            attachment("two-b", 2 * mib),
            attachment("edge", INLINE_ATTACHMENT_LIMIT),
            attachment("nearly", INLINE_ATTACHMENT_LIMIT - 1),
        ],
    );
    assert_eq!(
        routes,
        [
            Route::Inline,
            Route::UploadSession,
            Route::Inline,
            // 2 MB more would push the draft past 4 MB.
            Route::Post,
            Route::UploadSession,
            // Its base64 alone fills a 4 MB request.
            Route::UploadSession,
        ]
    );
}

#[test]
fn error_body_both_inner_error_spellings() {
    let camel = br#"{"error":{"code":"ErrorInvalidRecipients","message":"Bad recipient.","innerError":{"date":"2025-01-01T00:00:00","request-id":"r-1","client-request-id":"c-1"}}}"#;
    assert_eq!(
        parse_error_body(camel),
        ErrorBody {
            code: "ErrorInvalidRecipients".into(),
            message: "Bad recipient.".into(),
            request_id: Some("r-1".into()),
        }
    );
    let lower = br#"{"error":{"code":"ErrorAccessDenied","message":"Access is denied.","innererror":{"request-id":"r-2"}}}"#;
    assert_eq!(parse_error_body(lower).request_id.as_deref(), Some("r-2"));
    assert_eq!(parse_error_body(lower).code, "ErrorAccessDenied");
}

#[test]
fn error_body_tolerates_empty_html_and_odd_json() {
    let empty = ErrorBody::default();
    assert_eq!(parse_error_body(b""), empty);
    assert_eq!(
        parse_error_body(b"<html><body><h1>502 Bad Gateway</h1></body></html>"),
        empty
    );
    assert_eq!(parse_error_body(b"[1,2]"), empty);
    assert_eq!(parse_error_body(br#"{"error":"nope"}"#), empty);
    assert_eq!(
        parse_error_body(br#"{"error":{"code":5,"message":"m"}}"#).message,
        "m"
    );
    let long = format!(
        r#"{{"error":{{"code":"X","message":"{}"}}}}"#,
        "x".repeat(5000)
    );
    assert_eq!(parse_error_body(long.as_bytes()).message.len(), 500);
}

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.insert(*k, HeaderValue::from_str(v).unwrap());
    }
    h
}

#[test]
fn statuses_sort_into_kinds() {
    let body = br#"{"error":{"code":"TooManyRequests","message":"Slow down."}}"#;
    let busy = from_status(
        StatusCode::TOO_MANY_REQUESTS,
        &headers(&[("retry-after", "2.5")]),
        body,
        now(),
    );
    assert_eq!(busy.retry_after(), Some(Duration::from_millis(2500)));
    assert_eq!(
        busy.describe(),
        "Graph is busy (429 TooManyRequests): Slow down. Retry after 2.5 s."
    );
    assert!(matches!(
        from_status(StatusCode::GATEWAY_TIMEOUT, &HeaderMap::new(), b"", now()),
        GraphError::Busy {
            status: 504,
            retry_after: None,
            ..
        }
    ));
    assert!(matches!(
        from_status(StatusCode::UNAUTHORIZED, &HeaderMap::new(), b"", now()),
        GraphError::Unauthorized { .. }
    ));
    assert!(matches!(
        from_status(StatusCode::BAD_GATEWAY, &HeaderMap::new(), b"<html>", now()),
        GraphError::Ambiguous(_)
    ));
    let rejected = from_status(
        StatusCode::PAYLOAD_TOO_LARGE,
        &headers(&[("request-id", "hdr-1")]),
        b"<html>too big</html>",
        now(),
    );
    assert_eq!(
        rejected.describe(),
        "Graph refused the message (413 Payload Too Large). (request-id hdr-1)"
    );
    assert_eq!(rejected.retry_after(), None);
}

#[test]
fn describe_reads_as_one_sentence() {
    let e = GraphError::Rejected {
        status: 400,
        code: "ErrorInvalidRecipients".into(),
        message: "At least one recipient is not valid.".into(),
        request_id: Some("r-1".into()),
    };
    assert_eq!(
        e.describe(),
        "Graph refused the message (400 ErrorInvalidRecipients): At least one recipient is not valid. (request-id r-1)"
    );
    assert_eq!(e.to_string(), e.describe());
    assert_eq!(
        GraphError::Unreachable("connection refused".into()).describe(),
        "Graph could not be reached: connection refused."
    );
}

#[test]
fn attachment_debug_hides_the_bytes() {
    let a = PreparedAttachment {
        name: "secret.pdf".into(),
        content_type: "application/pdf".into(),
        bytes: b"TOP-SECRET-CONTENT".to_vec(),
    };
    let shown = format!("{a:?}");
    assert!(
        shown.contains("secret.pdf") && shown.contains("<18 bytes>"),
        "{shown}"
    );
    assert!(
        !shown.contains("TOP-SECRET") && !shown.contains("84, 79"),
        "{shown}"
    );
}

#[test]
fn urls_name_the_tokens_mailbox_on_the_tokens_graph() {
    let g = GraphClient::new(clock()).unwrap();
    let mut token = crate::identity::AccessToken {
        token: "t".into(),
        expires_at: chrono::DateTime::UNIX_EPOCH,
        graph: crate::identity::graph_target::GraphTarget::me("https://graph.microsoft.us/v1.0/")
            .unwrap(),
    };
    let url = |t: &crate::identity::AccessToken, s: &[&str]| g.url(t, s).unwrap().to_string();
    assert_eq!(
        url(&token, &["me", "messages", "a/b+c"]),
        "https://graph.microsoft.us/v1.0/me/messages/a%2Fb+c"
    );
    assert_eq!(
        url(&token, &["subscriptions"]),
        "https://graph.microsoft.us/v1.0/subscriptions"
    );
    token.graph.user = Some("support@contoso.us".into());
    assert_eq!(
        url(&token, &["me", "mailFolders", "inbox"]),
        "https://graph.microsoft.us/v1.0/users/support@contoso.us/mailFolders/inbox"
    );
}

fn clock() -> std::sync::Arc<dyn crate::clock::Clock> {
    std::sync::Arc::new(crate::clock::SystemClock)
}

#[test]
fn a_reply_lays_only_what_was_given_over_graphs_draft() {
    let reply = OutgoingMessage {
        in_reply_to: Some("m-1".into()),
        importance: Some("High".into()),
        headers: [("X-Ticket".to_string(), "T-1".to_string())].into(),
        ..OutgoingMessage::default()
    };
    let body = message_json(&reply, &[]);
    // Graph's subject (RE: …) and quote stay; importance and headers go.
    assert!(
        body.get("subject").is_none() && body.get("body").is_none(),
        "{body}"
    );
    assert_eq!(body["importance"], "high");
    assert_eq!(
        body["internetMessageHeaders"],
        json!([{"name": "X-Ticket", "value": "T-1"}])
    );
    let small = PreparedAttachment {
        name: "a.txt".into(),
        content_type: "text/plain".into(),
        bytes: vec![1; 10],
    };
    // Files are added to the reply's draft after it exists, never inline.
    assert_eq!(
        plan(&reply, std::slice::from_ref(&small)),
        vec![Route::Post]
    );
    let new = OutgoingMessage {
        to: vec!["a@b.example".into()],
        ..OutgoingMessage::default()
    };
    let body = message_json(&new, &[]);
    assert_eq!(body["subject"], "");
    assert_eq!(body["body"]["content"], "");
    assert_eq!(plan(&new, &[small]), vec![Route::Inline]);
}
