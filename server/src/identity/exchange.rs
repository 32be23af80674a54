//! Code → tokens at the token endpoint snapshotted in the flow row, with the
//! `oauth2` crate: client secret in the body, PKCE verifier, redirects off.
use super::begin::join_endpoint;
use super::discovery::error_kind;
use super::errors::{internal, Failure, OAuthError};
use crate::db::entities::oauth_flow;
use oauth2::basic::{
    BasicRevocationErrorResponse, BasicTokenIntrospectionResponse, BasicTokenType,
};
use oauth2::{
    AuthType, AuthorizationCode, ClientId, ClientSecret, EndpointNotSet, ExtraTokenFields,
    PkceCodeVerifier, RedirectUrl, RequestTokenError, StandardRevocableToken,
    StandardTokenResponse, TokenResponse as _, TokenUrl,
};
use serde::{Deserialize, Serialize};

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

/// What the token endpoint gave; `Debug` shows no token.
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub id_token: Option<String>,
    pub expires_in_seconds: Option<u64>,
    pub scope: Option<String>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("has_refresh_token", &self.refresh_token.is_some())
            .field("has_id_token", &self.id_token.is_some())
            .field("expires_in_seconds", &self.expires_in_seconds)
            .finish_non_exhaustive()
    }
}

pub async fn redeem_code(
    http: &reqwest::Client,
    flow: &oauth_flow::Model,
    client_secret: &str,
    code: &str,
    verifier: String,
) -> Result<Tokens, Failure> {
    let token_url = join_endpoint(&flow.authority, &flow.token_endpoint);
    let client = EntraClient::new(ClientId::new(flow.client_id.clone()))
        .set_client_secret(ClientSecret::new(client_secret.to_string()))
        .set_auth_type(AuthType::RequestBody)
        .set_token_uri(
            TokenUrl::new(token_url.clone()).map_err(|e| internal("exchange: token URL", e))?,
        )
        .set_redirect_uri(
            RedirectUrl::new(flow.redirect_uri.clone())
                .map_err(|e| internal("exchange: redirect URI", e))?,
        );
    let result = client
        .exchange_code(AuthorizationCode::new(code.to_string()))
        .set_pkce_verifier(PkceCodeVerifier::new(verifier))
        .request_async(http)
        .await;
    match result {
        Ok(response) => Ok(Tokens {
            access_token: response.access_token().secret().clone(),
            refresh_token: response.refresh_token().map(|t| t.secret().clone()),
            id_token: response.extra_fields().id_token.clone(),
            expires_in_seconds: response.expires_in().map(|d| d.as_secs()),
            scope: response
                .scopes()
                .map(|s| s.iter().map(|x| x.as_str()).collect::<Vec<_>>().join(" ")),
        }),
        Err(RequestTokenError::ServerResponse(e)) => {
            let e: OAuthError = e.into();
            tracing::warn!(
                tenant_email_id = %flow.tenant_email_id,
                error = %e.error,
                aadsts = ?e.aadsts(),
                "token endpoint refused the code"
            );
            Err(Failure::Token(e))
        }
        Err(RequestTokenError::Request(e)) => {
            let detail = match &e {
                oauth2::HttpClientError::Reqwest(inner) => error_kind(inner),
                _ => "request failed".to_string(),
            };
            tracing::warn!(tenant_email_id = %flow.tenant_email_id, %detail, "token request failed");
            Err(Failure::Unreachable(format!(
                "The token endpoint {token_url} could not be reached ({detail})."
            )))
        }
        Err(RequestTokenError::Parse(_, _)) | Err(RequestTokenError::Other(_)) => {
            // Deliberately not logging the body: it may hold tokens.
            tracing::warn!(tenant_email_id = %flow.tenant_email_id, "token endpoint answered something unusable");
            Err(Failure::Unreachable(format!(
                "The token endpoint {token_url} answered something that is not an OAuth token response (is it a redirect or an HTML page?)."
            )))
        }
    }
}
