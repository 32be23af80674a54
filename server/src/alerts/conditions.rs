//! Which conditions each mailbox is in, judged from its facts, and what
//! changed against the conditions raised before. Pure: the same facts and
//! states give the same changes, so the rules are tested without a database.
use super::event::{mailbox_link, rfc3339, AlertEvent, EventKind};
use crate::db::alerts::{Change, MailboxFacts, RaisedState};
use app::model::ConnectionStatus;
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::HashMap;

/// A condition a mailbox is in now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub condition: &'static str,
    pub level: String,
    pub title: String,
    pub detail: String,
    pub fix: String,
}

/// Days before a secret's end date when an alert is due.
const SECRET_WARNINGS: [(i64, &str); 4] = [
    (1, "1_day"),
    (7, "7_days"),
    (14, "14_days"),
    (30, "30_days"),
];

fn connection(f: &MailboxFacts) -> Option<Condition> {
    let status = ConnectionStatus::from_code(&f.connection_status)?;
    let a = &f.address;
    let (title, fix) = match status {
        ConnectionStatus::NeedsReauth => (
            format!("{a} needs re-authentication"),
            format!(
                "Open the mailbox in Tenant Management and click “Click to RE Authenticate”, \
                 signing in as {a}. Mail waits in the outbox meanwhile."
            ),
        ),
        ConnectionStatus::CredentialsInvalid => (
            format!("{a}: Microsoft refuses the app's credentials"),
            "Create a new client secret for the app registration in Microsoft Entra \
             (Certificates & secrets), enter it on the OAuth2 Configuration tab and save. \
             The sign-in is kept."
                .into(),
        ),
        ConnectionStatus::Error => (
            format!("{a}: the connection to Microsoft fails"),
            "Read the error on the mailbox's Connection panel; re-authenticate if it persists."
                .into(),
        ),
        ConnectionStatus::Connected | ConnectionStatus::NotAuthenticated => return None,
    };
    Some(Condition {
        condition: "connection",
        level: status.code().into(),
        title,
        detail: f
            .connection_error
            .clone()
            .unwrap_or_else(|| status.label().to_string()),
        fix,
    })
}

/// A next secret that outlives the one in use takes over on its own
/// (`identity::rotation`) once the current one is this close to its end:
/// until then the warnings wait; a next secret still waiting after that
/// has not been accepted, and the warnings say so.
fn rotation_covers(f: &MailboxFacts, ends: NaiveDate, days: i64) -> bool {
    f.has_next_secret
        && f.next_secret_expires_on.is_none_or(|next| next > ends)
        && days > crate::identity::rotation::ROTATE_WITHIN_DAYS
}

fn secret(f: &MailboxFacts, today: NaiveDate) -> Option<Condition> {
    if let Some(ends) = f.certificate_expires_on {
        return certificate(f, ends, today);
    }
    let ends = f.secret_expires_on?;
    let days = (ends - today).num_days();
    let fix = "Create a new client secret for the app registration in Microsoft Entra \
               (Certificates & secrets) and store it as the Next secret on the OAuth2 \
               Configuration tab: it takes over without a new sign-in."
        .to_string();
    if days < 0 {
        let detail = if f.has_next_secret {
            "Microsoft refuses an expired secret (AADSTS7000222), and the next secret stored \
             has not been accepted: no mail goes out or comes in for this mailbox. Run Check \
             configuration to see why."
        } else {
            "Microsoft refuses an expired secret (AADSTS7000222): no mail goes out \
             or comes in for this mailbox."
        };
        return Some(Condition {
            condition: "secret",
            level: "expired".into(),
            title: format!("{}: the client secret expired on {ends}", f.address),
            detail: detail.into(),
            fix,
        });
    }
    if rotation_covers(f, ends, days) {
        return None;
    }
    let (_, level) = SECRET_WARNINGS.iter().find(|(d, _)| days <= *d)?;
    let detail = if f.has_next_secret {
        "A next secret is stored but has not taken over: Microsoft has not accepted it yet (Check \
         configuration says why). After the end date mail stops for this mailbox."
    } else {
        "After that date Microsoft refuses it and mail stops for this mailbox."
    };
    Some(Condition {
        condition: "secret",
        level: (*level).into(),
        title: format!(
            "{}: the client secret expires {} ({ends})",
            f.address,
            when(days)
        ),
        detail: detail.into(),
        fix,
    })
}

fn when(days: i64) -> String {
    match days {
        0 => "today".to_string(),
        1 => "tomorrow".to_string(),
        n => format!("in {n} days"),
    }
}

/// A certificate credential's end date, warned about like a secret's.
fn certificate(f: &MailboxFacts, ends: NaiveDate, today: NaiveDate) -> Option<Condition> {
    let days = (ends - today).num_days();
    let fix = "Create a new certificate on the OAuth2 Configuration tab and upload it to the \
               app registration in Microsoft Entra (Certificates & secrets) right away."
        .to_string();
    let (level, title, detail) = if days < 0 {
        (
            "expired",
            format!("{}: the certificate expired on {ends}", f.address),
            "Microsoft refuses an expired certificate (AADSTS700027): no mail goes out or \
             comes in for this mailbox.",
        )
    } else {
        let (_, level) = SECRET_WARNINGS.iter().find(|(d, _)| days <= *d)?;
        (
            *level,
            format!(
                "{}: the certificate expires {} ({ends})",
                f.address,
                when(days)
            ),
            "After that date Microsoft refuses it and mail stops for this mailbox.",
        )
    };
    Some(Condition {
        condition: "secret",
        level: level.into(),
        title,
        detail: detail.into(),
        fix,
    })
}

