//! The Authentication Authority URL: `https://<Microsoft sign-in host>/<tenant>`.
//!
//! Checked strictly because the browser is sent there with a client id and the
//! server posts the client secret there: a typo must not leak either.

/// Microsoft Entra sign-in hosts: public cloud, US Government, China (21Vianet).
pub const MICROSOFT_SIGN_IN_HOSTS: &[&str] = &[
    "login.microsoftonline.com",
    "login.microsoftonline.us",
    "login.partner.microsoftonline.cn",
    "login.chinacloudapi.cn",
];

pub const PUBLIC_CLOUD_AUTHORITY: &str = "https://login.microsoftonline.com";
pub const WELL_KNOWN_TENANTS: &[&str] = &["common", "organizations", "consumers"];

use super::cloud::{Cloud, CloudStandIn};

/// Extra allowances given by server configuration (tests and demo mode point the
/// product at a local stand-in for Microsoft).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AuthorityPolicy {
    /// `host[:port]` also accepted as a sign-in host. Only when it is a loopback
    /// host may the scheme be `http`.
    pub extra_host: Option<String>,
    /// Stand-ins for the other clouds (tests run one per cloud), each on
    /// its own loopback `host:port`.
    #[serde(default)]
    pub cloud_stand_ins: Vec<CloudStandIn>,
}

impl AuthorityPolicy {
    /// The cloud a configured stand-in host plays (`extra_host` is the global one).
    fn stand_in_cloud(&self, host: &str) -> Option<Cloud> {
        if self
            .extra_host
            .as_deref()
            .is_some_and(|h| h.eq_ignore_ascii_case(host))
        {
            return Some(Cloud::Global);
        }
        self.cloud_stand_ins
            .iter()
            .find(|s| s.host.eq_ignore_ascii_case(host))
            .map(|s| s.cloud)
    }
}

fn is_loopback_host(host_port: &str) -> bool {
    let host = host_port.rsplit_once(':').map_or(host_port, |(h, _)| h);
    host == "127.0.0.1" || host == "localhost" || host == "[::1]"
}

/// Validates a tenant segment: GUID, verified domain, or a well-known alias.
pub fn validate_tenant_segment(segment: &str) -> Result<(), String> {
    let s = segment.trim();
    if s.is_empty() {
        return Err("Enter the Directory (tenant) ID, a domain, or common.".into());
    }
    if super::identifiers::is_guid(s)
        || WELL_KNOWN_TENANTS.contains(&s.to_ascii_lowercase().as_str())
        || super::identifiers::is_domain(&s.to_ascii_lowercase())
    {
        Ok(())
    } else {
        Err("A tenant is a GUID like 79c6ff55-b7e0-4517-bfd7-b4fffb6fee40, a domain like contoso.onmicrosoft.com, or common / organizations / consumers.".into())
    }
}

/// Builds the authority for a tenant on Microsoft's public cloud.
pub fn authority_for_tenant(tenant: &str) -> String {
    format!("{PUBLIC_CLOUD_AUTHORITY}/{}", tenant.trim())
}

pub fn validate_authority(value: &str, policy: &AuthorityPolicy) -> Result<(), String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(
            "Enter the authority, e.g. https://login.microsoftonline.com/<Tenant ID>.".into(),
        );
    }
    let lower = v.to_ascii_lowercase();
    let (scheme, rest) = match lower.split_once("://") {
        Some(parts) => parts,
        None => return Err("The authority must start with https://".into()),
    };
    let (host, path) = match rest.split_once('/') {
        Some((h, p)) => (h, p),
        None => (rest, ""),
    };
    let is_extra = policy.stand_in_cloud(host).is_some();
    let is_microsoft = MICROSOFT_SIGN_IN_HOSTS.contains(&host);
    if !is_microsoft && !is_extra {
        if host.contains('@') {
            return Err("The authority cannot contain a user name (@).".into());
        }
        return Err(format!(
            "{host} is not a Microsoft sign-in host. Use https://login.microsoftonline.com (or your national cloud's sign-in host)."
        ));
    }
    let http_allowed = is_extra && is_loopback_host(host);
    match scheme {
        "https" => {}
        "http" if http_allowed => {}
        _ => return Err("The authority must start with https://".into()),
    }
    if path.is_empty() {
        return Err("Add the tenant after the host: https://login.microsoftonline.com/<Tenant ID> or /common.".into());
    }
    if path.contains(['?', '#']) {
        return Err("The authority cannot contain a query (?) or fragment (#).".into());
    }
    if path.ends_with('/') {
        return Err("Remove the trailing / after the tenant.".into());
    }
    if path.contains('/') {
        return Err("The authority has exactly one path segment, the tenant. Put /oauth2/v2.0/… in the endpoint fields.".into());
    }
    // Keep the original case of the segment for the message, validate it as typed.
    let original_segment = &v[v.len() - path.len()..];
    validate_tenant_segment(original_segment)
}

/// The authority of a tenant email in `cloud`: a valid authority whose host
/// is that cloud's sign-in host (or the stand-in configured for it).
pub fn validate_authority_in(
    value: &str,
    cloud: Cloud,
    policy: &AuthorityPolicy,
) -> Result<(), String> {
    validate_authority(value, policy)?;
    let lower = value.trim().to_ascii_lowercase();
    let host = lower
        .split_once("://")
        .map(|(_, rest)| rest.split('/').next().unwrap_or(rest))
        .unwrap_or_default();
    let belongs_to = policy
        .stand_in_cloud(host)
        .or_else(|| Cloud::of_sign_in_host(host));
    let same = match (belongs_to, cloud) {
        // GCC High and DoD sign in at the same host.
        (Some(Cloud::UsGov), Cloud::UsDod) => true,
        (Some(other), _) => other == cloud,
        (None, _) => false,
    };
    if same {
        return Ok(());
    }
    let expected = cloud.sign_in_hosts()[0];
    Err(match belongs_to {
        Some(other) => format!(
            "{host} signs in to {}, but this mailbox is in {}: use https://{expected}/<Tenant ID> (or change the Cloud).",
            other.name(),
            cloud.name()
        ),
        None => format!(
            "This mailbox is in {}: its sign-in host is {expected}.",
            cloud.name()
        ),
    })
}

/// Application (client-credentials) access needs the tenant itself: the
/// `common`, `organizations` and `consumers` aliases cannot issue app-only
/// tokens (AADSTS9001023).
pub fn check_names_tenant(value: &str) -> Result<(), String> {
    let tenant = value
        .trim()
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default();
    if WELL_KNOWN_TENANTS.contains(&tenant.to_ascii_lowercase().as_str()) {
        return Err(format!(
            "Application access needs your tenant, not {tenant}: use the Directory (tenant) ID or a verified domain (Microsoft refuses app-only tokens for {tenant}, AADSTS9001023)."
        ));
    }
    Ok(())
}
