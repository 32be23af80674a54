//! What can go wrong talking to Graph, sorted by what the outbox worker should do next.

use std::error::Error as _;
use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde_json::Value;

use super::retry::parse_retry_after;

/// Graph's error messages are one sentence; anything longer is not worth showing an admin.
const MAX_MESSAGE_CHARS: usize = 500;
/// Graph's codes (`ErrorInvalidRecipients`) and request ids (a GUID) are
/// short; a proxy's page or a hostile answer must not become a 64 KiB line
/// on the admin's screen and in the outbox row (the `graph_error` fuzz
/// target holds every answer to this).
const MAX_CODE_CHARS: usize = 100;

/// A code or request id as kept: trimmed and cut to `MAX_CODE_CHARS`.
fn short(text: &str) -> String {
    text.trim().chars().take(MAX_CODE_CHARS).collect()
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphError {
    /// 429, 503, 504: try again later, after `retry_after` when Graph said so.
    #[error("{}", self.describe())]
    Busy {
        status: u16,
        retry_after: Option<Duration>,
        code: String,
        message: String,
    },
    /// The request may have reached Graph: timeout, connection dropped after sending, or another 5xx.
    #[error("{}", self.describe())]
    Ambiguous(String),
    /// Nothing reached Graph (connection refused / DNS / TLS before sending).
    #[error("{}", self.describe())]
    Unreachable(String),
    /// 401: the access token was refused.
    #[error("{}", self.describe())]
    Unauthorized { code: String, message: String },
    /// Any other 4xx: permanent. Carries Graph's error code/message and request-id.
    #[error("{}", self.describe())]
    Rejected {
        status: u16,
        code: String,
        message: String,
        request_id: Option<String>,
    },
    /// Client construction or a response we could not parse at all.
    #[error("{}", self.describe())]
    Internal(String),
}

impl GraphError {
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            GraphError::Busy { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// A short sentence for the admin UI / API. Built only from Graph's error code and message and
    /// from reqwest errors stripped of their URL, so it never contains a token or an upload URL.
    pub fn describe(&self) -> String {
        match self {
            GraphError::Busy {
                status,
                retry_after,
                code,
                message,
            } => {
                let mut text = sentence(
                    &format!("Graph is busy ({})", label(*status, code)),
                    message,
                );
                if let Some(wait) = retry_after {
                    text.push_str(&format!(" Retry after {:.1} s.", wait.as_secs_f64()));
                }
                text
            }
            GraphError::Ambiguous(detail) => sentence(
                "The request to Graph may or may not have been carried out",
                detail,
            ),
            GraphError::Unreachable(detail) => sentence("Graph could not be reached", detail),
            GraphError::Unauthorized { code, message } => sentence(
                &format!("Graph refused the access token ({})", label(401, code)),
                message,
            ),
            GraphError::Rejected {
                status,
                code,
                message,
                request_id,
            } => {
                let mut text = sentence(
                    &format!("Graph refused the message ({})", label(*status, code)),
                    message,
                );
                if let Some(fix) = remedy(code, message) {
                    text.push(' ');
                    text.push_str(fix);
                }
                if let Some(id) = request_id {
                    text.push_str(&format!(" (request-id {id})"));
                }
                text
            }
            GraphError::Internal(detail) => sentence("Graph client error", detail),
        }
    }
}

/// "400 ErrorInvalidRecipients"; the HTTP reason ("413 Payload Too Large") when Graph gave no code.
fn label(status: u16, code: &str) -> String {
    let code = if code.is_empty() {
        StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or_default()
    } else {
        code
    };
    format!("{status} {code}").trim_end().to_owned()
}

/// "head: detail." or "head." — one sentence whatever punctuation the detail brings.
fn sentence(head: &str, detail: &str) -> String {
    let detail = detail.trim().trim_end_matches('.');
    if detail.is_empty() {
        format!("{head}.")
    } else {
        format!("{head}: {detail}.")
    }
}

/// Graph's `{"error":{"code","message","innerError"|"innererror":{"request-id"}}}`; every part optional
/// because proxies and gateways in front of Graph answer with HTML or nothing at all.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct ErrorBody {
    pub code: String,
    pub message: String,
    pub request_id: Option<String>,
}

pub(crate) fn parse_error_body(body: &[u8]) -> ErrorBody {
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return ErrorBody::default();
    };
    let error = &value["error"];
    let text = |v: &Value| v.as_str().unwrap_or_default().trim().to_owned();
    let inner = match &error["innerError"] {
        Value::Null => &error["innererror"],
        inner => inner,
    };
    ErrorBody {
        code: short(error["code"].as_str().unwrap_or_default()),
        message: text(&error["message"])
            .chars()
            .take(MAX_MESSAGE_CHARS)
            .collect(),
        request_id: Some(short(inner["request-id"].as_str().unwrap_or_default()))
            .filter(|s| !s.is_empty()),
    }
}

