//! The authority's OpenID discovery document and its signing keys.
use super::errors::Failure;
use serde::Deserialize;

/// What the flow keeps from discovery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovered {
    /// May hold Entra's `{tenantid}` template (common / organizations).
    pub issuer: String,
    pub jwks_uri: String,
    /// RFC 9207: the server always sends `iss` on the authorization response.
    pub iss_parameter_supported: bool,
}

#[derive(Deserialize)]
struct Document {
    issuer: String,
    jwks_uri: String,
    #[serde(default)]
    authorization_response_iss_parameter_supported: bool,
}

/// `{authority}/v2.0/.well-known/openid-configuration`, Entra's v2.0 layout.
pub fn discovery_url(authority: &str) -> String {
    format!(
        "{}/v2.0/.well-known/openid-configuration",
        authority.trim_end_matches('/')
    )
}

const MAX_DOCUMENT: usize = 256 * 1024;

async fn get_json(http: &reqwest::Client, url: &str, what: &str) -> Result<Vec<u8>, Failure> {
    get_json_or_status(http, url, what)
        .await
        .map_err(|(_, f)| f)
}

/// Like `get_json`, also telling which HTTP status (if any) caused the failure.
async fn get_json_or_status(
    http: &reqwest::Client,
    url: &str,
    what: &str,
) -> Result<Vec<u8>, (Option<u16>, Failure)> {
    let unreachable = |detail: String| {
        tracing::warn!(%url, %detail, "{what} request failed");
        Failure::Unreachable(format!("The {what} at {url} could not be read ({detail})."))
    };
    let response = http
        .get(url)
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| (None, unreachable(error_kind(&e))))?;
    let status = response.status();
    if !status.is_success() {
        return Err((
            Some(status.as_u16()),
            unreachable(format!("HTTP {}", status.as_u16())),
        ));
    }
    crate::capped::read(response, MAX_DOCUMENT)
        .await
        .map_err(|e| {
            let detail = match e {
                crate::capped::ReadError::TooLarge { .. } => "response too large".into(),
                crate::capped::ReadError::Read(e) => error_kind(&e),
            };
            (None, unreachable(detail))
        })
}

/// A short description of a reqwest error without its URL's query.
pub(crate) fn error_kind(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "connection failed".into()
    } else if e.is_decode() || e.is_body() {
        "unreadable response".into()
    } else {
        "request failed".into()
    }
}

fn same_scheme_rules(authority: &str, uri: &str) -> bool {
    match (url::Url::parse(authority), url::Url::parse(uri)) {
        (Ok(a), Ok(u)) => match u.scheme() {
            "https" => true,
            // plain http only where the authority itself is plain http (the loopback stand-in)
            "http" => a.scheme() == "http",
            _ => false,
        },
        _ => false,
    }
}

/// The issuer and the key set must live on the authority's own host: a
/// discovery document pointing elsewhere would let that other host sign
/// id_tokens this flow accepts.
fn same_host(authority: &str, uri: &str) -> bool {
    match (url::Url::parse(authority), url::Url::parse(uri)) {
        (Ok(a), Ok(u)) => {
            a.host_str().is_some() && a.host_str() == u.host_str() && a.port() == u.port()
        }
        _ => false,
    }
}

/// Entra's v2.0 location first, then OpenID Connect Discovery's own
/// (`{issuer}/.well-known/openid-configuration`) for other providers — only
/// when the first location has no discovery document (a 4xx or something that
/// is not one). An outage (network error, 5xx) or a document pointing at
/// another host is an error, not a reason to look elsewhere.
pub async fn discover(http: &reqwest::Client, authority: &str) -> Result<Discovered, Failure> {
    match discover_at(http, authority, &discovery_url(authority)).await {
        Ok(d) => Ok(d),
        Err(Miss::Fatal(first)) => Err(first),
        Err(Miss::Absent(first)) => {
            let generic = format!(
                "{}/.well-known/openid-configuration",
                authority.trim_end_matches('/')
            );
            discover_at(http, authority, &generic)
                .await
                .map_err(|_| first)
        }
    }
}

/// Why a discovery location gave nothing.
enum Miss {
    /// No discovery document there: another location may have one.
    Absent(Failure),
    /// The provider is down or its document is unsafe: stop.
    Fatal(Failure),
}

async fn discover_at(
    http: &reqwest::Client,
    authority: &str,
    url: &str,
) -> Result<Discovered, Miss> {
    let url = url.to_string();
    let bytes = get_json_or_status(http, &url, "OpenID discovery document")
        .await
        .map_err(|(status, f)| match status {
            Some(400..=499) => Miss::Absent(f),
            _ => Miss::Fatal(f),
        })?;
    let doc: Document = serde_json::from_slice(&bytes).map_err(|_| {
        Miss::Absent(Failure::Unreachable(format!(
            "The OpenID discovery document at {url} is not valid JSON with issuer and jwks_uri."
        )))
    })?;
    let usable = !doc.issuer.is_empty()
        && same_scheme_rules(authority, &doc.jwks_uri)
        && same_host(authority, &doc.jwks_uri)
        && same_host(authority, &doc.issuer);
    if !usable {
        tracing::warn!(%url, issuer = %doc.issuer, jwks_uri = %doc.jwks_uri, "discovery document points away from the authority's host");
        return Err(Miss::Fatal(Failure::Unreachable(format!(
            "The OpenID discovery document at {url} has an issuer or jwks_uri that is not on the authority's host."
        ))));
    }
    Ok(Discovered {
        issuer: doc.issuer,
        jwks_uri: doc.jwks_uri,
        iss_parameter_supported: doc.authorization_response_iss_parameter_supported,
    })
}

/// One RSA signing key of the JWKS.
#[derive(Debug, Clone, Deserialize)]
pub struct Jwk {
    pub kty: String,
    #[serde(default)]
    pub kid: Option<String>,
    #[serde(default, rename = "use")]
    pub use_: Option<String>,
    #[serde(default)]
    pub alg: Option<String>,
    #[serde(default)]
    pub n: Option<String>,
    #[serde(default)]
    pub e: Option<String>,
    #[serde(default)]
    pub crv: Option<String>,
    #[serde(default)]
    pub x: Option<String>,
    #[serde(default)]
    pub y: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

pub async fn keys(http: &reqwest::Client, jwks_uri: &str) -> Result<Jwks, Failure> {
    let bytes = get_json(http, jwks_uri, "signing key set (JWKS)").await?;
    serde_json::from_slice(&bytes).map_err(|_| {
        Failure::Unreachable(format!(
            "The signing key set at {jwks_uri} is not a valid JWKS."
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::same_host;

    #[test]
    fn issuer_and_keys_must_be_on_the_authoritys_host() {
        let a = "https://login.microsoftonline.com/contoso.onmicrosoft.com";
        assert!(same_host(
            a,
            "https://login.microsoftonline.com/tid/discovery/v2.0/keys"
        ));
        assert!(same_host(
            a,
            "https://login.microsoftonline.com/{tenantid}/v2.0"
        ));
        assert!(!same_host(a, "https://evil.example/keys"));
        assert!(!same_host(
            a,
            "https://login.microsoftonline.com.evil.example/keys"
        ));
        assert!(!same_host(a, "not a url"));
        let local = "http://127.0.0.1:5999/common";
        assert!(same_host(local, "http://127.0.0.1:5999/x/keys"));
        assert!(!same_host(local, "http://127.0.0.1:6000/x/keys"));
    }
}
