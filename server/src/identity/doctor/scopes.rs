//! Which delegated Graph permissions a mailbox needs for what it does, and
//! which of them a set of scopes lacks. Pure, so it is tested without
//! Microsoft.
use crate::db::tenant_emails::MailboxSettings;
use app::model::inbox::AfterProcessing;
use app::model::AccountType;

/// The scopes `settings` needs: a refresh token, `/me`, and mail rights for
/// its direction (moving or marking read needs ReadWrite).
/// A shared mailbox needs the `.Shared` forms: the delegate's own
/// permissions do not reach another mailbox.
pub fn required(settings: &MailboxSettings) -> Vec<&'static str> {
    let shared = settings.account_type == AccountType::Microsoft365Shared;
    let mut out = vec!["offline_access", "User.Read"];
    if settings.direction.receives() {
        out.push(match (settings.receiving.after, shared) {
            (AfterProcessing::Leave, false) => "Mail.Read",
            (AfterProcessing::Leave, true) => "Mail.Read.Shared",
            (AfterProcessing::MarkRead | AfterProcessing::Move, false) => "Mail.ReadWrite",
            (AfterProcessing::MarkRead | AfterProcessing::Move, true) => "Mail.ReadWrite.Shared",
        });
    }
    if settings.direction.sends() {
        out.push(if shared {
            "Mail.Send.Shared"
        } else {
            "Mail.Send"
        });
    }
    out
}

/// What `have` lacks of `need`. Case-insensitive; Graph's resource prefix
/// (`https://graph.microsoft.com/`) is ignored, and `Mail.ReadWrite` covers
/// `Mail.Read`.
pub fn missing<'a>(need: &[&'a str], have: &str) -> Vec<&'a str> {
    let have: Vec<String> = have
        .split_whitespace()
        .map(|s| {
            s.rsplit('/')
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase()
        })
        .collect();
    let holds = |s: &str| have.iter().any(|h| h == s);
    need.iter()
        .copied()
        .filter(|n| {
            let n = n.to_ascii_lowercase();
            !(holds(&n)
                || (n == "mail.read" && holds("mail.readwrite"))
                || (n == "mail.read.shared" && holds("mail.readwrite.shared")))
        })
        .collect()
}

/// What a grant (Microsoft's `scope` answer) lacks of `need`. The answer
/// need not list `offline_access`: a stored refresh token proves it.
pub fn missing_from_grant<'a>(need: &[&'a str], granted: &str) -> Vec<&'a str> {
    let graph: Vec<&'a str> = need
        .iter()
        .copied()
        .filter(|s| *s != "offline_access")
        .collect();
    missing(&graph, granted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_missing() {
        let need = ["offline_access", "User.Read", "Mail.Read", "Mail.Send"];
        assert!(missing(
            &need,
            "openid profile offline_access User.Read Mail.Read Mail.Send"
        )
        .is_empty());
        assert!(missing(
            &need,
            "https://graph.microsoft.com/mail.readwrite https://graph.microsoft.com/Mail.Send offline_access user.read"
        )
        .is_empty());
        assert_eq!(
            missing(&need, "openid offline_access User.Read Mail.Read"),
            ["Mail.Send"]
        );
        assert_eq!(
            missing(&["Mail.ReadWrite"], "Mail.Read"),
            ["Mail.ReadWrite"]
        );
    }
}
