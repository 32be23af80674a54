//! A small Microsoft Graph client for sending mail as draft-then-send (issue 5).
//!
//! One call is one attempt: the outbox worker decides about retries from the [`GraphError`] kind,
//! using [`parse_retry_after`] and [`backoff`]. Tokens and attachment bytes are never logged.

mod errors;
mod folders;
mod inbox;
mod message;
mod retry;
mod subscriptions;
#[cfg(test)]
mod tests;
mod thread;
mod upload;

use crate::clock::Clock;
use crate::identity::AccessToken;
use std::sync::Arc;
use std::time::Duration;

use app::model::mail::{Origin, OutgoingMessage};
use reqwest::{Method, RequestBuilder, Response};
use serde_json::Value;
use url::Url;

/// A transport error's text without its URL (for a body cut off mid-read).
pub(crate) use errors::chain;
#[cfg(feature = "fuzzing")]
pub(crate) use errors::from_status;
pub use errors::GraphError;
pub use folders::Folder;
#[cfg(feature = "fuzzing")]
pub(crate) use inbox::parse_delta;
pub use inbox::{Address, AttachmentKind, AttachmentMeta, DeltaMessage, DeltaPage, PAGE_SIZE};
pub use message::{DraftState, PreparedAttachment};
pub use retry::{backoff, parse_retry_after};
pub use subscriptions::Subscribed;
pub use thread::ThreadHeaders;

use message::Route;

/// Asks Graph for immutable ids, which survive the draft's move to Sent Items: the id stored before
/// sending still finds the message afterwards, which is how an ambiguous send is resolved.
const PREFER_IMMUTABLE_IDS: &str = "IdType=\"ImmutableId\"";

/// Cheap to clone: clones share one connection pool.
#[derive(Clone)]
pub struct GraphClient {
    http: reqwest::Client,
    /// Reads a `Retry-After` given as an HTTP date against our time.
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for GraphClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphClient").finish_non_exhaustive()
    }
}

