//! "Click to Authenticate": a flow row and the URL that sends the browser to Microsoft.
use super::errors::{internal, Failure};
use super::exchange::EntraClient;
use super::flow::verifier_binding;
use super::{
    cookie_name, discovery, flow, random_token, sha256_hex, Identity, FLOW_LIFETIME_SECONDS,
};
use crate::db::entities::{oauth_flow, tenant_email};
use app::model::scopes::normalize_scopes;
use app::model::{AccountType, TenantEmailInput};
use oauth2::{AuthUrl, ClientId, CsrfToken, PkceCodeChallenge, RedirectUrl, Scope};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

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

/// `<authority><path>` with exactly one slash between them.
pub fn join_endpoint(authority: &str, path: &str) -> String {
    format!(
        "{}/{}",
        authority.trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

fn as_input(m: &tenant_email::Model) -> TenantEmailInput {
    TenantEmailInput {
        account_type: m.account_type.clone(),
        address: m.address.clone(),
        direction: m.direction.clone(),
        application_id: m.application_id.clone(),
        client_secret: String::new(),
        secret_expires_on: m
            .secret_expires_on
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default(),
        authority_url: m.authority_url.clone(),
        authorization_endpoint: m.authorization_endpoint.clone(),
        token_endpoint: m.token_endpoint.clone(),
        scopes: m.scopes.clone(),
        receiving: crate::mail::inbox::settings::receiving_input(m),
    }
}

/// The saved settings must be valid before anyone is sent to Microsoft.
fn check_connectable(identity: &Identity, m: &tenant_email::Model) -> Result<(), Failure> {
    let uses_oauth = AccountType::from_code(&m.account_type)
        .map(|t| t.uses_oauth2())
        .unwrap_or(false);
    if !uses_oauth {
        return Err(Failure::NotConnectable(
            "This account type does not use OAuth2.".into(),
        ));
    }
    if m.client_secret.is_none() {
        return Err(Failure::NotConnectable(
            "Enter and save the client secret first.".into(),
        ));
    }
    let errors =
        app::model::tenant_email::validate(&as_input(m), false, &identity.authority_policy);
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
    let now = identity.clock.now();
    let email = tenant_email::Entity::find_by_id(email_id.to_string())
        .filter(tenant_email::Column::TenantId.eq(tenant_id))
        .one(&identity.db)
        .await
        .map_err(|e| internal("begin: read tenant email", e))?
        .ok_or(Failure::NotFound)?;
    check_connectable(identity, &email)?;
    let authority = email.authority_url.trim_end_matches('/').to_string();
    let discovered = discovery::discover(&identity.http, &authority).await?;

    let state = random_token(32);
    let state_hash = sha256_hex(&state);
    let nonce = random_token(32);
    let cookie_value = random_token(32);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256_len(32);
    let scopes = normalize_scopes(&email.scopes);
    let auth_url = join_endpoint(&authority, &email.authorization_endpoint);

    let sealed_verifier = identity
        .keys
        .seal(verifier.secret(), &verifier_binding(&state_hash))
        .map_err(|e| internal("begin: seal verifier", e))?;
    let row = oauth_flow::ActiveModel {
        state_hash: Set(state_hash.clone()),
        tenant_id: Set(email.tenant_id.clone()),
        tenant_email_id: Set(email.id.clone()),
        pkce_verifier: Set(sealed_verifier),
        nonce: Set(nonce.clone()),
        browser_binding: Set(sha256_hex(&cookie_value)),
        login_hint: Set(email.address.clone()),
        authority: Set(authority.clone()),
        authorization_endpoint: Set(email.authorization_endpoint.clone()),
        token_endpoint: Set(email.token_endpoint.clone()),
        client_id: Set(email.application_id.clone()),
        redirect_uri: Set(identity.redirect_uri.clone()),
        scopes: Set(scopes.clone()),
        iss_required: Set(discovered.iss_parameter_supported),
        issuer: Set(discovered.issuer),
        jwks_uri: Set(discovered.jwks_uri),
        allow_new_account: Set(options.allow_new_account),
        created_at: Set(now),
        expires_at: Set(now + chrono::Duration::seconds(FLOW_LIFETIME_SECONDS)),
        consumed_at: Set(None),
        session_key: Set(session_key.map(str::to_string)),
    };
    row.insert(&identity.db)
        .await
        .map_err(|e| internal("begin: insert oauth flow", e))?;
    flow::purge_old(&identity.db, now).await;

    let client = EntraClient::new(ClientId::new(email.application_id.clone()))
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
        .add_extra_param("login_hint", email.address.clone())
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
        address: email.address.clone(),
        cookie_name: cookie_name(&state_hash, identity.secure_cookies()),
        cookie_value,
        max_age_seconds: FLOW_LIFETIME_SECONDS,
    })
}
