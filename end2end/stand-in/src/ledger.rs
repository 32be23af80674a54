//! The record of everything the stand-in received that tests assert on.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Ledger {
    /// Distinct messages sent, with how many times each identical message was sent.
    pub sent: Vec<SentMail>,
    pub token_requests: Vec<TokenRequest>,
    pub graph_requests: Vec<GraphRequest>,
    /// Highest number of simultaneous Graph requests seen per mailbox (see [`crate::User::mailbox_key`]).
    pub concurrency_high_water: BTreeMap<String, u32>,
    /// Every attempt to POST a change or lifecycle notification, retries and drops included.
    #[serde(default)]
    pub notification_attempts: Vec<NotificationAttempt>,
    /// Every validation request sent while creating (or re-pointing) a subscription.
    #[serde(default)]
    pub validation_requests: Vec<ValidationRequest>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct SentMail {
    /// Sending mailbox (mail, else UPN, lower-cased).
    pub mailbox: String,
    /// SHA-256 over subject, body, recipients and attachment names: equal messages share it.
    pub fingerprint: String,
    pub subject: String,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub bcc: Vec<String>,
    pub body: String,
    pub attachment_names: Vec<String>,
    /// How many times this exact message was sent.
    pub send_count: u32,
    /// `sendMail` or `draft` for each send, in order.
    pub via: Vec<String>,
    /// Immutable ids of the Sent Items copies (when saved).
    pub message_ids: Vec<String>,
    pub first_sent_at: i64,
    pub last_sent_at: i64,
    /// The thread it went out in (a reply's is its original's).
    #[serde(default)]
    pub conversation_id: String,
    #[serde(default)]
    pub importance: String,
    #[serde(default)]
    pub reply_to: Vec<String>,
    /// `In-Reply-To`, `References` and the `x-` headers it carried.
    #[serde(default)]
    pub headers: Vec<crate::model::MessageHeader>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct TokenRequest {
    pub at: i64,
    /// Tenant path segment used (`common`, a GUID, a domain…).
    pub tenant: String,
    pub grant_type: Option<String>,
    pub client_id: Option<String>,
    /// `body`, `basic`, `assertion` (RFC 7523 client assertion) or `none`.
    pub client_auth: String,
    pub status: u16,
    pub error: Option<String>,
    pub error_code: Option<u32>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct GraphRequest {
    pub at: i64,
    pub method: String,
    pub path: String,
    pub mailbox: Option<String>,
    pub status: u16,
}

/// One attempt to deliver a notification to a subscriber's endpoint.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct NotificationAttempt {
    pub subscription_id: String,
    pub url: String,
    /// `created`, `updated`, `deleted`, or the lifecycle event (`reauthorizationRequired`, …).
    pub kind: String,
    /// The endpoint's answer; 0 when it did not answer in time, refused, or the
    /// notification was dropped on purpose.
    pub status: u16,
    /// Not sent at all (control `drop_notifications`).
    pub dropped: bool,
    /// Stand-in time, Unix seconds.
    pub at: i64,
}

/// One `POST {url}?validationToken=…` sent to check an endpoint before subscribing it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ValidationRequest {
    pub url: String,
    /// The endpoint's answer; 0 when it did not answer within 10 s.
    pub status: u16,
    /// Answered 200, `text/plain`, with the token: the subscription could go ahead.
    pub ok: bool,
    pub at: i64,
}
