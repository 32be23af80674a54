//! Injected faults: the next N requests to an endpoint fail in a chosen way.

use serde::{Deserialize, Serialize};

/// What an affected request gets instead of a normal answer.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// 429 with `Retry-After` (seconds, possibly decimal, or an HTTP date: sent verbatim).
    TooManyRequests {
        #[serde(default = "default_retry_after")]
        retry_after: String,
    },
    /// 503, with `Retry-After` when given.
    ServiceUnavailable {
        #[serde(default)]
        retry_after: Option<String>,
    },
    /// Waits this long (real time) before handling the request normally.
    Delay { millis: u64 },
    /// Closes the connection without reading the body or answering; nothing is processed.
    DropBeforeBody,
    /// Reads and processes the request (e.g. the mail IS sent), then closes the connection without answering.
    DropAfterBody,
    /// Answers normally (status, headers with the full length), but closes the
    /// connection after this many bytes of the body: a download cut off mid-way.
    CutBody { after_bytes: usize },
    /// A Graph error answer with this 4xx status (403 `ErrorAccessDenied`,
    /// 404 `ErrorItemNotFound`, any other `ErrorInvalidRequest`): a request
    /// Graph refuses for good.
    Refuse { status: u16 },
}

fn default_retry_after() -> String {
    "1".to_owned()
}

fn one() -> u32 {
    1
}

/// A fault for the next `count` requests to `endpoint`.
///
/// Endpoint names: `discovery`, `keys`, `authorize`, `token`, `me`, `sendMail`, `createMessage`,
/// `sendDraft`, `getMessage`, `listMessages`, `delta`, `updateMessage`, `moveMessage`, `attachments`,
/// `createUploadSession`, `uploadChunk`, `listFolders`, `getFolder`, `subscriptions`; `graph` matches
/// any Graph endpoint, `*` anything.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct FaultSpec {
    pub endpoint: String,
    #[serde(default = "one")]
    pub count: u32,
    pub fault: Fault,
}

/// Pending faults, consumed in the order they were added.
#[derive(Debug, Default)]
pub struct Faults {
    pending: Vec<FaultSpec>,
}

impl Faults {
    pub fn add(&mut self, spec: FaultSpec) {
        if spec.count > 0 {
            self.pending.push(spec);
        }
    }

    pub fn clear(&mut self) {
        self.pending.clear();
    }

    pub fn pending(&self) -> Vec<FaultSpec> {
        self.pending.clone()
    }

    /// Consumes one use of the first fault matching `endpoint`.
    pub fn take(&mut self, endpoint: &str, is_graph: bool) -> Option<Fault> {
        let index = self.pending.iter().position(|spec| {
            spec.endpoint == endpoint
                || spec.endpoint == "*"
                || (is_graph && spec.endpoint == "graph")
        })?;
        let spec = self.pending.get_mut(index)?;
        spec.count -= 1;
        let fault = spec.fault.clone();
        if spec.count == 0 {
            self.pending.remove(index);
        }
        Some(fault)
    }
}

/// Names the endpoint a request is for (used to match faults). `/v1.0/users/{x}/…` is named
/// like the same `/v1.0/me/…` request.
pub fn classify(method: &axum::http::Method, path: &str) -> (&'static str, bool) {
    use axum::http::Method;
    let mut segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    if let ["v1.0", "users", _, ..] = segments.as_slice() {
        segments.splice(1..3, ["me"]);
    }
    match segments.as_slice() {
        [_, "v2.0", ".well-known", "openid-configuration"] => ("discovery", false),
        [_, "discovery", "v2.0", "keys"] => ("keys", false),
        [_, "oauth2", "v2.0", "token"] => ("token", false),
        [_, "oauth2", "v2.0", "authorize", ..] => ("authorize", false),
        ["upload", ..] => ("uploadChunk", false),
        ["oidc", "userinfo"] => ("userinfo", true),
        ["v1.0", "me"] => ("me", true),
        ["v1.0", "me", "sendMail"] => ("sendMail", true),
        ["v1.0", "me", "messages"] if method == Method::POST => ("createMessage", true),
        ["v1.0", "me", "messages"] => ("listMessages", true),
        ["v1.0", "me", "messages", _, "send"] => ("sendDraft", true),
        ["v1.0", "me", "messages", _, "move"] => ("moveMessage", true),
        ["v1.0", "me", "messages", _, "attachments", "createUploadSession"] => {
            ("createUploadSession", true)
        }
        ["v1.0", "me", "messages", _, "attachments", ..] => ("attachments", true),
        ["v1.0", "me", "messages", _] if method == Method::PATCH => ("updateMessage", true),
        ["v1.0", "me", "messages", _] => ("getMessage", true),
        ["v1.0", "me", "mailFolders", _, "messages", "delta"] => ("delta", true),
        ["v1.0", "me", "mailFolders", _, "messages"] => ("listMessages", true),
        ["v1.0", "me", "mailFolders"] | ["v1.0", "me", "mailFolders", _, "childFolders"] => {
            ("listFolders", true)
        }
        ["v1.0", "me", "mailFolders", _] => ("getFolder", true),
        ["v1.0", "subscriptions", ..] => ("subscriptions", true),
        ["v1.0", ..] => ("graph", true),
        _ => ("other", false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_consumed_in_order_and_count_down() {
        let mut faults = Faults::default();
        faults.add(FaultSpec {
            endpoint: "sendMail".into(),
            count: 2,
            fault: Fault::ServiceUnavailable { retry_after: None },
        });
        faults.add(FaultSpec {
            endpoint: "graph".into(),
            count: 1,
            fault: Fault::DropBeforeBody,
        });
        assert_eq!(faults.take("me", true), Some(Fault::DropBeforeBody));
        assert!(faults.take("me", true).is_none());
        assert!(faults.take("sendMail", true).is_some());
        assert!(faults.take("sendMail", true).is_some());
        assert!(faults.take("sendMail", true).is_none());
        assert!(faults.take("token", false).is_none());
    }

    #[test]
    fn classifies_paths() {
        use axum::http::Method;
        assert_eq!(
            classify(&Method::POST, "/common/oauth2/v2.0/token").0,
            "token"
        );
        assert_eq!(
            classify(&Method::POST, "/v1.0/me/messages").0,
            "createMessage"
        );
        assert_eq!(
            classify(&Method::PATCH, "/v1.0/me/messages/x").0,
            "updateMessage"
        );
        assert_eq!(
            classify(&Method::GET, "/v1.0/me/mailFolders/inbox/messages/delta").0,
            "delta"
        );
        assert_eq!(
            classify(&Method::POST, "/v1.0/users/a@contoso.com/sendMail").0,
            "sendMail"
        );
        assert_eq!(classify(&Method::GET, "/v1.0/users/a@contoso.com").0, "me");
    }
}