/// Sorts a non-2xx answer. `now` is only for an HTTP-date `Retry-After`.
pub(crate) fn from_status(
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    now: chrono::DateTime<chrono::Utc>,
) -> GraphError {
    let ErrorBody {
        code,
        message,
        request_id,
    } = parse_error_body(body);
    let status_u16 = status.as_u16();
    match status_u16 {
        429 | 503 | 504 => GraphError::Busy {
            status: status_u16,
            retry_after: headers
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| parse_retry_after(v, now)),
            code,
            message,
        },
        401 => GraphError::Unauthorized { code, message },
        400..=499 => GraphError::Rejected {
            status: status_u16,
            code,
            message,
            // Graph puts the same id in a header; the body may be a proxy's page without it.
            request_id: request_id.or_else(|| {
                headers
                    .get("request-id")
                    .and_then(|v| v.to_str().ok())
                    .map(short)
                    .filter(|v: &String| !v.is_empty())
            }),
        },
        // A 500/502 (or an unexpected 1xx/3xx: redirects are off) may come after Graph acted.
        _ => GraphError::Ambiguous(
            sentence(&format!("HTTP {}", label(status_u16, &code)), &message)
                .trim_end_matches('.')
                .to_owned(),
        ),
    }
}

/// Sorts a transport error. Only a failure to connect proves nothing was sent; everything else
/// (timeouts, resets, "connection closed before message completed", unreadable bodies) may have
/// happened after Graph acted, so it is Ambiguous and the worker looks the draft up.
pub(crate) fn from_reqwest(e: reqwest::Error) -> GraphError {
    if e.is_builder() {
        return GraphError::Internal(chain(e));
    }
    // Checked before is_timeout: a connect timeout is both, and nothing was sent.
    if e.is_connect() {
        return GraphError::Unreachable(chain(e));
    }
    GraphError::Ambiguous(chain(e))
}

/// The error and its causes, without the URL (an upload URL is a credential; ids are noise).
pub(crate) fn chain(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if parts.last() != Some(&text) {
            parts.push(text);
        }
        source = cause.source();
    }
    parts.join(": ")
}

/// What an admin does about Exchange's refusals of another mailbox (a
/// shared mailbox opened by a delegate, or an application's access).
fn remedy(code: &str, message: &str) -> Option<&'static str> {
    match code {
        "ErrorSendAsDenied" => Some("The account that signed in has no Send As right on this mailbox: in the Exchange admin center → Recipients → Mailboxes → this mailbox → Delegation, add it under Send as (it takes effect within an hour)."),
        "ErrorAccessDenied" if message.contains("OData is disabled") => Some("An Exchange application access policy keeps the app away from this mailbox: add the mailbox to the policy's security group (Test-ApplicationAccessPolicy shows the verdict)."),
        "ErrorAccessDenied" => Some("The account or app may not open this mailbox: a shared mailbox's delegate needs Full Access (Delegation → Read and manage) and the .Shared scopes; an application needs the Mail.ReadWrite and Mail.Send application permissions with admin consent."),
        _ => None,
    }
}
