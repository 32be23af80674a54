//! Scope parsing as Entra does it: space separated; a line break or comma is AADSTS70011.

use std::collections::BTreeSet;

use crate::errors::{aadsts, EntraError};
use crate::model::App;

pub const GRAPH_RESOURCE: &str = "https://graph.microsoft.com/";
pub const OIDC_SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

/// Splits a `scope` parameter; rejects line breaks, commas and mixed resources.
pub fn parse(scope: &str) -> Result<Vec<String>, EntraError> {
    if scope.contains(['\n', '\r', ',']) {
        return Err(aadsts::invalid_scope(scope));
    }
    let scopes: Vec<String> = scope
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if scopes.is_empty() {
        return Err(aadsts::missing_parameter("scope"));
    }
    let mut resources = BTreeSet::new();
    for s in &scopes {
        if OIDC_SCOPES.contains(&s.to_ascii_lowercase().as_str()) {
            continue;
        }
        let resource = match s.find("://") {
            Some(scheme_end) => {
                let after = &s[scheme_end + 3..];
                let host_end = after.find('/').map_or(s.len(), |i| scheme_end + 3 + i + 1);
                s[..host_end].to_ascii_lowercase()
            }
            None => GRAPH_RESOURCE.to_owned(),
        };
        resources.insert(resource);
    }
    if resources.len() > 1 {
        return Err(aadsts::invalid_scope(scope));
    }
    Ok(scopes)
}

/// The Graph permissions asked for, lower-cased without the resource prefix; `.default` expands to
/// the app's configured permissions.
pub fn graph(scopes: &[String], app: &App) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for s in scopes {
        let lower = s.to_ascii_lowercase();
        if OIDC_SCOPES.contains(&lower.as_str()) {
            continue;
        }
        let name = lower
            .strip_prefix(GRAPH_RESOURCE)
            .unwrap_or(&lower)
            .to_owned();
        if name == ".default" {
            out.extend(app.api_permissions.iter().map(|p| p.to_ascii_lowercase()));
        } else {
            out.insert(name);
        }
    }
    out
}

pub fn has(scopes: &[String], wanted: &str) -> bool {
    scopes.iter().any(|s| s.eq_ignore_ascii_case(wanted))
}

/// Microsoft's spelling of a Graph permission (`mail.send` → `Mail.Send`).
pub fn canonical(scope: &str) -> String {
    match scope {
        "user.read" => "User.Read".to_owned(),
        "mail.read" => "Mail.Read".to_owned(),
        "mail.send" => "Mail.Send".to_owned(),
        "mail.readwrite" => "Mail.ReadWrite".to_owned(),
        "mail.readbasic" => "Mail.ReadBasic".to_owned(),
        // Delegated access to other users' (and shared) mailboxes.
        "mail.read.shared" => "Mail.Read.Shared".to_owned(),
        "mail.readwrite.shared" => "Mail.ReadWrite.Shared".to_owned(),
        "mail.send.shared" => "Mail.Send.Shared".to_owned(),
        "mail.readbasic.shared" => "Mail.ReadBasic.Shared".to_owned(),
        // Application permissions beyond the mail ones (which share their delegated names).
        "mail.readbasic.all" => "Mail.ReadBasic.All".to_owned(),
        "user.read.all" => "User.Read.All".to_owned(),
        "user.readbasic.all" => "User.ReadBasic.All".to_owned(),
        other => other.to_owned(),
    }
}

/// The informative `scope` of a token response: Graph permissions, then the OIDC scopes granted.
pub fn response_scope(scopes: &[String], app: &App) -> String {
    let mut out: Vec<String> = graph(scopes, app).iter().map(|s| canonical(s)).collect();
    for oidc in ["openid", "profile", "email"] {
        if has(scopes, oidc) {
            out.push(oidc.to_owned());
        }
    }
    out.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_line_breaks_commas_and_mixed_resources() {
        assert!(parse("openid profile\nmail.send").is_err());
        assert!(parse("openid,profile").is_err());
        assert!(parse(
            "https://graph.microsoft.com/mail.send https://outlook.office.com/SMTP.Send"
        )
        .is_err());
        assert_eq!(parse("openid  mail.send").map(|s| s.len()).ok(), Some(2));
        assert!(parse("https://graph.microsoft.com/mail.send offline_access user.read").is_ok());
    }

    #[test]
    fn shared_mailbox_scopes_have_microsofts_spelling() {
        assert_eq!(canonical("mail.read.shared"), "Mail.Read.Shared");
        assert_eq!(canonical("mail.readwrite.shared"), "Mail.ReadWrite.Shared");
        assert_eq!(canonical("mail.send.shared"), "Mail.Send.Shared");
    }
}
