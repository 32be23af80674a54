//! Validators for single values: GUIDs, domains, mailbox addresses, paths,
//! secrets, dates and names. Each returns a message an admin can act on.

/// The maximum length of an address in SMTP (RFC 5321 path limit minus brackets).
pub const MAX_ADDRESS_LEN: usize = 254;
pub const MAX_TENANT_NAME_LEN: usize = 100;
pub const MAX_SECRET_LEN: usize = 1024;
pub const MAX_ENDPOINT_LEN: usize = 256;

/// A GUID in the canonical 8-4-4-4-12 hexadecimal form Azure shows.
pub fn is_guid(value: &str) -> bool {
    value.len() == 36
        && value.char_indices().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
        && uuid::Uuid::try_parse(value).is_ok()
}

pub fn validate_application_id(value: &str) -> Result<(), String> {
    let v = value.trim();
    if v.is_empty() {
        return Err("Enter the Application (client) ID from the Azure app registration.".into());
    }
    if !is_guid(v) {
        return Err(
            "The Application ID is a GUID like 79c6ff55-b7e0-4517-bfd7-b4fffb6fee40 (Azure: App registrations → Overview → Application (client) ID)."
                .into(),
        );
    }
    Ok(())
}

/// A DNS domain such as `contoso.onmicrosoft.com` (at least two labels).
pub fn is_domain(value: &str) -> bool {
    if value.is_empty() || value.len() > 253 {
        return false;
    }
    let labels: Vec<&str> = value.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        // A top-level label is never all digits; that would be an IP address.
        && labels.last().is_some_and(|tld| !tld.chars().all(|c| c.is_ascii_digit()))
}

pub fn validate_address(value: &str) -> Result<(), String> {
    let v = value.trim();
    if v.is_empty() {
        return Err("Enter the mailbox address Tenant Mail must use.".into());
    }
    if v.len() > MAX_ADDRESS_LEN {
        return Err(format!(
            "An address is at most {MAX_ADDRESS_LEN} characters."
        ));
    }
    if v.contains(char::is_whitespace) {
        return Err("An address cannot contain spaces.".into());
    }
    let options = email_address::Options::default()
        .without_domain_literal()
        .without_display_text()
        .with_required_tld();
    let parsed = email_address::EmailAddress::parse_with_options(v, options)
        .map_err(|_| "Enter a mailbox address like helpdesk@contoso.com.".to_string())?;
    if !is_domain(&parsed.domain().to_ascii_lowercase()) {
        return Err("The part after @ must be a domain like contoso.com.".into());
    }
    if parsed.local_part().starts_with('"') {
        return Err("Quoted addresses are not supported by Microsoft 365 mailboxes.".into());
    }
    Ok(())
}

/// Addresses compare case-insensitively (Exchange treats them so); this is the
/// form stored in the unique index.
pub fn normalize_address(value: &str) -> String {
    value.trim().to_ascii_lowercase()
}

pub fn validate_tenant_name(value: &str) -> Result<(), String> {
    let v = value.trim();
    if v.is_empty() {
        return Err("Enter a name for the tenant.".into());
    }
    if v.chars().count() > MAX_TENANT_NAME_LEN {
        return Err(format!(
            "A tenant name is at most {MAX_TENANT_NAME_LEN} characters."
        ));
    }
    if v.chars().any(char::is_control) {
        return Err("A tenant name cannot contain control characters.".into());
    }
    Ok(())
}

/// A client secret as pasted from Azure. `required` is true when creating.
pub fn validate_secret(value: &str, required: bool) -> Result<(), String> {
    if value.is_empty() {
        return if required {
            Err("Paste the client secret Value from Azure (Certificates & secrets).".into())
        } else {
            Ok(())
        };
    }
    if value.len() > MAX_SECRET_LEN {
        return Err(format!(
            "A client secret is at most {MAX_SECRET_LEN} characters."
        ));
    }
    if value.trim() != value {
        return Err(
            "The secret starts or ends with a space; paste it again without spaces.".into(),
        );
    }
    if value.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err("A client secret cannot contain spaces or line breaks.".into());
    }
    // Azure shows both a "Secret ID" (a GUID) and the secret "Value"; pasting
    // the ID is the most common cause of AADSTS7000215.
    if is_guid(value) {
        return Err(
            "This looks like the Secret ID. Paste the secret's Value column instead.".into(),
        );
    }
    Ok(())
}

/// An endpoint path appended to the authority, e.g. `/oauth2/v2.0/token`.
pub fn validate_endpoint_path(value: &str) -> Result<(), String> {
    let v = value.trim();
    if v.is_empty() {
        return Err("Enter the endpoint path, e.g. /oauth2/v2.0/token.".into());
    }
    if v.len() > MAX_ENDPOINT_LEN {
        return Err(format!(
            "An endpoint path is at most {MAX_ENDPOINT_LEN} characters."
        ));
    }
    if !v.starts_with('/') {
        return Err("Enter only the path, starting with /, e.g. /oauth2/v2.0/authorize.".into());
    }
    if v.contains('?') || v.contains('#') {
        return Err("The endpoint path cannot contain a query (?) or fragment (#).".into());
    }
    if v.split('/').any(|seg| seg == ".." || seg == ".") || v.contains("//") {
        return Err("The endpoint path cannot contain '..', '.' or empty segments.".into());
    }
    if !v
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '.' | '_' | '~'))
    {
        return Err("The endpoint path may contain only letters, digits and / - . _ ~".into());
    }
    Ok(())
}

/// An optional `YYYY-MM-DD` date (what `<input type=date>` submits).
pub fn validate_optional_date(value: &str) -> Result<(), String> {
    let v = value.trim();
    if v.is_empty() {
        return Ok(());
    }
    let parts: Vec<&str> = v.split('-').collect();
    let ok = parts.len() == 3
        && parts[0].len() == 4
        && parts[1].len() == 2
        && parts[2].len() == 2
        && parts.iter().all(|p| p.chars().all(|c| c.is_ascii_digit()));
    if !ok {
        return Err("Enter the date as YYYY-MM-DD.".into());
    }
    let (y, m, d): (u32, u32, u32) = (
        parts[0].parse().unwrap_or(0),
        parts[1].parse().unwrap_or(0),
        parts[2].parse().unwrap_or(0),
    );
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => 0,
    };
    if !(2000..=2199).contains(&y) || d == 0 || d > days {
        return Err("That date does not exist.".into());
    }
    Ok(())
}
