//! Reading a JSON request body into a request type, with a 400 that says
//! what shape was expected and a 413 past the size limit.
use super::Failure;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

/// A JSON body; `what` names the expected shape in the 400's message.
pub fn parse<T: DeserializeOwned>(
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
