//! `GET /v1/received/{message_id}/attachments/{attachment_id}`: a received
//! attachment's bytes, always as a download (never rendered), for the
//! caller's tenant only. The response itself is the one the admin Inbox
//! serves (`mail::inbox::download`), so both escape names alike.
use super::{Caller, Failure, HostApiState};
use crate::mail::inbox::download;
use axum::extract::{Path, State};
use axum::response::Response;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::RefOr;

/// The OpenAPI schema of a download: binary, not the array of integers that
/// utoipa derives for `Vec<u8>`.
pub struct FileBytes;

impl utoipa::PartialSchema for FileBytes {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .description(Some("The file's bytes."))
            .into()
    }
}

impl utoipa::ToSchema for FileBytes {}

#[utoipa::path(
    get,
    path = "/v1/received/{message_id}/attachments/{attachment_id}",
    tag = "received",
    params(
        ("message_id" = String, Path, description = "A received message's id"),
        ("attachment_id" = String, Path, description = "One of its attachments' id"),
    ),
    responses(
        (status = 200, description = "The file, as a download (`Content-Disposition: attachment`, the stored type when it is a valid media type, else `application/octet-stream`)", content_type = "application/octet-stream", body = FileBytes),
        (status = 401, description = "Missing, unknown or revoked token", body = super::failure::ErrorBody),
        (status = 404, description = "No such message or attachment for this token's tenant, or a link to a file elsewhere, which has no bytes (`message` says so)", body = super::failure::ErrorBody),
        (status = 500, description = "Internal error (`reference` is in the server log)", body = super::failure::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn attachment(
    State(state): State<HostApiState>,
    caller: Caller,
    Path((message_id, attachment_id)): Path<(String, String)>,
) -> Result<Response, Failure> {
    let inbox = state.store.inbox();
    let message = inbox.get(&message_id).await?.ok_or(Failure::NotFound)?;
    if !caller.owns(&state, &message.tenant_email_id).await? {
        return Err(Failure::NotFound);
    }
    let file = inbox
        .attachment(&message_id, &attachment_id)
        .await?
        .ok_or(Failure::NotFound)?;
    let Some(content) = file.content else {
        return Err(Failure::NotFoundBecause(
            "This attachment is a link to a file stored elsewhere: Microsoft Graph describes it but has no file to download.",
        ));
    };
    Ok(download::file_response(
        &state.store,
        &file.name,
        &file.content_type,
        content,
    ))
}
