//! The Outbox screen and Send test email.
use super::errors::not_found;
use super::Console;
use crate::db::audit::Event;
use crate::db::outbox::Enqueued;
use crate::mail::outbox::enqueue::{enqueue, EnqueueError};
use crate::mail::outbox::view::view;
use app::model::mail::{OutboxEntryView, OutboxState, OutgoingMessage, BODY, TO};
use app::port::{Actor, OutboxPort, PortError};

#[async_trait::async_trait]
impl OutboxPort for Console {
    async fn send_test_email(
        &self,
        actor: &Actor,
        tenant_id: &str,
        email_id: &str,
        to: &str,
    ) -> Result<OutboxEntryView, PortError> {
        let mb = self.owned(tenant_id, email_id).await?;
        let now = self.store.now();
        let message = OutgoingMessage {
            to: vec![to.to_string()],
            subject: format!("Tenant Mail test message from {}", mb.address()),
            text_body: Some(format!(
                "This message was sent by Tenant Mail through Microsoft Graph from {} at {} UTC, \
                 at the request of {}. If you can read it, sending works.",
                mb.address(),
                now.format("%Y-%m-%d %H:%M:%S"),
                actor.username
            )),
            ..OutgoingMessage::default()
        };
        let audited = Event::new("outbox.test_queued")
            .target("tenant_email", email_id, mb.address())
            .detail(format!("to {to}"));
        self.queue(actor, email_id, message, TO, audited).await
    }

    async fn reply_to_received(
        &self,
        actor: &Actor,
        tenant_id: &str,
        email_id: &str,
        message_id: &str,
        text: &str,
        reply_all: bool,
    ) -> Result<OutboxEntryView, PortError> {
        let mb = self.owned(tenant_id, email_id).await?;
        // The same reply sent again (a click repeated after an answer that
        // never arrived) is the message already queued, not a second one.
        let key = crate::hashing::sha256_hex(format!("{message_id}\n{reply_all}\n{text}"));
        let message = OutgoingMessage {
            text_body: Some(text.to_string()),
            in_reply_to: Some(message_id.to_string()),
            reply_all,
            idempotency_key: Some(format!("reader-reply:{key}")),
            ..OutgoingMessage::default()
        };
        let audited = Event::new("outbox.reply_queued")
            .target("tenant_email", email_id, mb.address())
            .detail(format!(
                "{} to received message {message_id}",
                if reply_all { "reply all" } else { "reply" }
            ));
        self.queue(actor, email_id, message, BODY, audited).await
    }

    async fn list_outbox(
        &self,
        tenant_id: &str,
        email_id: &str,
    ) -> Result<Vec<OutboxEntryView>, PortError> {
        self.owned(tenant_id, email_id).await?;
        Ok(self
            .store
            .outbox()
            .list(email_id, 200)
            .await?
            .iter()
            .map(view)
            .collect())
    }

    async fn change_outbox_message(
        &self,
        actor: &Actor,
        tenant_id: &str,
        email_id: &str,
        message_id: &str,
        to: OutboxState,
    ) -> Result<(), PortError> {
        let mb = self.owned(tenant_id, email_id).await?;
        let changed = self
            .store
            .outbox()
            .admin_transition(email_id, message_id, to)
            .await?;
        if !changed {
            return Err(PortError::Conflict(
                "This message cannot be changed now (it is being sent, or already sent or cancelled). Reload the list.".into(),
            ));
        }
        if to == OutboxState::Queued {
            self.outbox_wake.notify_one();
        }
        let action = if to == OutboxState::Queued {
            "outbox.retried"
        } else {
            "outbox.cancelled"
        };
        self.store
            .audit()
            .record_best_effort(
                actor,
                Event::new(action)
                    .target("tenant_email", email_id, mb.address())
                    .detail(format!("message {message_id}")),
            )
            .await;
        Ok(())
    }
}

impl Console {
    /// Queues a message the admin made, wakes the outbox, records `audited`
    /// and returns the message as queued; a refusal is put on `field` (the
    /// form's one input).
    async fn queue(
        &self,
        actor: &Actor,
        email_id: &str,
        message: OutgoingMessage,
        field: &str,
        audited: Event,
    ) -> Result<OutboxEntryView, PortError> {
        // A repeat of a message already queued (same idempotency key) is
        // that message: nothing new to wake or audit.
        let (id, new) = match enqueue(&self.store, email_id, message).await {
            Ok(Enqueued::Queued(id)) => (id, true),
            Ok(Enqueued::Existing(id)) => (id, false),
            Ok(Enqueued::NotSending) => return Err(PortError::Rejected {
                field: field.into(),
                message: "This Tenant Email only receives; set its direction to Send or Send and receive.".into(),
            }),
            Ok(Enqueued::NoMailbox | Enqueued::KeyReused) => return Err(not_found("tenant email")),
            Err(EnqueueError::Invalid(f)) => {
                let (_, message) = f.0.into_iter().next().unwrap_or_default();
                return Err(PortError::Rejected {
                    field: field.into(),
                    message,
                });
            }
            Err(EnqueueError::Store(e)) => return Err(e.into()),
        };
        if new {
            self.outbox_wake.notify_one();
            self.store.audit().record_best_effort(actor, audited).await;
        }
        let queued = self
            .store
            .outbox()
            .get(&id)
            .await?
            .ok_or_else(|| not_found("message"))?;
        Ok(view(&queued))
    }
}
