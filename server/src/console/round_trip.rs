//! The doctor's last check, on request: a message from the mailbox to
//! itself through the real outbox, followed until Microsoft accepts it and,
//! when the mailbox receives, until the inbox sync brings it back. The
//! message is acknowledged at once, so the host application never sees it.
use super::Console;
use crate::db::outbox::Enqueued;
use app::model::doctor::{CheckOutcome, DoctorCheck};
use app::model::mail::{OutboxState, OutgoingMessage};
use app::port::PortError;
use std::time::Duration;
use tokio::time::Instant;

const NAME: &str = "Round trip";
/// How long each half (out, back in) is waited for.
const WAIT: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(250);

fn line(outcome: CheckOutcome, detail: String, fix: Option<&str>) -> DoctorCheck {
    DoctorCheck {
        name: NAME.into(),
        outcome,
        detail,
        fix: fix.map(str::to_string),
        copy: None,
    }
}

impl Console {
    pub(super) async fn round_trip(
        &self,
        tenant_id: &str,
        email_id: &str,
    ) -> Result<DoctorCheck, PortError> {
        let email = self.owned(tenant_id, email_id).await?;
        if !email.sends() {
            return Ok(line(
                CheckOutcome::Skip,
                "This mailbox only receives: there is nothing to send.".into(),
                None,
            ));
        }
        if self.store.connections().get(email_id).await?.is_none() {
            return Ok(line(
                CheckOutcome::Fail,
                "Not connected.".into(),
                Some("Click to Authenticate first."),
            ));
        }
        let marker = uuid::Uuid::new_v4().simple().to_string();
        let subject = format!("Tenant Mail round-trip check {}", &marker[..12]);
        let message = OutgoingMessage {
            to: vec![email.address().to_string()],
            subject: subject.clone(),
            text_body: Some(
                "Tenant Mail sent this message to the mailbox itself, to check that mail goes out \
                 and comes back in. It can be deleted."
                    .into(),
            ),
            idempotency_key: Some(format!("round-trip-{marker}")),
            ..OutgoingMessage::default()
        };
        let id = match crate::mail::outbox::enqueue::enqueue(&self.store, email_id, message).await {
            Ok(Enqueued::Queued(id) | Enqueued::Existing(id)) => id,
            Ok(other) => {
                return Ok(line(
                    CheckOutcome::Fail,
                    format!("The message could not be queued ({other:?})."),
                    None,
                ))
            }
            Err(e) => {
                return Err(PortError::Internal(crate::reference::logged(
                    "round trip",
                    e,
                )))
            }
        };
        self.outbox_wake.notify_one();
        let start = Instant::now();
        loop {
            let m = self.store.outbox().get(&id).await?;
            match m.map(|m| (m.state, m.last_error)) {
                Some((OutboxState::Sent, _)) => break,
                Some((OutboxState::Failed | OutboxState::Held | OutboxState::Cancelled, why)) => {
                    return Ok(line(
                        CheckOutcome::Fail,
                        format!("Sending failed: {}", why.unwrap_or_default()),
                        Some("The Outbox page shows the message; fix what its reason names."),
                    ))
                }
                _ => {}
            }
            if start.elapsed() > WAIT {
                return Ok(line(
                    CheckOutcome::Warn,
                    "The message is still queued after 30 s; the outbox keeps trying.".into(),
                    Some("Follow it on the Outbox page."),
                ));
            }
            tokio::time::sleep(POLL).await;
        }
        let out = start.elapsed().as_secs_f64();
        if !email.receives() {
            return Ok(line(
                CheckOutcome::Pass,
                format!(
                    "Sent to itself in {out:.1} s (Microsoft accepted it). This mailbox does not \
                     receive, so the way back is not checked."
                ),
                None,
            ));
        }
        self.store.inbox().request_sync(email_id).await?;
        self.inbox_wake.notify_one();
        let back = Instant::now();
        loop {
            let recent = self.store.inbox().newest(email_id, None, 50).await?;
            if let Some(m) = recent.iter().find(|m| m.subject == subject) {
                self.store
                    .inbox()
                    .acknowledge(email_id, std::slice::from_ref(&m.id))
                    .await?;
                return Ok(line(
                    CheckOutcome::Pass,
                    format!(
                        "Sent to itself in {out:.1} s and received back in {:.1} s.",
                        back.elapsed().as_secs_f64()
                    ),
                    None,
                ));
            }
            if back.elapsed() > WAIT {
                return Ok(line(
                    CheckOutcome::Warn,
                    format!(
                        "Sent in {out:.1} s, but not received back within 30 s. Exchange may \
                         deliver later; the inbox reads the folder “{}” only.",
                        email.settings.receiving.folder
                    ),
                    Some("Look for the message on the Inbox page in a minute; if the receive folder is not the Inbox, this is expected."),
                ));
            }
            tokio::time::sleep(POLL).await;
            // Each sync round may end before Exchange delivered it: ask again.
            self.store.inbox().request_sync(email_id).await?;
            self.inbox_wake.notify_one();
        }
    }
}