fn outbox(f: &MailboxFacts, limits: &crate::db::alerts::Thresholds) -> Option<Condition> {
    let level = if f.outbox_held > 0 {
        "held"
    } else if f.outbox_failed_recently > 0 {
        "failed"
    } else if f.outbox_backlog > 0 {
        "backlog"
    } else {
        return None;
    };
    let mut parts = Vec::new();
    if f.outbox_held > 0 {
        parts.push(format!("{} held", f.outbox_held));
    }
    if f.outbox_failed_recently > 0 {
        parts.push(format!(
            "{} failed in the last {} minutes",
            f.outbox_failed_recently,
            limits.outbox_failed_window.num_minutes()
        ));
    }
    if f.outbox_backlog > 0 {
        parts.push(format!(
            "{} queued for more than {} minutes",
            f.outbox_backlog,
            limits.outbox_backlog.num_minutes()
        ));
    }
    Some(Condition {
        condition: "outbox",
        level: level.into(),
        title: format!("{}: outgoing mail is not going out", f.address),
        detail: format!("Outbox: {}.", parts.join(", ")),
        fix: "Open the mailbox's Outbox page: each message says why it stopped. Fix the \
              connection first if it needs it; held messages can then be retried."
            .into(),
    })
}

fn inbox(f: &MailboxFacts) -> Option<Condition> {
    let error = f.inbox_error.clone()?;
    Some(Condition {
        condition: "inbox",
        level: "failing".into(),
        title: format!("{}: receiving mail fails", f.address),
        detail: error,
        fix: "Open the mailbox's Inbox page for the error; re-authenticating or correcting \
              the receive folder on the Receiving tab usually fixes it."
            .into(),
    })
}

/// Every condition `f` is in now.
pub fn judge(
    f: &MailboxFacts,
    today: NaiveDate,
    limits: &crate::db::alerts::Thresholds,
) -> Vec<Condition> {
    [connection(f), secret(f, today), outbox(f, limits), inbox(f)]
        .into_iter()
        .flatten()
        .collect()
}

fn label(condition: &str) -> &'static str {
    match condition {
        "connection" => "the connection",
        "secret" => "the client secret",
        "outbox" => "outgoing mail",
        "inbox" => "receiving mail",
        _ => "the mailbox",
    }
}

/// What to record: conditions that began, changed level or cleared.
pub fn changes(
    facts: &[MailboxFacts],
    raised: &[RaisedState],
    now: DateTime<Utc>,
    limits: &crate::db::alerts::Thresholds,
    public_url: &str,
) -> Vec<Change> {
    let mut before: HashMap<(&str, &str), &RaisedState> = raised
        .iter()
        .map(|r| ((r.tenant_email_id.as_str(), r.condition.as_str()), r))
        .collect();
    let mut out = Vec::new();
    for f in facts {
        let link = mailbox_link(public_url, &f.tenant_id, &f.tenant_email_id);
        let event = |kind, c: &Condition, since: DateTime<Utc>| AlertEvent {
            id: uuid::Uuid::new_v4().to_string(),
            kind,
            condition: c.condition.into(),
            level: Some(c.level.clone()),
            title: c.title.clone(),
            detail: c.detail.clone(),
            fix: c.fix.clone(),
            since: Some(rfc3339(since)),
            at: rfc3339(now),
            tenant_id: Some(f.tenant_id.clone()),
            tenant_name: Some(f.tenant_name.clone()),
            tenant_email_id: Some(f.tenant_email_id.clone()),
            mailbox: Some(f.address.clone()),
            link: link.clone(),
        };
        for c in judge(f, now.date_naive(), limits) {
            let prior = before.remove(&(f.tenant_email_id.as_str(), c.condition));
            let (kind, since, old) = match prior {
                None => (EventKind::Raised, now, None),
                Some(p) if p.level != c.level => {
                    (EventKind::Changed, p.since, Some(p.level.clone()))
                }
                Some(_) => continue,
            };
            out.push(change(
                f,
                &c,
                old,
                Some(c.level.clone()),
                event(kind, &c, since),
            ));
        }
        for condition in ["connection", "secret", "outbox", "inbox"] {
            let Some(p) = before.remove(&(f.tenant_email_id.as_str(), condition)) else {
                continue;
            };
            let cleared = Condition {
                condition,
                level: p.level.clone(),
                title: format!("{}: {} is back to normal", f.address, label(condition)),
                detail: format!("Cleared after: {}", p.detail),
                fix: String::new(),
            };
            out.push(change(
                f,
                &cleared,
                Some(p.level.clone()),
                None,
                event(EventKind::Recovered, &cleared, p.since),
            ));
        }
    }
    out
}

fn change(
    f: &MailboxFacts,
    c: &Condition,
    before: Option<String>,
    after: Option<String>,
    event: AlertEvent,
) -> Change {
    Change {
        tenant_email_id: f.tenant_email_id.clone(),
        address: f.address.clone(),
        condition: c.condition.to_string(),
        summary: match &after {
            Some(level) => format!("{}: {level} — {}", c.condition, c.detail),
            None => format!("{}: recovered", c.condition),
        },
        before,
        after,
        title: c.title.clone(),
        detail: c.detail.clone(),
        fix: c.fix.clone(),
        // Serialising a plain struct of strings cannot fail; an empty
        // object would still be delivered and logged.
        event: serde_json::to_string(&event).unwrap_or_else(|_| "{}".into()),
    }
}

#[cfg(test)]
mod tests;
