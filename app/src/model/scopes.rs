//! The Scopes field: one line, single spaces (a line break here breaks
//! sign-in at Microsoft with AADSTS70011, the classic failure of this field).
use super::cloud::Cloud;
use super::tenant_email::Direction;

pub const DEFAULT_SCOPES: &str =
    "openid profile offline_access user.read mail.read mail.send mail.readwrite";
pub const MAX_SCOPES_LEN: usize = 2000;

/// Collapses any whitespace run (line breaks, tabs, double spaces) into one
/// space and trims the ends: the one-click fix the form offers.
pub fn normalize_scopes(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// True when the value differs from its normalised form only in whitespace,
/// so offering the one-click fix makes sense.
pub fn needs_whitespace_fix(value: &str) -> bool {
    !value.is_empty() && normalize_scopes(value) != value && !normalize_scopes(value).is_empty()
}

/// RFC 6749 §3.3 scope-token characters: %x21 / %x23-5B / %x5D-7E.
fn is_scope_char(c: char) -> bool {
    matches!(c, '\x21' | '\x23'..='\x5B' | '\x5D'..='\x7E')
}

/// Microsoft compares scopes case-insensitively, and Graph's delegated
/// permissions may be written bare (`mail.send`) or as a resource URI.
fn permission_name(scope: &str) -> String {
    let lower = scope.to_ascii_lowercase();
    match graph_of(&lower) {
        Some((_, name)) => name.to_string(),
        None => lower,
    }
}

/// `https://graph.microsoft.us/mail.send` → (US Government, `mail.send`).
fn graph_of(lower: &str) -> Option<(Cloud, &str)> {
    let (host, name) = lower.strip_prefix("https://")?.split_once('/')?;
    Some((Cloud::of_graph_host(host)?, name))
}

/// A scope written with another cloud's Graph (`https://graph.microsoft.com/…`
/// for a GCC High mailbox) would be refused at sign-in: say so as it is typed.
pub fn check_cloud(value: &str, cloud: Cloud) -> Result<(), String> {
    for scope in value.split_whitespace() {
        let lower = scope.to_ascii_lowercase();
        if let Some((other, name)) = graph_of(&lower) {
            if other != cloud {
                return Err(format!(
                    "{scope} is the Graph of {}, but this mailbox is in {}: write {name} or {}/{name}.",
                    other.name(),
                    cloud.name(),
                    cloud.graph_resource()
                ));
            }
        }
    }
    Ok(())
}

/// What a shared mailbox opened by a delegate needs (the `.Shared` permissions).
pub const SHARED_SCOPES: &str =
    "openid profile offline_access user.read mail.read.shared mail.readwrite.shared mail.send.shared";

/// A shared mailbox's scopes: the same form rules, and the `.Shared`
/// permissions for what it does (the delegate's own mail permissions do not
/// reach another mailbox).
pub fn validate_shared_scopes(value: &str, direction: Direction) -> Result<(), String> {
    let names = checked_names(value, SHARED_SCOPES)?;
    let has = |s: &str| names.iter().any(|n| n == s);
    if !has("offline_access") {
        return Err("Add offline_access, otherwise Microsoft issues no refresh token and the connection stops after an hour.".into());
    }
    if direction.sends() && !has("mail.send.shared") {
        return Err(format!("A shared mailbox sends with mail.send.shared (and the delegate's Send As right): use {SHARED_SCOPES}"));
    }
    if direction.receives() && !has("mail.read.shared") && !has("mail.readwrite.shared") {
        return Err(format!("A shared mailbox is read with mail.read.shared or mail.readwrite.shared (and the delegate's Full Access): use {SHARED_SCOPES}"));
    }
    Ok(())
}

/// The form rules every scope list follows; its permission names.
fn checked_names(value: &str, example: &str) -> Result<Vec<String>, String> {
    if value.trim().is_empty() {
        return Err(format!("Enter the scopes: {example}"));
    }
    if value.len() > MAX_SCOPES_LEN {
        return Err(format!("Scopes are at most {MAX_SCOPES_LEN} characters."));
    }
    if value.contains(['\n', '\r']) {
        return Err("Scopes must be on a single line: a line break breaks sign-in at Microsoft (AADSTS70011).".into());
    }
    if value.contains('\t') {
        return Err("Separate scopes with single spaces, not tabs.".into());
    }
    if value.starts_with(' ') || value.ends_with(' ') {
        return Err("Remove the spaces at the start or end of the scopes.".into());
    }
    if value.contains("  ") {
        return Err("Separate scopes with a single space.".into());
    }
    if value.contains(',') || value.contains(';') {
        return Err("Separate scopes with spaces, not commas or semicolons.".into());
    }
    if let Some(bad) = value.chars().find(|c| *c != ' ' && !is_scope_char(*c)) {
        return Err(format!("Scopes cannot contain the character {bad:?}."));
    }
    let names: Vec<String> = value.split(' ').map(permission_name).collect();
    for (i, name) in names.iter().enumerate() {
        if names[..i].contains(name) {
            return Err(format!("The scope {name} is listed twice."));
        }
    }
    Ok(names)
}

pub fn validate_scopes(value: &str, direction: Direction) -> Result<(), String> {
    let names = checked_names(value, DEFAULT_SCOPES)?;
    let has = |s: &str| names.iter().any(|n| n == s);
    if !has("offline_access") {
        return Err("Add offline_access, otherwise Microsoft issues no refresh token and the connection stops after an hour.".into());
    }
    if direction.sends() && !has("mail.send") {
        return Err("This mailbox sends mail: add mail.send.".into());
    }
    if direction.receives() && !has("mail.read") && !has("mail.readwrite") {
        return Err("This mailbox receives mail: add mail.read or mail.readwrite.".into());
    }
    Ok(())
}
