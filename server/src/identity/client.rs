//! What every call to Microsoft's identity platform shares: the HTTP client
//! (redirects off, timeouts set), the `oauth2` client type speaking Entra's
//! token responses and errors, and endpoint URLs.
use super::errors::OAuthError;
use oauth2::basic::{
    BasicRevocationErrorResponse, BasicTokenIntrospectionResponse, BasicTokenType,
};
use oauth2::{EndpointNotSet, ExtraTokenFields, StandardRevocableToken, StandardTokenResponse};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// `<authority><path>` with exactly one slash between them.
pub fn join_endpoint(authority: &str, path: &str) -> String {
    format!(
        "{}/{}",
        authority.trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

#[derive(Debug, thiserror::Error)]
#[error("cannot build the HTTP client for Microsoft: {0}")]
pub struct BuildError(#[from] reqwest::Error);

/// The client for every call to Microsoft's identity platform and `/me`.
pub fn http() -> Result<reqwest::Client, BuildError> {
    Ok(reqwest::Client::builder()
        // RFC 9700 §4.11: never follow redirects from the token endpoint.
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        .user_agent(concat!("tenant-mail/", env!("CARGO_PKG_VERSION")))
        .build()?)
}

/// The `id_token` beside the standard fields (OpenID Connect Core §3.1.3.3).
#[derive(Clone, Deserialize, Serialize)]
pub struct IdTokenField {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

impl std::fmt::Debug for IdTokenField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdTokenField(<redacted>)")
    }
}

impl ExtraTokenFields for IdTokenField {}

/// Entra's token error body: RFC 6749 §5.2 plus `error_codes` and `suberror`.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct EntraTokenError {
    pub error: String,
    #[serde(default)]
    pub error_description: Option<String>,
    #[serde(default)]
    pub error_codes: Vec<u64>,
    #[serde(default)]
    pub suberror: Option<String>,
    #[serde(default)]
    pub error_uri: Option<String>,
}

impl std::fmt::Display for EntraTokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.error)
    }
}

impl oauth2::ErrorResponse for EntraTokenError {}

impl From<EntraTokenError> for OAuthError {
    fn from(e: EntraTokenError) -> Self {
        OAuthError {
            error: e.error,
            description: e.error_description,
            codes: e.error_codes,
            suberror: e.suberror,
        }
    }
}

pub type EntraTokenResponse = StandardTokenResponse<IdTokenField, BasicTokenType>;

/// An `oauth2` client speaking Entra's token responses and errors.
pub type EntraClient<HasAuthUrl = EndpointNotSet, HasTokenUrl = EndpointNotSet> = oauth2::Client<
    EntraTokenError,
    EntraTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    HasAuthUrl,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    HasTokenUrl,
>;
