//! One call to the token endpoint for a connected mailbox: the refresh-token
//! grant for a signed-in mailbox, the client-credentials grant (RFC 6749
//! §4.4) for an application mailbox, which has no refresh token. Transient
//! failures are retried with backoff; a refusal is returned as Microsoft gave it.
use super::super::client::{join_endpoint, EntraClient};
use super::super::credential::ClientCredential;
use super::super::errors::OAuthError;
use super::super::rotation::{self, Plan};
use super::super::token_http::{describe, TokenHttp};
use super::{Identity, RETRIES};
use crate::db::connections::Connection;
use crate::db::tenant_emails::TenantEmail;
use oauth2::{ClientId, RefreshToken, RequestTokenError, Scope, TokenResponse as _, TokenUrl};
use std::time::Duration;

pub(crate) enum Answer {
    Tokens {
        access: String,
        refresh: Option<String>,
        expires_in: Option<u64>,
    },
    Refused(OAuthError),
    Unreachable(String),
}

/// Which grant renews the mailbox's access token.
pub(crate) enum Grant {
    Refresh(String),
    /// `{graph resource}/.default`: every application permission granted.
    ClientCredentials(String),
}

/// Where and as whom: a connection's snapshot, or (before there is one) the
/// saved settings.
pub(crate) struct TokenEndpoint<'a> {
    pub email_id: &'a str,
    pub authority: &'a str,
    pub client_id: &'a str,
    pub path: &'a str,
}

impl<'a> TokenEndpoint<'a> {
    pub(super) fn of_connection(conn: &'a Connection, email: &'a TenantEmail) -> Self {
        Self {
            email_id: &conn.tenant_email_id,
            authority: &conn.authority,
            client_id: &conn.client_id,
            path: conn
                .token_endpoint
                .as_deref()
                .unwrap_or(&email.settings.token_endpoint),
        }
    }

    pub(crate) fn of_settings(email: &'a TenantEmail) -> Self {
        Self {
            email_id: &email.id,
            authority: email.settings.authority(),
            client_id: &email.settings.application_id,
            path: &email.settings.token_endpoint,
        }
    }
}

impl Identity {
    /// The call with each credential of `plan` in turn, as far as the plan
    /// says; a next secret that works is promoted (see `rotation`).
    pub(crate) async fn call_with_plan(
        &self,
        to: &TokenEndpoint<'_>,
        grant: &Grant,
        plan: &Plan,
    ) -> Answer {
        let mut refusals = Vec::new();
        for (index, attempt) in plan.attempts.iter().enumerate() {
            match self
                .call_token_endpoint(to, grant, &attempt.credential)
                .await
            {
                Answer::Refused(e) => {
                    rotation::log_refused(to.email_id, plan, index, &e);
                    let again = plan.try_another(index, &e);
                    refusals.push(e);
                    if !again {
                        break;
                    }
                }
                tokens @ Answer::Tokens { .. } => {
                    self.accepted(to.email_id, plan, index, refusals.first())
                        .await;
                    return tokens;
                }
                unreachable @ Answer::Unreachable(_) => return unreachable,
            }
        }
        match plan.reported(&refusals) {
            Some(e) => Answer::Refused(e.clone()),
            None => Answer::Unreachable("no credential to present".into()),
        }
    }

    pub(crate) async fn call_token_endpoint(
        &self,
        to: &TokenEndpoint<'_>,
        grant: &Grant,
        credential: &ClientCredential,
    ) -> Answer {
        let token_url = join_endpoint(to.authority, to.path);
        let Ok(url) = TokenUrl::new(token_url.clone()) else {
            return Answer::Unreachable(format!("the token endpoint {token_url} is not a URL"));
        };
        let mut client = EntraClient::new(ClientId::new(to.client_id.to_string()))
            .set_auth_type(oauth2::AuthType::RequestBody)
            .set_token_uri(url);
        if let Some(secret) = credential.secret() {
            client = client.set_client_secret(secret);
        }
        let mut delay = Duration::from_millis(250);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let http = TokenHttp(self.http.clone());
            // A new assertion for every attempt: each has its own `jti`.
            let assertion =
                match credential.assertion_fields(to.client_id, &token_url, self.store.now()) {
                    Ok(fields) => fields,
                    Err(e) => {
                        let id = crate::reference::logged("tokens: client assertion", e);
                        return Answer::Unreachable(format!(
                        "the certificate could not sign a client assertion (internal error {id})"
                    ));
                    }
                };
            let result = match grant {
                Grant::Refresh(token) => {
                    let refresh = RefreshToken::new(token.clone());
                    let mut request = client.exchange_refresh_token(&refresh);
                    for (name, value) in assertion {
                        request = request.add_extra_param(name, value);
                    }
                    request.request_async(&http).await
                }
                Grant::ClientCredentials(scope) => {
                    let mut request = client
                        .exchange_client_credentials()
                        .add_scope(Scope::new(scope.clone()));
                    for (name, value) in assertion {
                        request = request.add_extra_param(name, value);
                    }
                    request.request_async(&http).await
                }
            };
            let transient = match result {
                Ok(r) => {
                    return Answer::Tokens {
                        access: r.access_token().secret().clone(),
                        refresh: r.refresh_token().map(|t| t.secret().clone()),
                        expires_in: r.expires_in().map(|d| d.as_secs()),
                    }
                }
                Err(RequestTokenError::ServerResponse(e)) => {
                    let e: OAuthError = e.into();
                    if matches!(e.error.as_str(), "temporarily_unavailable" | "server_error") {
                        format!(
                            "{} ({})",
                            e.error,
                            e.aadsts().map(|c| format!("AADSTS{c}")).unwrap_or_default()
                        )
                    } else {
                        return Answer::Refused(e);
                    }
                }
                Err(RequestTokenError::Request(e)) => describe(&e),
                Err(_) => "unusable answer from the token endpoint".to_string(),
            };
            if attempt > RETRIES {
                return Answer::Unreachable(transient);
            }
            tracing::info!(tenant_email_id = %to.email_id, attempt, "token refresh failed transiently; retrying");
            tokio::time::sleep(delay).await;
            delay *= 2;
        }
    }
}
