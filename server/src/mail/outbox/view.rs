//! An outbox message as the admin console and the host API show it.
use crate::db::outbox::OutboxMessage;
use app::model::mail::{OutboxEntryView, OutboxState};
use chrono::{DateTime, Utc};

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

pub fn view(m: &OutboxMessage) -> OutboxEntryView {
    OutboxEntryView {
        id: m.id.clone(),
        state: m.state,
        subject: m.subject.clone(),
        to: m.to.clone(),
        attempts: m.attempts,
        last_error: m.last_error.clone(),
        created_at: rfc3339(m.created_at),
        sent_at: m.sent_at.map(rfc3339),
        next_attempt_at: (m.state == OutboxState::Queued).then(|| rfc3339(m.next_attempt_at)),
    }
}
