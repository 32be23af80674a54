//! Every `/v1` error as a JSON body with a stable `error` code. Internal
//! errors are logged under a reference id that the caller gets instead of
//! the details.
use crate::db::StoreError;
use app::model::FieldErrors;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;

/// Every error body: `error` is a stable code (`unauthorized`, `not_found`,
/// `invalid`, `bad_request`, `idempotency_key_reused`, `not_sending`,
/// `too_large`, `busy`, `internal`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: String,
    pub message: Option<String>,
    /// With `invalid`: field name → reason.
    pub fields: Option<BTreeMap<String, String>>,
    /// With `internal`: quote it when reporting the problem.
    pub reference: Option<String>,
}

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
    /// Too much mail is being accepted at this moment: retry shortly.
    Busy,
    Internal(String),
}

impl Failure {
    /// One field of the request refused, with why.
    pub fn invalid(field: &str, message: &str) -> Self {
        let mut errors = FieldErrors::new();
        errors.add(field, message);
        Failure::Invalid(errors)
    }
}

/// The host API's one place where an internal error becomes a logged reference id.
impl From<StoreError> for Failure {
    #[track_caller]
    fn from(e: StoreError) -> Self {
        Failure::Internal(crate::reference::logged_here(e))
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
                json!({"error": "too_large", "message": format!("The request body is larger than {} bytes.", crate::config::HOST_API_MAX_BODY)}),
            ),
            Failure::Busy => {
                let body = json!({"error": "busy", "message": "Too much mail is being accepted right now. Retry in a few seconds."});
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    [(header::RETRY_AFTER, "5")],
                    axum::Json(body),
                )
                    .into_response();
            }
            Failure::Internal(reference) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({"error": "internal", "reference": reference}),
            ),
        };
        (status, axum::Json(body)).into_response()
    }
}
