//! "Click to Authenticate": a flow row and the URL that sends the browser to Microsoft.
use super::client::{join_endpoint, EntraClient};
use super::errors::{internal, Failure};
use super::{cookie_name, discovery, random_token, sha256_hex, Identity, FLOW_LIFETIME_SECONDS};
use crate::db::flows::Flow;
use crate::db::tenant_emails::TenantEmail;
use app::model::scopes::normalize_scopes;
use oauth2::{AuthUrl, ClientId, CsrfToken, PkceCodeChallenge, RedirectUrl, Scope};

/// Choices the admin made when clicking the button.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BeginOptions {
    /// "Connect a different account": the pinned `oid` may change this time.
    pub allow_new_account: bool,
}

/// Where to send the browser, and the cookie that binds the flow to it.
pub struct Begun {
    pub authorize_url: String,
    /// The mailbox address the flow is for (the `login_hint`).
    pub address: String,
    pub cookie_name: String,
    /// Random; only its SHA-256 is stored.
    pub cookie_value: String,
    pub max_age_seconds: i64,
}

impl std::fmt::Debug for Begun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Begun")
            .field("cookie_name", &self.cookie_name)
            .finish_non_exhaustive()
    }
}

/// The saved settings must be valid before anyone is sent to Microsoft.
fn check_connectable(identity: &Identity, m: &TenantEmail) -> Result<(), Failure> {
    if !m.settings.account_type.signs_in() {
        return Err(Failure::NotConnectable(
            "Application access does not sign in at Microsoft: use Check access.".into(),
        ));
    }
    if !m.has_secret() {
        return Err(Failure::NotConnectable(
            "Enter and save the client secret first.".into(),
        ));
    }
    // Rules may have tightened since it was saved.
    let errors = app::model::tenant_email::validate(
        &m.settings.to_input(),
        false,
        &identity.authority_policy,
    );
    if let Some((field, message)) = errors.0.iter().next() {
        return Err(Failure::NotConnectable(format!(
            "Fix the saved settings first ({field}: {message})"
        )));
    }
    Ok(())
}

/// `session_key` is the admin session starting the flow: the callback must
/// arrive in the same session (a flow cookie alone could be another admin's).
pub async fn begin(
    identity: &Identity,
    session_key: Option<&str>,
    tenant_id: &str,
    email_id: &str,
    options: BeginOptions,
) -> Result<Begun, Failure> {
    let now = identity.store.now();
    let email = identity
        .store
        .tenant_emails()
        .owned(tenant_id, email_id)
        .await?
        .ok_or(Failure::NotFound)?;
    check_connectable(identity, &email)?;
    let settings = &email.settings;
    let authority = settings.authority().to_string();
    let discovered = discovery::discover(&identity.http, &authority).await?;

    let state = random_token(32);
    let state_hash = sha256_hex(&state);
    let nonce = random_token(32);
    let cookie_value = random_token(32);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256_len(32);
    let scopes = normalize_scopes(&settings.scopes);
    let auth_url = join_endpoint(&authority, &settings.authorization_endpoint);

    let flow = Flow {
        state_hash: state_hash.clone(),
        tenant_id: email.tenant_id.clone(),
        tenant_email_id: email.id.clone(),
        nonce: nonce.clone(),
        browser_binding: sha256_hex(&cookie_value),
        session_key: session_key.map(str::to_string),
        login_hint: settings.signs_in_as().to_string(),
        authority: authority.clone(),
        authorization_endpoint: settings.authorization_endpoint.clone(),
        token_endpoint: settings.token_endpoint.clone(),
        client_id: settings.application_id.clone(),
        redirect_uri: identity.redirect_uri.clone(),
        scopes: scopes.clone(),
        issuer: discovered.issuer,
        jwks_uri: discovered.jwks_uri,
        iss_required: discovered.iss_parameter_supported,
        allow_new_account: options.allow_new_account,
        created_at: now,
        expires_at: now + chrono::Duration::seconds(FLOW_LIFETIME_SECONDS),
    };
    identity
        .store
        .flows()
        .start(&flow, verifier.secret())
        .await?;

    let client = EntraClient::new(ClientId::new(settings.application_id.clone()))
        .set_auth_uri(AuthUrl::new(auth_url).map_err(|e| internal("begin: authorize URL", e))?)
        .set_redirect_uri(
            RedirectUrl::new(identity.redirect_uri.clone())
                .map_err(|e| internal("begin: redirect URI", e))?,
        );
    let state_for_url = state.clone();
    let (url, _) = client
        .authorize_url(move || CsrfToken::new(state_for_url))
        .add_scopes(scopes.split(' ').map(|s| Scope::new(s.to_string())))
        .set_pkce_challenge(challenge)
        .add_extra_param("nonce", nonce)
        .add_extra_param("response_mode", "query")
        .add_extra_param("login_hint", settings.signs_in_as().to_string())
        .add_extra_param("prompt", "select_account")
        .url();
    tracing::info!(
        tenant_email_id = %email.id,
        authority = %authority,
        allow_new_account = options.allow_new_account,
        "oauth flow started"
    );
    Ok(Begun {
        authorize_url: url.to_string(),
        address: settings.address.clone(),
        cookie_name: cookie_name(&state_hash, identity.secure_cookies()),
        cookie_value,
        max_age_seconds: FLOW_LIFETIME_SECONDS,
    })
}
