//! What a message must be to enter the outbox: valid by the shared rules
//! (`app::model::mail::validate`, the same the browser runs), with
//! attachments that decode. Idempotency keys are honoured: the same key and
//! the same request give the message already queued.
use crate::db::outbox::{Enqueued, NewAttachment, NewMessage};
use crate::db::{Store, StoreError};
use app::model::mail::{self, OutgoingMessage};
use app::model::FieldErrors;
use base64::Engine;

#[derive(Debug, thiserror::Error)]
pub enum EnqueueError {
    #[error("invalid message")]
    Invalid(FieldErrors),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What identifies a request behind an idempotency key.
fn request_hash(message: &OutgoingMessage) -> String {
    let canonical = serde_json::to_vec(message).unwrap_or_default();
    crate::hashing::sha256_hex(canonical)
}

/// Validates, then commits the message and its attachments.
pub async fn enqueue(
    store: &Store,
    tenant_email_id: &str,
    message: &OutgoingMessage,
) -> Result<Enqueued, EnqueueError> {
    let errors = mail::validate(message);
    if !errors.is_empty() {
        return Err(EnqueueError::Invalid(errors));
    }
    let mut attachments = Vec::with_capacity(message.attachments.len());
    for a in &message.attachments {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(a.content_base64.trim())
            .map_err(|_| {
                let mut e = FieldErrors::new();
                e.add(
                    mail::ATTACHMENTS,
                    format!("{}: content_base64 is not base64.", a.name),
                );
                EnqueueError::Invalid(e)
            })?;
        let content_type = a.content_type.trim();
        attachments.push(NewAttachment {
            name: a.name.trim().to_string(),
            content_type: if content_type.is_empty() {
                "application/octet-stream".into()
            } else {
                content_type.to_string()
            },
            bytes,
        });
    }
    Ok(store
        .outbox()
        .enqueue(NewMessage {
            tenant_email_id,
            message,
            attachments,
            request_hash: request_hash(message),
        })
        .await?)
}
