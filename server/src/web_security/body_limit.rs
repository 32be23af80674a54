//! One request-body limit policy for every route, enforced before any other
//! work (session lookup, parsing, hashing): the host API's message sends may
//! carry attachments (`config::HOST_API_MAX_BODY`); everything else — server
//! functions, sign-in and OAuth forms — is small (`FORM_MAX_BODY`). Past the
//! limit the answer is 413 with a reason, whether the length was declared
//! (refused before reading) or the body is chunked (refused after reading
//! just past the limit). Memory per request stays bounded by the limit.
use crate::config::{is_host_api, HOST_API_MAX_BODY};
use app::model::ApiError;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Server functions, sign-in and the OAuth forms: the largest (saving a
/// tenant email) is a few kilobytes.
pub const FORM_MAX_BODY: usize = 64 * 1024;

/// Graph's change notifications come in batches of under a kilobyte each.
pub const NOTIFICATIONS_MAX_BODY: usize = 256 * 1024;

/// The limit for a path.
pub fn limit_for(path: &str) -> usize {
    if is_host_api(path) {
        HOST_API_MAX_BODY
    } else if crate::config::is_graph_notifications(path) {
        NOTIFICATIONS_MAX_BODY
    } else {
        FORM_MAX_BODY
    }
}

fn declared_length(request: &Request) -> Option<u64> {
    request
        .headers()
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

fn too_large(path: &str, limit: usize) -> Response {
    let reason = format!("The request body is larger than {} KB.", limit / 1024);
    let (content_type, body) = if is_host_api(path) {
        let body = serde_json::json!({"error": "too_large", "message": reason});
        ("application/json", body.to_string())
    } else if path.starts_with("/api/") {
        let body = serde_json::to_string(&ApiError::BadRequest(reason.clone())).unwrap_or(reason);
        ("application/json", body)
    } else {
        ("text/plain; charset=utf-8", reason)
    };
    (
        StatusCode::PAYLOAD_TOO_LARGE,
        [(header::CONTENT_TYPE, content_type)],
        body,
    )
        .into_response()
}

pub async fn enforce(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    let limit = limit_for(&path);
    match declared_length(&request) {
        Some(length) if length > limit as u64 => return too_large(&path, limit),
        Some(_) => return next.run(request).await,
        None => {}
    }
    // No declared length: a chunked body (or none). The host API's own
    // extractor limit (the same number) reads it as it arrives; anything
    // else is small, so it is read here, up to the limit and no further.
    if is_host_api(&path) || !request.headers().contains_key(header::TRANSFER_ENCODING) {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Err(_) => too_large(&path, limit),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_api_gets_room_for_attachments_and_the_rest_is_small() {
        assert_eq!(limit_for("/v1/mailboxes/x/messages"), HOST_API_MAX_BODY);
        assert_eq!(limit_for("/api/setup_status"), FORM_MAX_BODY);
        assert_eq!(limit_for("/auth/sign-in"), FORM_MAX_BODY);
        let r = too_large("/api/x", FORM_MAX_BODY);
        assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }
}
