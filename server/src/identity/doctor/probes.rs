//! Requests that prove a configuration without a user: the authorize
//! endpoint's verdict on the redirect URI, and an app-only token request
//! (`client_credentials`) that proves the Application ID and secret.
use super::super::client::{join_endpoint, EntraTokenError};
use super::super::credential::ClientCredential;
use super::super::errors::OAuthError;
use crate::capped;
use chrono::{DateTime, Utc};

/// An error page is a few KB; more is not read.
const MAX_PAGE: usize = 256 * 1024;

/// What the authorize endpoint said about the redirect URI.
pub enum RedirectVerdict {
    /// No refusal: Microsoft went on to sign-in.
    Accepted,
    /// Refused with this AADSTS code (50011 mismatch, 700016 unknown app, …).
    Refused(u64),
    Unreachable(String),
}

/// `GET {authorize}?client_id&redirect_uri&response_type=code&scope=openid`:
/// Microsoft checks the app and the redirect URI before it shows anything,
/// and names the problem (AADSTSnnnn) on its error page.
pub async fn authorize(
    http: &reqwest::Client,
    authorize_url: &str,
    client_id: &str,
    redirect_uri: &str,
) -> RedirectVerdict {
    let answer = http
        .get(authorize_url)
        .query(&[
            ("client_id", client_id),
            ("redirect_uri", redirect_uri),
            ("response_type", "code"),
            ("scope", "openid"),
            ("state", "tenant-mail-doctor"),
            ("prompt", "select_account"),
        ])
        .send()
        .await;
    let response = match answer {
        Ok(r) => r,
        Err(e) => return RedirectVerdict::Unreachable(super::super::discovery::error_kind(&e)),
    };
    if response.status().is_redirection() {
        return RedirectVerdict::Accepted;
    }
    let body = capped::read(response, MAX_PAGE).await.unwrap_or_default();
    match page_code(&String::from_utf8_lossy(&body)) {
        Some(code) => RedirectVerdict::Refused(code),
        None => RedirectVerdict::Accepted,
    }
}

/// The AADSTS code an error page names, read as the flow reads one in an
/// error description.
fn page_code(text: &str) -> Option<u64> {
    OAuthError {
        description: Some(text.to_string()),
        ..OAuthError::default()
    }
    .aadsts()
}

/// How an app-only token request went, with Microsoft's clock.
pub struct CredentialsVerdict {
    pub result: Result<(), OAuthError>,
    pub server_time: Option<DateTime<Utc>>,
}

/// `POST {authority}/{token path}` with `grant_type=client_credentials` and
/// `scope={graph}/.default`. The token itself is dropped.
pub async fn client_credentials(
    http: &reqwest::Client,
    authority: &str,
    token_path: &str,
    client_id: &str,
    credential: &ClientCredential,
    graph_resource: &str,
    now: DateTime<Utc>,
) -> Result<CredentialsVerdict, String> {
    let scope = format!("{}/.default", graph_resource.trim_end_matches('/'));
    let token_url = join_endpoint(authority, token_path);
    let mut form: Vec<(&str, String)> = vec![
        ("grant_type", "client_credentials".into()),
        ("client_id", client_id.into()),
        ("scope", scope),
    ];
    for (name, value) in credential.form_fields(client_id, &token_url, now)? {
        form.push((name, value.to_string()));
    }
    let response = http
        .post(token_url)
        .form(&form)
        .send()
        .await
        .map_err(|e| super::super::discovery::error_kind(&e))?;
    let server_time = response
        .headers()
        .get(reqwest::header::DATE)
        .and_then(|d| d.to_str().ok())
        .and_then(|d| DateTime::parse_from_rfc2822(d).ok())
        .map(|d| d.to_utc());
    let ok = response.status().is_success();
    let body = capped::read(response, super::super::token_http::MAX_TOKEN_ANSWER)
        .await
        .map_err(|e| e.to_string())?;
    let result = if ok {
        Ok(())
    } else {
        match serde_json::from_slice::<EntraTokenError>(&body) {
            Ok(e) => Err(OAuthError::from(e)),
            Err(_) => Err(OAuthError {
                error: "unexpected answer".into(),
                ..OAuthError::default()
            }),
        }
    };
    Ok(CredentialsVerdict {
        result,
        server_time,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_the_code_on_an_error_page() {
        assert_eq!(
            super::page_code("<p>AADSTS50011: The redirect URI …</p>"),
            Some(50011)
        );
        assert_eq!(super::page_code("<p>Pick an account</p>"), None);
    }
}
