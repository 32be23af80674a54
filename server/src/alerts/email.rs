//! Email deliveries: the batch's alerts as one mail (a digest when several
//! fired together) through the normal outbox of the chosen sender mailbox.
//! The batch id is the idempotency key, so a retry after a crash finds the
//! mail already queued instead of queueing a second.
use super::event::AlertEvent;
use crate::db::alerts::{Batch, Outcome};
use crate::db::outbox::{Enqueued, NewMessage};
use crate::db::Store;
use app::model::alerts::split_addresses;
use app::model::mail::OutgoingMessage;

/// The mail for `events`.
pub fn compose(batch_id: &str, to: &str, events: &[AlertEvent]) -> OutgoingMessage {
    let subject = match events {
        [one] => format!("[Tenant Mail] {}", one.headline()),
        [first, ..] => format!(
            "[Tenant Mail] {} alerts: {} and more",
            events.len(),
            first.headline()
        ),
        [] => "[Tenant Mail] alerts".to_string(),
    };
    let text = events
        .iter()
        .map(AlertEvent::as_text)
        .collect::<Vec<_>>()
        .join("\n----------------------------------------\n\n");
    OutgoingMessage {
        to: split_addresses(to),
        subject: subject.chars().take(300).collect(),
        text_body: Some(format!(
            "{text}\nYou get this because you are an alert destination of Tenant Mail. \
             Change it on the Alerts page.\n"
        )),
        idempotency_key: Some(format!("alert-{batch_id}")),
        ..OutgoingMessage::default()
    }
}

/// Queues the batch's mail through its sender.
pub async fn deliver(store: &Store, batch: &Batch, events: &[AlertEvent]) -> Outcome {
    let Some(sender) = batch.destination.sender_email_id.as_deref() else {
        return Outcome::Retry(
            "its sender mailbox was deleted: choose another by re-creating this destination".into(),
        );
    };
    let message = compose(&batch.id, &batch.destination.target, events);
    let errors = app::model::mail::validate(&message);
    if !errors.is_empty() {
        let why: Vec<&str> = errors.0.values().map(String::as_str).collect();
        return Outcome::Retry(format!("the alert mail is not valid: {}", why.join(" ")));
    }
    let queued = store
        .outbox()
        .enqueue(NewMessage {
            tenant_email_id: sender,
            message: &message,
            attachments: Vec::new(),
            request_hash: crate::hashing::sha256_hex_of_json(&message),
        })
        .await;
    match queued {
        Ok(Enqueued::Queued(id) | Enqueued::Existing(id)) => {
            Outcome::Delivered(format!("queued as outbox message {id}"))
        }
        // Same batch, same mail: it went out before.
        Ok(Enqueued::KeyReused) => Outcome::Delivered("queued before".into()),
        Ok(Enqueued::NoMailbox) => Outcome::Retry("its sender mailbox no longer exists".into()),
        Ok(Enqueued::NotSending) => Outcome::Retry(
            "its sender mailbox only receives: let it send, or choose another".into(),
        ),
        Err(e) => {
            let id = crate::reference::logged("cannot queue an alert mail", e);
            Outcome::Retry(format!("cannot queue the mail (error {id})"))
        }
    }
}
