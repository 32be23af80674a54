//! Admin accounts and the audit log as the UI sees them, and the rules for
//! usernames and passwords (checked in the form and again on the server).
use serde::{Deserialize, Serialize};

pub const USERNAME: &str = "username";
pub const PASSWORD: &str = "password";
pub const PASSWORD_CONFIRM: &str = "password_confirm";
pub const CURRENT_PASSWORD: &str = "current_password";
pub const SETUP_TOKEN: &str = "setup_token";

/// NIST SP 800-63B allows 8; an account that holds mailbox keys asks for more.
pub const PASSWORD_MIN_CHARS: usize = 12;
/// Long enough for any passphrase, short enough that hashing it is cheap.
pub const PASSWORD_MAX_CHARS: usize = 256;

/// Usernames are compared case-insensitively, so they are stored lower-cased.
pub fn normalize_username(name: &str) -> String {
    name.trim().to_lowercase()
}

pub fn validate_username(name: &str) -> Result<(), String> {
    let n = normalize_username(name);
    if n.is_empty() {
        return Err("Enter a username.".into());
    }
    if n.chars().count() < 3 || n.chars().count() > 64 {
        return Err("A username has 3 to 64 characters.".into());
    }
    if !n
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
    {
        return Err("Use letters, digits and . _ - @ only.".into());
    }
    Ok(())
}

pub fn validate_new_password(password: &str, username: &str) -> Result<(), String> {
    let count = password.chars().count();
    if count == 0 {
        return Err("Enter a password.".into());
    }
    if count < PASSWORD_MIN_CHARS {
        return Err(format!(
            "Use at least {PASSWORD_MIN_CHARS} characters (a few words make a good one)."
        ));
    }
    if count > PASSWORD_MAX_CHARS {
        return Err(format!("Use at most {PASSWORD_MAX_CHARS} characters."));
    }
    if !username.trim().is_empty()
        && password
            .to_lowercase()
            .contains(&normalize_username(username))
    {
        return Err("The password must not contain the username.".into());
    }
    Ok(())
}

pub fn validate_confirmation(password: &str, confirm: &str) -> Result<(), String> {
    if password == confirm {
        Ok(())
    } else {
        Err("The two passwords differ.".into())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminView {
    pub id: String,
    pub username: String,
    pub disabled: bool,
    /// RFC 3339.
    pub created_at: String,
    pub last_sign_in_at: Option<String>,
    /// The admin looking at the list.
    pub is_you: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilter {
    /// Prefix of the action, e.g. `admin.` or `tenant_email.secret_replaced`.
    pub action: String,
    /// Username of the acting admin (`system` for background jobs).
    pub actor: String,
    /// Free text matched against the target's label and the detail.
    pub text: String,
    /// Only failures.
    pub failures_only: bool,
    /// Page backwards: entries with an id below this one.
    pub before_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntryView {
    pub id: i64,
    /// RFC 3339.
    pub at: String,
    pub actor: String,
    pub request_id: Option<String>,
    pub ip: Option<String>,
    pub action: String,
    pub outcome: String,
    pub target: Option<String>,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub entries: Vec<AuditEntryView>,
    /// Pass as `before_id` for the next (older) page.
    pub next_before_id: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert!(validate_username("Alice").is_ok());
        assert!(validate_username("ops.admin@contoso").is_ok());
        assert!(validate_username("").is_err());
        assert!(validate_username("ab").is_err());
        assert!(validate_username("a b c").is_err());
        assert!(validate_username(&"x".repeat(65)).is_err());
        assert_eq!(normalize_username("  Alice "), "alice");
    }

    #[test]
    fn passwords() {
        assert!(validate_new_password("correct horse battery", "alice").is_ok());
        assert!(validate_new_password("short", "alice").is_err());
        assert!(validate_new_password("", "alice").is_err());
        assert!(validate_new_password(&"x".repeat(257), "alice").is_err());
        assert!(validate_new_password("my name is Alice!!", "alice").is_err());
        assert!(validate_confirmation("a", "b").is_err());
        assert!(validate_confirmation("same", "same").is_ok());
    }
}
