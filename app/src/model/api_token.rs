//! Host-application API tokens as the admin console shows them. The token
//! itself appears only in `CreatedApiToken`, once, right after creation.
use serde::{Deserialize, Serialize};

pub const TOKEN_NAME: &str = "token_name";
pub const MAX_TOKEN_NAME_LEN: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiTokenView {
    pub id: String,
    pub name: String,
    /// The first characters of the token, so an admin can tell tokens apart.
    pub prefix: String,
    /// RFC 3339 timestamps.
    pub created_at: String,
    pub created_by: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedApiToken {
    pub token: ApiTokenView,
    /// The plaintext token: shown once, never stored.
    pub secret: String,
}

pub fn validate_token_name(value: &str) -> Result<(), String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(
            "Enter a name for the token (for example the application that uses it).".into(),
        );
    }
    if v.chars().count() > MAX_TOKEN_NAME_LEN {
        return Err(format!(
            "A token name is at most {MAX_TOKEN_NAME_LEN} characters."
        ));
    }
    if v.chars().any(char::is_control) {
        return Err("A token name cannot contain control characters.".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(validate_token_name("billing").is_ok());
        assert!(validate_token_name("  ").is_err());
        assert!(validate_token_name(&"x".repeat(100)).is_ok());
        assert!(validate_token_name(&"x".repeat(101)).is_err());
        assert!(validate_token_name("a\nb").is_err());
    }
}
