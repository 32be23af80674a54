//! What an admin types: every validator of `app::model`, on single values
//! and on whole forms and messages (JSON, as the server functions and the
//! host API receive them).
use app::model::authority::{validate_authority, validate_tenant_segment, AuthorityPolicy};
use app::model::identifiers::{
    is_guid, normalize_address, validate_address, validate_application_id, validate_endpoint_path,
    validate_optional_date, validate_secret, validate_tenant_name,
};
use app::model::mail::{decoded_len, OutgoingMessage};
use app::model::scopes::{needs_whitespace_fix, normalize_scopes, validate_scopes};
use app::model::tenant_email::{Direction, TenantEmailInput};
use app::model::{admin, api_token, mail, tenant_email};
use base64::Engine as _;

fn policies() -> [AuthorityPolicy; 2] {
    [
        AuthorityPolicy::default(),
        AuthorityPolicy {
            extra_host: Some("127.0.0.1:4010".into()),
            ..AuthorityPolicy::default()
        },
    ]
}

/// A JSON object is a whole form or message; anything else is up to two
/// values separated by NUL, each checked by every single-value validator.
pub fn validators(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if text.starts_with('{') {
        forms(&text);
        return;
    }
    let mut parts = text.splitn(2, '\0');
    let first = parts.next().unwrap_or_default();
    let second = parts.next().unwrap_or_default();
    values(first, second);
    values(second, first);
}

fn values(s: &str, other: &str) {
    let _ = admin::validate_username(s);
    let _ = admin::validate_new_password(s, other);
    let _ = admin::validate_confirmation(s, other);
    let _ = api_token::validate_token_name(s);
    let _ = validate_tenant_segment(s);
    for policy in policies() {
        let _ = validate_authority(s, &policy);
    }
    if validate_application_id(s).is_ok() {
        assert!(is_guid(s.trim()), "{s:?} passed as an application id");
    }
    if validate_address(s).is_ok() {
        let stored = normalize_address(s);
        assert!(
            validate_address(&stored).is_ok(),
            "{s:?} stored as {stored:?}"
        );
        assert_eq!(normalize_address(&stored), stored);
    }
    let _ = validate_tenant_name(s);
    let _ = validate_secret(s, true);
    let _ = validate_secret(s, false);
    let _ = validate_endpoint_path(s);
    let _ = validate_optional_date(s);
    let normal = normalize_scopes(s);
    assert_eq!(normalize_scopes(&normal), normal);
    assert!(!needs_whitespace_fix(&normal));
    for direction in Direction::ALL {
        if validate_scopes(s, *direction).is_ok() {
            assert_eq!(normal, s, "{s:?} passed with whitespace to fix");
        }
    }
    if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(s.trim()) {
        assert_eq!(decoded_len(s), Some(bytes.len()), "{s:?}");
    }
}

fn forms(text: &str) {
    if let Ok(input) = serde_json::from_str::<TenantEmailInput>(text) {
        for policy in policies() {
            for required in [true, false] {
                let _ = tenant_email::validate(&input, required, &policy);
                let _ = tenant_email::validate(&input.trimmed(), required, &policy);
            }
        }
    }
    if let Ok(message) = serde_json::from_str::<OutgoingMessage>(text) {
        let _ = mail::validate(&message);
    }
}
