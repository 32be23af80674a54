//! Alert destinations and what needs attention, as the admin console shows
//! them, and the rules a new destination must meet (checked in the form and
//! again in the server function).
use super::identifiers::validate_address;
use super::FieldErrors;
use serde::{Deserialize, Serialize};

pub const DEST_KIND: &str = "kind";
pub const DEST_NAME: &str = "name";
pub const DEST_ADDRESSES: &str = "addresses";
pub const DEST_URL: &str = "url";
pub const DEST_SENDER: &str = "sender";
pub const MAX_DEST_NAME_CHARS: usize = 100;
pub const MAX_ALERT_RECIPIENTS: usize = 20;
pub const MAX_WEBHOOK_URL_CHARS: usize = 2048;

/// Where an alert goes besides the in-app banner (which is always on).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewDestinationInput {
    /// `email` or `webhook`.
    pub kind: String,
    pub name: String,
    /// Email: comma- or line-separated addresses.
    #[serde(default)]
    pub addresses: String,
    /// Email: the Tenant Email (id) alert mails are sent through.
    #[serde(default)]
    pub sender_email_id: String,
    /// Webhook: where the signed JSON is POSTed.
    #[serde(default)]
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DestinationView {
    pub id: String,
    pub kind: String,
    pub name: String,
    /// Addresses (email) or the URL (webhook).
    pub target: String,
    /// Email: the sending mailbox's address (`None`: it was deleted).
    pub sender: Option<String>,
    /// Set when the sender mailbox itself needs attention: alerts about it
    /// go to the other destinations only.
    pub sender_warning: Option<String>,
    pub created_at: String,
    pub created_by: String,
    pub last_delivery_at: Option<String>,
    pub last_delivery_ok: Option<bool>,
    pub last_delivery_detail: Option<String>,
    pub pending: u64,
}

/// A webhook's signing secret, shown once right after it is created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedDestination {
    pub destination: DestinationView,
    pub signing_secret: Option<String>,
}

/// One condition that needs an admin now (the banner and the Alerts page).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttentionItem {
    pub tenant_id: String,
    pub tenant_name: String,
    pub tenant_email_id: String,
    pub address: String,
    pub title: String,
    pub fix: String,
    /// RFC 3339.
    pub since: String,
}

/// A mailbox that can send alert mails.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SenderOption {
    pub tenant_email_id: String,
    pub label: String,
}

/// Everything the Alerts page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertsPageData {
    pub destinations: Vec<DestinationView>,
    pub senders: Vec<SenderOption>,
    pub attention: Vec<AttentionItem>,
}

/// The addresses of an email destination, as entered (commas or new lines).
pub fn split_addresses(value: &str) -> Vec<String> {
    value
        .split([',', ';', '\n'])
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_string)
        .collect()
}

/// A webhook URL: http(s), a host, no credentials, no spaces.
pub fn validate_webhook_url(value: &str) -> Result<(), String> {
    let v = value.trim();
    if v.is_empty() {
        return Err("Enter the URL Tenant Mail must POST alerts to.".into());
    }
    if v.chars().count() > MAX_WEBHOOK_URL_CHARS {
        return Err(format!("Use at most {MAX_WEBHOOK_URL_CHARS} characters."));
    }
    let rest = v
        .strip_prefix("https://")
        .or_else(|| v.strip_prefix("http://"))
        .ok_or("The URL must start with https:// (or http:// on a private network).")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() {
        return Err("The URL needs a host name.".into());
    }
    if authority.contains('@') {
        return Err(
            "Put no user name or password in the URL: requests are signed with the secret instead."
                .into(),
        );
    }
    if v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("A URL has no spaces.".into());
    }
    Ok(())
}

/// Every problem, per field.
pub fn validate_destination(input: &NewDestinationInput) -> FieldErrors {
    let mut errors = FieldErrors::new();
    let name = input.name.trim();
    if name.is_empty() {
        errors.add(DEST_NAME, "Enter a name (for example “On-call team”).");
    } else if name.chars().count() > MAX_DEST_NAME_CHARS {
        errors.add(
            DEST_NAME,
            format!("Use at most {MAX_DEST_NAME_CHARS} characters."),
        );
    } else if name.chars().any(char::is_control) {
        errors.add(DEST_NAME, "A name is one line.");
    }
    match input.kind.as_str() {
        "email" => {
            let addresses = split_addresses(&input.addresses);
            if addresses.is_empty() {
                errors.add(DEST_ADDRESSES, "Enter at least one address.");
            } else if addresses.len() > MAX_ALERT_RECIPIENTS {
                errors.add(
                    DEST_ADDRESSES,
                    format!("At most {MAX_ALERT_RECIPIENTS} addresses."),
                );
            }
            for a in &addresses {
                if let Err(m) = validate_address(a) {
                    errors.add(DEST_ADDRESSES, format!("{a}: {m}"));
                }
            }
            if input.sender_email_id.trim().is_empty() {
                errors.add(
                    DEST_SENDER,
                    "Choose the mailbox alert mails are sent through.",
                );
            }
        }
        "webhook" => errors.merge(DEST_URL, validate_webhook_url(&input.url)),
        _ => errors.add(DEST_KIND, "Choose email or webhook."),
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(addresses: &str, sender: &str) -> NewDestinationInput {
        NewDestinationInput {
            kind: "email".into(),
            name: "On call".into(),
            addresses: addresses.into(),
            sender_email_id: sender.into(),
            url: String::new(),
        }
    }

    fn webhook(url: &str) -> NewDestinationInput {
        NewDestinationInput {
            kind: "webhook".into(),
            name: "Pager".into(),
            addresses: String::new(),
            sender_email_id: String::new(),
            url: url.into(),
        }
    }

    #[test]
    fn email_destinations() {
        assert!(validate_destination(&email("a@example.com, b@example.com", "x")).is_empty());
        let e = validate_destination(&email("", ""));
        assert!(e.get(DEST_ADDRESSES).is_some());
        assert!(e.get(DEST_SENDER).is_some());
        let e = validate_destination(&email("a@example.com; not-an-address", "x"));
        assert!(e.get(DEST_ADDRESSES).unwrap().contains("not-an-address"));
        let many = (0..21)
            .map(|i| format!("u{i}@example.com"))
            .collect::<Vec<_>>();
        assert!(validate_destination(&email(&many.join(","), "x"))
            .get(DEST_ADDRESSES)
            .is_some());
        assert_eq!(
            split_addresses("a@x.com,\n b@x.com ;; "),
            vec!["a@x.com".to_string(), "b@x.com".to_string()]
        );
    }

    #[test]
    fn webhook_urls() {
        assert!(validate_destination(&webhook("https://hooks.example.com/t/1")).is_empty());
        assert!(validate_destination(&webhook("http://127.0.0.1:9000/x")).is_empty());
        for bad in [
            "",
            "ftp://example.com",
            "https://",
            "https://user:pw@example.com/",
            "https://exa mple.com/",
            "example.com/hook",
        ] {
            assert!(
                validate_destination(&webhook(bad)).get(DEST_URL).is_some(),
                "{bad:?} accepted"
            );
        }
    }

    #[test]
    fn names_and_kinds() {
        let mut w = webhook("https://example.com");
        w.name = " ".into();
        assert!(validate_destination(&w).get(DEST_NAME).is_some());
        w.name = "x".repeat(101);
        assert!(validate_destination(&w).get(DEST_NAME).is_some());
        w.name = "ok".into();
        w.kind = "sms".into();
        assert!(validate_destination(&w).get(DEST_KIND).is_some());
    }
}
