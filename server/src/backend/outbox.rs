//! The outbox part of the backend port: test messages, listing, retry/cancel.
use super::errors::{internal, not_found};
use super::tenant_emails::owned;
use super::DbBackend;
use crate::audit::{self, Event};
use crate::mail::outbox::store::{self, EnqueueError};
use app::model::mail::{OutboxEntryView, OutboxState, OutgoingMessage, TO};
use app::port::{Actor, PortError};

pub async fn send_test(
    b: &DbBackend,
    actor: &Actor,
    tenant_id: &str,
    email_id: &str,
    to: &str,
) -> Result<OutboxEntryView, PortError> {
    let mb = owned(b, tenant_id, email_id).await?;
    let now = b.clock.now();
    let message = OutgoingMessage {
        to: vec![to.to_string()],
        subject: format!("Tenant Mail test message from {}", mb.address),
        text_body: Some(format!(
            "This message was sent by Tenant Mail through Microsoft Graph from {} at {} UTC, \
             at the request of {}. If you can read it, sending works.",
            mb.address,
            now.format("%Y-%m-%d %H:%M:%S"),
            actor.username
        )),
        ..OutgoingMessage::default()
    };
    let queued = match store::enqueue(&b.db, now, email_id, &message).await {
        Ok(q) => q,
        Err(EnqueueError::NotSending) => return Err(PortError::Rejected {
            field: TO.into(),
            message:
                "This Tenant Email only receives; set its direction to Send or Send and receive."
                    .into(),
        }),
        Err(EnqueueError::Invalid(f)) => {
            let (field, message) = f.0.into_iter().next().unwrap_or_default();
            return Err(PortError::Rejected { field, message });
        }
        Err(EnqueueError::NotFound) => return Err(not_found("tenant email")),
        Err(e) => return Err(internal("enqueue test message", e)),
    };
    b.wake_outbox();
    audit::record_best_effort(
        &b.db,
        now,
        actor,
        Event::new("outbox.test_queued")
            .target("tenant_email", email_id, &mb.address)
            .detail(format!("to {to}")),
    )
    .await;
    let row = store::get(&b.db, &queued.id)
        .await
        .map_err(|e| internal("read queued message", e))?
        .ok_or_else(|| not_found("message"))?;
    Ok(store::view(&row))
}

pub async fn list(
    b: &DbBackend,
    tenant_id: &str,
    email_id: &str,
) -> Result<Vec<OutboxEntryView>, PortError> {
    owned(b, tenant_id, email_id).await?;
    Ok(store::list(&b.db, email_id, 200)
        .await
        .map_err(|e| internal("list outbox", e))?
        .iter()
        .map(store::view)
        .collect())
}

pub async fn change(
    b: &DbBackend,
    actor: &Actor,
    tenant_id: &str,
    email_id: &str,
    message_id: &str,
    to: OutboxState,
) -> Result<(), PortError> {
    let mb = owned(b, tenant_id, email_id).await?;
    let now = b.clock.now();
    let changed = store::admin_transition(&b.db, email_id, message_id, to, now)
        .await
        .map_err(|e| internal("change outbox message", e))?;
    if !changed {
        return Err(PortError::Conflict(
            "This message cannot be changed now (it is being sent, or already sent or cancelled). Reload the list.".into(),
        ));
    }
    if to == OutboxState::Queued {
        b.wake_outbox();
    }
    let action = if to == OutboxState::Queued {
        "outbox.retried"
    } else {
        "outbox.cancelled"
    };
    audit::record_best_effort(
        &b.db,
        now,
        actor,
        Event::new(action)
            .target("tenant_email", email_id, &mb.address)
            .detail(format!("message {message_id}")),
    )
    .await;
    Ok(())
}
