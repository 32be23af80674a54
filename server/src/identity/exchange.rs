//! Code → tokens at the token endpoint snapshotted in the flow row, with the
//! `oauth2` crate: client secret in the body, PKCE verifier, redirects off.
use super::client::{join_endpoint, EntraClient};
use super::credential::ClientCredential;
use super::errors::{internal, Failure, OAuthError};
use super::token_http::{describe, TokenHttp};
use crate::db::flows::Flow;
use oauth2::{
    AuthType, AuthorizationCode, ClientId, PkceCodeVerifier, RedirectUrl, RequestTokenError,
    TokenResponse as _, TokenUrl,
};

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
    flow: &Flow,
    credential: &ClientCredential,
    code: &str,
    verifier: String,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Tokens, Failure> {
    let token_url = join_endpoint(&flow.authority, &flow.token_endpoint);
    let mut client = EntraClient::new(ClientId::new(flow.client_id.clone()))
        .set_auth_type(AuthType::RequestBody)
        .set_token_uri(
            TokenUrl::new(token_url.clone()).map_err(|e| internal("exchange: token URL", e))?,
        )
        .set_redirect_uri(
            RedirectUrl::new(flow.redirect_uri.clone())
                .map_err(|e| internal("exchange: redirect URI", e))?,
        );
    if let Some(secret) = credential.secret() {
        client = client.set_client_secret(secret);
    }
    let assertion = credential
        .assertion_fields(&flow.client_id, &token_url, now)
        .map_err(|e| internal("exchange: client assertion", e))?;
    let mut request = client
        .exchange_code(AuthorizationCode::new(code.to_string()))
        .set_pkce_verifier(PkceCodeVerifier::new(verifier));
    for (name, value) in assertion {
        request = request.add_extra_param(name, value);
    }
    let result = request.request_async(&TokenHttp(http.clone())).await;
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
            let detail = describe(&e);
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
