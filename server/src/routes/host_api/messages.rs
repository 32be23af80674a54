//! `POST /v1/mailboxes/{tenant_email_id}/messages` queues a message;
//! `GET /v1/messages/{id}` reports where it is. Both see only the caller's
//! tenant: anything else is "not found", whether or not it exists.
use super::admission::Admitted;
use super::body::parse;
use super::{Caller, Failure, HostApiState};
use crate::db::outbox::Enqueued;
use crate::mail::outbox::enqueue::{enqueue, EnqueueError};
use crate::mail::outbox::view::view;
use app::model::mail::{OutboxEntryView, OutboxState, OutgoingMessage, IDEMPOTENCY_KEY};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";

/// The answer to a queued (202) or already queued (200) message.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Accepted {
    pub id: String,
    pub state: OutboxState,
}

/// The key comes from the `Idempotency-Key` header; one in the body is
/// accepted too, but both at once must agree.
fn idempotency_key(headers: &HeaderMap, message: &mut OutgoingMessage) -> Result<(), Failure> {
    let Some(value) = headers.get(IDEMPOTENCY_HEADER) else {
        return Ok(());
    };
    let header = value
        .to_str()
        .map_err(|_| {
            Failure::invalid(IDEMPOTENCY_KEY, "The Idempotency-Key header must be ASCII.")
        })?
        .to_string();
    match &message.idempotency_key {
        Some(body) if *body != header => Err(Failure::invalid(
            IDEMPOTENCY_KEY,
            "The Idempotency-Key header and the body's idempotency_key differ.",
        )),
        _ => {
            message.idempotency_key = Some(header);
            Ok(())
        }
    }
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
        (status = 400, description = "Not JSON, or not a message", body = super::failure::ErrorBody),
        (status = 401, description = "Missing, unknown or revoked token", body = super::failure::ErrorBody),
        (status = 404, description = "No such mailbox for this token's tenant", body = super::failure::ErrorBody),
        (status = 409, description = "The Idempotency-Key was used for a different message", body = super::failure::ErrorBody),
        (status = 413, description = "Body too large", body = super::failure::ErrorBody),
        (status = 422, description = "Invalid message (`fields` says why), or the mailbox does not send", body = super::failure::ErrorBody),
        (status = 500, description = "Internal error (`reference` is in the server log)", body = super::failure::ErrorBody),
        (status = 503, description = "Too much mail is being accepted at this moment (`Retry-After` says when to try again)", body = super::failure::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn send(
    State(state): State<HostApiState>,
    caller: Caller,
    Path(tenant_email_id): Path<String>,
    headers: HeaderMap,
    // Room in the budget before the body is read (extractors run in order).
    _room: Admitted,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    if !caller.owns(&state, &tenant_email_id).await? {
        return Err(Failure::NotFound);
    }
    let mut message: OutgoingMessage = parse(body, "a valid message")?;
    idempotency_key(&headers, &mut message)?;
    let id = match enqueue(&state.store, &tenant_email_id, message).await {
        Ok(Enqueued::Queued(id)) => id,
        Ok(Enqueued::Existing(id)) => {
            let row = state
                .store
                .outbox()
                .get(&id)
                .await?
                .ok_or(Failure::NotFound)?;
            let accepted = Accepted {
                id: row.id,
                state: row.state,
            };
            return Ok((StatusCode::OK, Json(accepted)).into_response());
        }
        // Deleted between the ownership check and the enqueue.
        Ok(Enqueued::NoMailbox) => return Err(Failure::NotFound),
        Ok(Enqueued::NotSending) => return Err(Failure::NotSending),
        Ok(Enqueued::KeyReused) => return Err(Failure::KeyReused),
        Err(EnqueueError::Invalid(fields)) => return Err(Failure::Invalid(fields)),
        Err(EnqueueError::Store(e)) => return Err(e.into()),
    };
    state.outbox_wake.notify_one();
    tracing::info!(
        token_id = %caller.token_id,
        tenant_email_id = %tenant_email_id,
        message_id = %id,
        "host API queued a message"
    );
    let accepted = Accepted {
        id,
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
        (status = 401, description = "Missing, unknown or revoked token", body = super::failure::ErrorBody),
        (status = 404, description = "No such message for this token's tenant", body = super::failure::ErrorBody),
        (status = 500, description = "Internal error", body = super::failure::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn status(
    State(state): State<HostApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<OutboxEntryView>, Failure> {
    let row = state
        .store
        .outbox()
        .get(&id)
        .await?
        .ok_or(Failure::NotFound)?;
    if !caller.owns(&state, &row.tenant_email_id).await? {
        return Err(Failure::NotFound);
    }
    Ok(Json(view(&row)))
}
