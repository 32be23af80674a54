//! What a message must be to enter the outbox: valid by the shared rules
//! (`app::model::mail::validate`, the same the browser runs), with
//! attachments that decode. Idempotency keys are honoured: the same key and
//! the same request give the message already queued.
use crate::db::outbox::{Enqueued, NewAttachment, NewMessage};
use crate::db::{Store, StoreError};
use app::model::mail::{self, Origin, OutgoingMessage};
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
/// Validates, then commits the message and its attachments. The message
/// is taken, not borrowed: each attachment's base64 text is dropped as soon
/// as it is decoded, so a large message is never held twice.
pub async fn enqueue(
    store: &Store,
    tenant_email_id: &str,
    mut message: OutgoingMessage,
) -> Result<Enqueued, EnqueueError> {
    let mut errors = mail::validate(&message);
    if errors.is_empty() {
        if let Some((origin, received_id)) = message.origin() {
            // A reply is made from the received message in this same mailbox.
            if store
                .inbox()
                .graph_id(tenant_email_id, received_id)
                .await?
                .is_none()
            {
                let field = match origin {
                    Origin::Forward => mail::FORWARD_OF,
                    _ => mail::IN_REPLY_TO,
                };
                errors.add(
                    field,
                    "No received message with this id in this mailbox (a reply goes out from the mailbox that received the original).",
                );
            }
        }
    }
    if !errors.is_empty() {
        return Err(EnqueueError::Invalid(errors));
    }
    // What identifies the request behind an idempotency key: all of it,
    // attachment contents included (hashed as written, not copied).
    let request_hash = crate::hashing::sha256_hex_of_json(&message);
    let mut attachments = Vec::with_capacity(message.attachments.len());
    for a in &mut message.attachments {
        let text = std::mem::take(&mut a.content_base64);
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
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
        drop(text);
    }
    Ok(store
        .outbox()
        .enqueue(NewMessage {
            tenant_email_id,
            message: &message,
            attachments,
            request_hash,
        })
        .await?)
}
