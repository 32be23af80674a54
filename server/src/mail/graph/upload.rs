//! Attachments of 3 MB and more: an upload session, then sequential chunks with `Content-Range`.

use crate::identity::AccessToken;
use reqwest::{header, Method};
use serde_json::json;
use url::Url;

use super::errors::{self, GraphError};
use super::{read_json, GraphClient, PreparedAttachment};

/// At most 4 MB per PUT (Graph's limit); a multiple of 320 KiB, the granularity Microsoft's upload
/// guidance asks for.
pub(crate) const CHUNK_BYTES: usize = 12 * 320 * 1024;

/// POST …/attachments/createUploadSession, then PUT every chunk to the returned `uploadUrl`.
pub(crate) async fn upload(
    client: &GraphClient,
    token: &AccessToken,
    draft_id: &str,
    attachment: &PreparedAttachment,
) -> Result<(), GraphError> {
    let request = client.request(
        Method::POST,
        &[
            "me",
            "messages",
            draft_id,
            "attachments",
            "createUploadSession",
        ],
        token,
    )?;
    let body = json!({
        "AttachmentItem": {
            "attachmentType": "file",
            "name": attachment.name,
            "size": attachment.bytes.len(),
            "contentType": attachment.content_type(),
        }
    });
    let session = read_json(client.execute(request.json(&body)).await?).await?;
    let upload_url = session["uploadUrl"]
        .as_str()
        .and_then(|u| Url::parse(u).ok())
        .filter(|u| acceptable(&token.graph.base, u))
        .ok_or_else(|| GraphError::Internal("Graph returned no usable uploadUrl".into()))?;
    let total = attachment.bytes.len();
    let mut start = 0;
    for chunk in attachment.bytes.chunks(CHUNK_BYTES) {
        let end = start + chunk.len() - 1;
        // No Authorization header: the upload URL carries its own credential, and Graph refuses
        // a bearer token there (401).
        let request = client
            .http
            .put(upload_url.clone())
            .header(
                header::CONTENT_RANGE,
                format!("bytes {start}-{end}/{total}"),
            )
            .body(chunk.to_vec());
        let response = request.send().await.map_err(errors::from_reqwest)?;
        let status = response.status();
        if !status.is_success() {
            let headers = response.headers().clone();
            let body = crate::capped::read(response, super::MAX_ERROR_ANSWER)
                .await
                .unwrap_or_default();
            return Err(errors::from_status(
                status,
                &headers,
                &body,
                client.clock.now(),
            ));
        }
        start = end + 1;
    }
    Ok(())
}

/// https, or http only when Graph itself is plain http (the loopback stand-in): attachment bytes
/// must not leave over plain text because of a malformed answer.
fn acceptable(base: &Url, upload: &Url) -> bool {
    match upload.scheme() {
        "https" => true,
        "http" => base.scheme() == "http",
        _ => false,
    }
}
