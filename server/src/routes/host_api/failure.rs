//! Every `/v1` error as a JSON body with a stable `error` code. Internal
//! errors are logged under a reference id that the caller gets instead of
//! the details.
use app::model::FieldErrors;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug)]
pub enum Failure {
    /// Missing, malformed, unknown or revoked token.
    Unauthorized,
    /// Does not exist, or belongs to another tenant: never says which.
    NotFound,
    /// It exists and is the caller's, but there is nothing to give (an
    /// attachment that is only described): `not_found`, with why.
    NotFoundBecause(&'static str),
    Invalid(FieldErrors),
    /// Not JSON, or not the shape of the request.
    BadRequest(String),
    /// The idempotency key was used for a different message.
    KeyReused,
    /// The tenant email only receives.
    NotSending,
    TooLarge,
    Internal(String),
}

impl Failure {
    pub fn internal(context: &str, error: impl std::fmt::Display) -> Self {
        let id = app::api::error_id();
        tracing::error!(error_id = %id, %error, "host API: {context}");
        Failure::Internal(id)
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let (status, body) = match self {
            Failure::Unauthorized => {
                let body = json!({"error": "unauthorized", "message": "A valid API token is required: send `Authorization: Bearer tm_…`."});
                return (
                    StatusCode::UNAUTHORIZED,
                    [(header::WWW_AUTHENTICATE, "Bearer")],
                    axum::Json(body),
                )
                    .into_response();
            }
            Failure::NotFound => (StatusCode::NOT_FOUND, json!({"error": "not_found"})),
            Failure::NotFoundBecause(message) => (
                StatusCode::NOT_FOUND,
                json!({"error": "not_found", "message": message}),
            ),
            Failure::Invalid(fields) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({"error": "invalid", "fields": fields.0}),
            ),
            Failure::BadRequest(message) => (
                StatusCode::BAD_REQUEST,
                json!({"error": "bad_request", "message": message}),
            ),
            Failure::KeyReused => (
                StatusCode::CONFLICT,
                json!({"error": "idempotency_key_reused", "message": "This Idempotency-Key was already used for a different message."}),
            ),
            Failure::NotSending => (
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({"error": "not_sending", "message": "This mailbox only receives; it cannot send."}),
            ),
            Failure::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                json!({"error": "too_large", "message": format!("The request body is larger than {} bytes.", super::MAX_BODY_BYTES)}),
            ),
            Failure::Internal(reference) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({"error": "internal", "reference": reference}),
            ),
        };
        (status, axum::Json(body)).into_response()
    }
}