impl GraphClient {
    /// Which Graph a call goes to comes with its token ([`AccessToken::graph`]:
    /// the mailbox's cloud), so one client serves every cloud.
    /// reqwest client: connect timeout 10 s, total timeout 60 s, redirects disabled, rustls.
    pub fn new(clock: Arc<dyn Clock>) -> Result<Self, GraphError> {
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            // A redirect from Graph is unexpected; following it would resend the bearer token.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .user_agent(concat!("tenant-mail/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                GraphError::Internal(format!(
                    "cannot build the HTTP client: {}",
                    errors::chain(e)
                ))
            })?;
        Ok(Self { http, clock })
    }

    /// POST /me/messages (Prefer: IdType="ImmutableId"), small attachments inline; large ones
    /// (> app::model::mail::INLINE_ATTACHMENT_LIMIT) via upload session after the draft exists.
    /// Returns the draft's immutable id.
    ///
    /// `message.attachments` is ignored: the caller passes them decoded as `attachments`. If adding
    /// an attachment fails, the half-built draft is deleted (best effort) so that a retry, which
    /// creates a new draft, leaves no stray one behind; a draft is never sent here, so an orphan
    /// can never become a duplicate mail.
    ///
    /// `tag` (the outbox id) is stored on the draft as an extended property, so
    /// a draft whose id was never recorded (a crash in between) can be found
    /// again with [`GraphClient::tagged_drafts`] and deleted.
    ///
    /// A reply or forward (`original`: the received message's Graph id) is
    /// made by `createReply`, `createReplyAll` or `createForward`, with the
    /// message's properties and the tag in its `message`, so Graph puts it in
    /// the original's thread.
    pub async fn create_draft(
        &self,
        token: &AccessToken,
        message: &OutgoingMessage,
        attachments: &[PreparedAttachment],
        tag: &str,
        original: Option<&str>,
    ) -> Result<String, GraphError> {
        let routes = message::plan(message, attachments);
        let inline: Vec<&PreparedAttachment> = attachments
            .iter()
            .zip(&routes)
            .filter(|(_, r)| **r == Route::Inline)
            .map(|(a, _)| a)
            .collect();
        let mut body = message::message_json(message, &inline);
        body["singleValueExtendedProperties"] =
            serde_json::json!([{ "id": OUTBOX_TAG_PROPERTY, "value": tag }]);
        message::from_mailbox(&mut body, token.graph.user.as_deref());
        let request = match (message.origin(), original) {
            (Some((origin, _)), Some(original)) => {
                let action = match origin {
                    Origin::Reply => "createReply",
                    Origin::ReplyAll => "createReplyAll",
                    Origin::Forward => "createForward",
                };
                body = serde_json::json!({ "message": body });
                self.request(Method::POST, &["me", "messages", original, action], token)?
            }
            _ => self.request(Method::POST, &["me", "messages"], token)?,
        };
        let response = match self.execute(request.json(&body)).await {
            // The message answered or forwarded is gone (a 404 about the
            // mailbox itself is not this): told apart from a 404 later on.
            Err(GraphError::Rejected {
                status: 404,
                code,
                message: text,
                request_id,
            }) if original.is_some() && code != "MailboxNotEnabledForRESTAPI" => {
                return Err(GraphError::Rejected {
                    status: 404,
                    code: ORIGINAL_GONE.into(),
                    message: text,
                    request_id,
                })
            }
            other => other?,
        };
        let created = read_json(response).await?;
        let id = created["id"]
            .as_str()
            .filter(|id| !id.is_empty())
            .ok_or_else(|| GraphError::Internal("Graph created a draft but returned no id".into()))?
            .to_owned();
        for (attachment, route) in attachments.iter().zip(&routes) {
            let added = match route {
                Route::Inline => continue,
                Route::Post => self.add_attachment(token, &id, attachment).await,
                Route::UploadSession => upload::upload(self, token, &id, attachment).await,
            };
            if let Err(e) = added {
                self.discard(token, &id).await;
                return Err(e);
            }
        }
        Ok(id)
    }

    /// POST /me/messages/{id}/send → 202.
    pub async fn send_draft(&self, token: &AccessToken, id: &str) -> Result<(), GraphError> {
        let request = self.request(Method::POST, &["me", "messages", id, "send"], token)?;
        // Graph wants a body length on POST; an empty body is what the API documents.
        self.execute(request.header(reqwest::header::CONTENT_LENGTH, "0"))
            .await
            .map(drop)
    }

    /// GET /me/messages/{id}?$select=isDraft (Prefer: IdType="ImmutableId").
    pub async fn draft_state(
        &self,
        token: &AccessToken,
        id: &str,
    ) -> Result<DraftState, GraphError> {
        let mut url = self.url(token, &["me", "messages", id])?;
        // Set verbatim: query_pairs_mut would encode `$` as %24.
        url.set_query(Some("$select=isDraft"));
        let request = self.authorized(Method::GET, url, token);
        let response = match self.execute(request).await {
            // A 404 about the mailbox itself says nothing about the draft: keep it an error.
            Err(GraphError::Rejected {
                status: 404, code, ..
            }) if code != "MailboxNotEnabledForRESTAPI" => return Ok(DraftState::Missing),
            other => other?,
        };
        match read_json(response).await?["isDraft"].as_bool() {
            Some(true) => Ok(DraftState::Draft),
            Some(false) => Ok(DraftState::Sent),
            None => Err(GraphError::Internal("Graph's answer has no isDraft".into())),
        }
    }

    /// POST /me/messages/{id}/attachments: a small attachment that did not fit in the draft body.
    async fn add_attachment(
        &self,
        token: &AccessToken,
        id: &str,
        attachment: &PreparedAttachment,
    ) -> Result<(), GraphError> {
        let request = self.request(Method::POST, &["me", "messages", id, "attachments"], token)?;
        self.execute(request.json(&message::file_attachment_json(attachment)))
            .await
            .map(drop)
    }

    /// The ids of drafts carrying `tag` (see [`GraphClient::create_draft`]):
    /// `GET /me/mailFolders/drafts/messages?$filter=singleValueExtendedProperties/Any(…)`.
    pub async fn tagged_drafts(
        &self,
        token: &AccessToken,
        tag: &str,
    ) -> Result<Vec<String>, GraphError> {
        let mut url = self.url(token, &["me", "mailFolders", "drafts", "messages"])?;
        let filter = format!(
            "singleValueExtendedProperties/Any(ep: ep/id eq '{OUTBOX_TAG_PROPERTY}' and ep/value eq '{}')",
            tag.replace('\'', "''")
        );
        // Keys verbatim (query_pairs_mut would encode `$` as %24, as in
        // delta_start); the filter's value percent-encoded.
        let filter: String = url::form_urlencoded::byte_serialize(filter.as_bytes()).collect();
        url.set_query(Some(&format!("$filter={filter}&$select=id&$top=50")));
        let response = self
            .execute(self.authorized(Method::GET, url, token))
            .await?;
        let body = read_json(response).await?;
        Ok(body["value"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|m| m["id"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// DELETE /me/messages/{id}, ignoring failure (an unsent draft is litter,
    /// never a risk): tidies up after a failed create_draft, and orphans.
    pub async fn discard(&self, token: &AccessToken, id: &str) {
        if let Err(e) = self.delete_message(token, id).await {
            tracing::warn!(error = %e.describe(), "could not delete an incomplete draft");
        }
    }

    /// DELETE /me/messages/{id}; one already gone counts as deleted.
    pub async fn delete_message(&self, token: &AccessToken, id: &str) -> Result<(), GraphError> {
        let request = self.request(Method::DELETE, &["me", "messages", id], token)?;
        match self.execute(request).await {
            Ok(_) | Err(GraphError::Rejected { status: 404, .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// `{base}/seg/seg…` on the token's Graph, each segment percent-encoded
    /// (REST ids may contain `/` or `+`). A leading `me` names the token's
    /// mailbox: `/me` or `/users/{address}`.
    fn url(&self, token: &AccessToken, segments: &[&str]) -> Result<Url, GraphError> {
        let target = &token.graph;
        let mut url = target.base.clone();
        {
            let mut path = url.path_segments_mut().map_err(|()| {
                GraphError::Internal("the Graph base URL cannot take a path".into())
            })?;
            path.pop_if_empty();
            match segments.split_first() {
                Some((&"me", rest)) => path.extend(target.mailbox_segments()).extend(rest),
                _ => path.extend(segments),
            };
        }
        Ok(url)
    }

    fn request(
        &self,
        method: Method,
        segments: &[&str],
        token: &AccessToken,
    ) -> Result<RequestBuilder, GraphError> {
        Ok(self.authorized(method, self.url(token, segments)?, token))
    }

    fn authorized(&self, method: Method, url: Url, token: &AccessToken) -> RequestBuilder {
        self.http
            .request(method, url)
            .bearer_auth(&token.token)
            .header("Prefer", PREFER_IMMUTABLE_IDS)
            // Lets Microsoft support find a request from our logs.
            .header("client-request-id", uuid::Uuid::new_v4().to_string())
    }

    /// Sends; any non-2xx answer becomes a [`GraphError`] (its body read for Graph's error).
    async fn execute(&self, request: RequestBuilder) -> Result<Response, GraphError> {
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) => {
                crate::telemetry::graph_response(None);
                return Err(errors::from_reqwest(e));
            }
        };
        let status = response.status();
        crate::telemetry::graph_response(Some(status.as_u16()));
        if status.is_success() {
            return Ok(response);
        }
        let headers = response.headers().clone();
        // A body we cannot read still leaves the status to go by.
        let body = crate::capped::read(response, MAX_ERROR_ANSWER)
            .await
            .unwrap_or_default();
        Err(errors::from_status(
            status,
            &headers,
            &body,
            self.clock.now(),
        ))
    }
}

/// The code [`GraphClient::create_draft`] gives Graph's 404 for the message
/// a reply or forward is made from.
pub const ORIGINAL_GONE: &str = "TenantMailOriginalNotFound";

/// A named extended property in Tenant Mail's own property set (the GUID is
/// ours): the outbox id a draft was made for.
pub const OUTBOX_TAG_PROPERTY: &str =
    "String {5d6a0f3e-2c41-4b8e-9f17-3a8c6e2d4b90} Name TenantMailOutboxId";

/// A JSON answer is read at most this far (a delta page of 50 large HTML
/// messages, or inline attachments, fit well inside).
pub const MAX_JSON_ANSWER: usize = 64 * 1024 * 1024;
/// An error answer is read at most this far; past it only the status counts.
pub(super) const MAX_ERROR_ANSWER: usize = 64 * 1024;

/// The JSON of a 2xx answer. Failing to read it means Graph acted but we missed the result:
/// Ambiguous, never a retryable "busy", because a 2xx must not be repeated blindly.
async fn read_json(response: Response) -> Result<Value, GraphError> {
    let status = response.status();
    let bytes = crate::capped::read(response, MAX_JSON_ANSWER)
        .await
        .map_err(|e| match e {
            crate::capped::ReadError::Read(e) => GraphError::Ambiguous(format!(
                "{status} but the answer was cut off: {}",
                errors::chain(e)
            )),
            too_large => GraphError::Ambiguous(format!("{status} but {too_large}")),
        })?;
    serde_json::from_slice(&bytes).map_err(|_| {
        GraphError::Internal(format!(
            "{status} with a body that is not JSON ({} bytes)",
            bytes.len()
        ))
    })
}
