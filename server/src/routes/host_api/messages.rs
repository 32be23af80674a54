//! `POST /v1/mailboxes/{tenant_email_id}/messages` queues a message;
//! `GET /v1/messages/{id}` reports where it is. Both see only the caller's
//! tenant: anything else is "not found", whether or not it exists.
use super::{Caller, Failure, HostApiState};
use crate::db::entities::tenant_email;
use crate::mail::outbox::store::{self, EnqueueError};
use app::model::mail::{OutboxEntryView, OutboxState, OutgoingMessage, IDEMPOTENCY_KEY};
use app::model::FieldErrors;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::de::DeserializeOwned;
use serde::Serialize;

pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";

/// The answer to a queued (202) or already queued (200) message.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Accepted {
    pub id: String,
    pub state: OutboxState,
}

/// Whether the tenant email exists and belongs to the caller's tenant.
pub(super) async fn owns_mailbox(
    state: &HostApiState,
    caller: &Caller,
    tenant_email_id: &str,
) -> Result<bool, Failure> {
    Ok(
        tenant_email::Entity::find_by_id(tenant_email_id.to_string())
            .filter(tenant_email::Column::TenantId.eq(caller.tenant_id.as_str()))
            .one(&state.db)
            .await
            .map_err(|e| Failure::internal("find tenant email", e))?
            .is_some(),
    )
}

pub(super) fn invalid(field: &str, message: &str) -> Failure {
    let mut errors = FieldErrors::new();
    errors.add(field, message);
    Failure::Invalid(errors)
}

/// The key comes from the `Idempotency-Key` header; one in the body is
/// accepted too, but both at once must agree.
fn idempotency_key(headers: &HeaderMap, message: &mut OutgoingMessage) -> Result<(), Failure> {
    let Some(value) = headers.get(IDEMPOTENCY_HEADER) else {
        return Ok(());
    };
    let header = value
        .to_str()
        .map_err(|_| invalid(IDEMPOTENCY_KEY, "The Idempotency-Key header must be ASCII."))?
        .to_string();
    match &message.idempotency_key {
        Some(body) if *body != header => Err(invalid(
            IDEMPOTENCY_KEY,
            "The Idempotency-Key header and the body's idempotency_key differ.",
        )),
        _ => {
            message.idempotency_key = Some(header);
            Ok(())
        }
    }
}

/// A JSON body; `what` names the expected shape in the 400's message.
pub(super) fn parse<T: DeserializeOwned>(
    body: Result<Bytes, BytesRejection>,
    what: &str,
) -> Result<T, Failure> {
    let bytes = body.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Failure::TooLarge
        } else {
            Failure::BadRequest("The request body could not be read.".into())
        }
    })?;
    serde_json::from_slice(&bytes).map_err(|e| {
        // serde's message names the field and position, never the content.
        Failure::BadRequest(format!("The body is not {what}: {e}"))
    })
}

#[utoipa::path(
    post,
    path = "/v1/mailboxes/{tenant_email_id}/messages",
    tag = "messages",
    params(
        ("tenant_email_id" = String, Path, description = "The sending tenant email (mailbox) id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Retrying with the same key returns the message already queued instead of a second one"),
    ),
    request_body = OutgoingMessage,
    responses(
        (status = 202, description = "Queued", body = Accepted),
        (status = 200, description = "Already queued under this Idempotency-Key (same message)", body = Accepted),
        (status = 400, description = "Not JSON, or not a message", body = super::openapi::ErrorBody),
        (status = 401, description = "Missing, unknown or revoked token", body = super::openapi::ErrorBody),
        (status = 404, description = "No such mailbox for this token's tenant", body = super::openapi::ErrorBody),
        (status = 409, description = "The Idempotency-Key was used for a different message", body = super::openapi::ErrorBody),
        (status = 413, description = "Body too large", body = super::openapi::ErrorBody),
        (status = 422, description = "Invalid message (`fields` says why), or the mailbox does not send", body = super::openapi::ErrorBody),
        (status = 500, description = "Internal error (`reference` is in the server log)", body = super::openapi::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn send(
    State(state): State<HostApiState>,
    caller: Caller,
    Path(tenant_email_id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    if !owns_mailbox(&state, &caller, &tenant_email_id).await? {
        return Err(Failure::NotFound);
    }
    let mut message: OutgoingMessage = parse(body, "a valid message")?;
    idempotency_key(&headers, &mut message)?;
    let now = state.clock.now();
    let queued = store::enqueue(&state.db, now, &tenant_email_id, &message)
        .await
        .map_err(|e| match e {
            EnqueueError::Invalid(fields) => Failure::Invalid(fields),
            // Deleted between the ownership check and the enqueue.
            EnqueueError::NotFound => Failure::NotFound,
            EnqueueError::NotSending => Failure::NotSending,
            EnqueueError::KeyReused => Failure::KeyReused,
            EnqueueError::Db(e) => Failure::internal("enqueue", e),
        })?;
    if queued.existing {
        let row = store::get(&state.db, &queued.id)
            .await
            .map_err(|e| Failure::internal("read queued message", e))?
            .ok_or(Failure::NotFound)?;
        let accepted = Accepted {
            id: row.id.clone(),
            state: store::view(&row).state,
        };
        return Ok((StatusCode::OK, Json(accepted)).into_response());
    }
    state.outbox_wake.notify_one();
    tracing::info!(
        token_id = %caller.token_id,
        tenant_email_id = %tenant_email_id,
        message_id = %queued.id,
        "host API queued a message"
    );
    let accepted = Accepted {
        id: queued.id,
        state: OutboxState::Queued,
    };
    Ok((StatusCode::ACCEPTED, Json(accepted)).into_response())
}

#[utoipa::path(
    get,
    path = "/v1/messages/{id}",
    tag = "messages",
    params(("id" = String, Path, description = "The id returned when the message was queued")),
    responses(
        (status = 200, description = "Where the message is", body = OutboxEntryView),
        (status = 401, description = "Missing, unknown or revoked token", body = super::openapi::ErrorBody),
        (status = 404, description = "No such message for this token's tenant", body = super::openapi::ErrorBody),
        (status = 500, description = "Internal error", body = super::openapi::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn status(
    State(state): State<HostApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<OutboxEntryView>, Failure> {
    let row = store::get(&state.db, &id)
        .await
        .map_err(|e| Failure::internal("read message", e))?
        .ok_or(Failure::NotFound)?;
    if !owns_mailbox(&state, &caller, &row.tenant_email_id).await? {
        return Err(Failure::NotFound);
    }
    Ok(Json(store::view(&row)))
}
