//! One alert as every destination receives it (the webhook's JSON, the
//! mail's text, the banner's line): what happened, since when, which tenant
//! and mailbox, what to do, and a link to the place to do it.
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A condition began.
    Raised,
    /// A raised condition got another level (a secret's last week, say).
    Changed,
    /// The condition cleared.
    Recovered,
    /// Sent by the Alerts page's "Send test alert".
    Test,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertEvent {
    /// Unique per alert: a receiver that sees it twice can drop the copy.
    pub id: String,
    pub kind: EventKind,
    /// `connection`, `secret`, `outbox`, `inbox` or `test`.
    pub condition: String,
    pub level: Option<String>,
    pub title: String,
    pub detail: String,
    /// What to do about it (empty for a recovery).
    pub fix: String,
    /// When the condition began (RFC 3339).
    pub since: Option<String>,
    /// When this alert was decided.
    pub at: String,
    pub tenant_id: Option<String>,
    pub tenant_name: Option<String>,
    pub tenant_email_id: Option<String>,
    pub mailbox: Option<String>,
    /// Where the admin fixes it.
    pub link: String,
}

/// Where an admin fixes a mailbox: its Tenant Email editor.
pub fn mailbox_link(public_url: &str, tenant_id: &str, tenant_email_id: &str) -> String {
    format!(
        "{}/admin/tenants/{tenant_id}/emails/{tenant_email_id}",
        public_url.trim_end_matches('/')
    )
}

pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl AlertEvent {
    /// The mail subject line, or the first line of a digest entry.
    pub fn headline(&self) -> String {
        match self.kind {
            EventKind::Recovered => format!("Recovered: {}", self.title),
            _ => self.title.clone(),
        }
    }

    /// The alert as plain text, for a mail.
    pub fn as_text(&self) -> String {
        let mut out = format!("{}\n\n{}\n", self.headline(), self.detail);
        if !self.fix.is_empty() {
            out.push_str(&format!("\nWhat to do: {}\n", self.fix));
        }
        if let (Some(tenant), Some(mailbox)) = (&self.tenant_name, &self.mailbox) {
            out.push_str(&format!("\nTenant: {tenant}\nMailbox: {mailbox}\n"));
        }
        if let Some(since) = &self.since {
            out.push_str(&format!("Since: {since}\n"));
        }
        out.push_str(&format!("Open: {}\n", self.link));
        out
    }
}

/// A condition that is open now, for a destination that was just added (so
/// it starts out knowing what is already wrong).
pub fn open_event(
    a: &crate::db::alerts::Attention,
    public_url: &str,
    now: DateTime<Utc>,
) -> AlertEvent {
    AlertEvent {
        id: uuid::Uuid::new_v4().to_string(),
        kind: EventKind::Raised,
        condition: a.state.condition.clone(),
        level: Some(a.state.level.clone()),
        title: a.state.title.clone(),
        detail: a.state.detail.clone(),
        fix: a.state.fix.clone(),
        since: Some(rfc3339(a.state.since)),
        at: rfc3339(now),
        tenant_id: Some(a.tenant_id.clone()),
        tenant_name: Some(a.tenant_name.clone()),
        tenant_email_id: Some(a.state.tenant_email_id.clone()),
        mailbox: Some(a.address.clone()),
        link: mailbox_link(public_url, &a.tenant_id, &a.state.tenant_email_id),
    }
}

/// A test alert for the Alerts page's button.
pub fn test_event(destination_name: &str, public_url: &str, now: DateTime<Utc>) -> AlertEvent {
    AlertEvent {
        id: uuid::Uuid::new_v4().to_string(),
        kind: EventKind::Test,
        condition: "test".into(),
        level: None,
        title: format!("Test alert for “{destination_name}”"),
        detail: "An admin sent this from the Alerts page to check that alerts reach you. \
                 Nothing needs attention."
            .into(),
        fix: String::new(),
        since: None,
        at: rfc3339(now),
        tenant_id: None,
        tenant_name: None,
        tenant_email_id: None,
        mailbox: None,
        link: format!("{}/admin/alerts", public_url.trim_end_matches('/')),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_has_what_when_where_and_fix() {
        let at = DateTime::parse_from_rfc3339("2026-12-07T12:00:00Z")
            .unwrap()
            .to_utc();
        let mut e = test_event("Ops", "https://mail.example.com/", at);
        e.fix = "Re-authenticate.".into();
        e.tenant_name = Some("Contoso".into());
        e.mailbox = Some("ops@contoso.com".into());
        e.since = Some("2026-12-07T10:00:00Z".into());
        let text = e.as_text();
        assert!(text.starts_with("Test alert for “Ops”"));
        assert!(text.contains("What to do: Re-authenticate."));
        assert!(text.contains("Tenant: Contoso\nMailbox: ops@contoso.com"));
        assert!(text.contains("Since: 2026-12-07T10:00:00Z"));
        assert!(text.contains("Open: https://mail.example.com/admin/alerts"));
        e.kind = EventKind::Recovered;
        assert!(e.headline().starts_with("Recovered: "));
    }
}
