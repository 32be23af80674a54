//! The identity platform v2.0 endpoints, per tenant path (GUID, domain, `common`, `organizations`, `consumers`).

pub mod assertion;
pub mod authorize;
pub mod certificates;
pub mod jwt;
pub mod pages;
pub mod scopes;
pub mod token;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

use crate::errors::aadsts;
use crate::model::{Tenant, User, CONSUMER_TENANT_ID};
use crate::state::{Shared, State as Store};

/// Who may sign in through a tenant path.
#[derive(Clone, Debug)]
pub enum Authority {
    Tenant(Tenant),
    Common,
    Organizations,
    Consumers,
}

impl Authority {
    pub fn resolve(state: &Store, segment: &str) -> Option<Self> {
        match segment.to_ascii_lowercase().as_str() {
            "common" => Some(Self::Common),
            "organizations" => Some(Self::Organizations),
            "consumers" => Some(Self::Consumers),
            _ => state.tenant(segment).cloned().map(Self::Tenant),
        }
    }

    /// Whether `user` can sign in through this authority.
    pub fn admits(&self, user: &User) -> bool {
        match self {
            Self::Tenant(t) => t.id.eq_ignore_ascii_case(&user.tenant_id),
            Self::Common => true,
            Self::Organizations => !user.tenant_id.eq_ignore_ascii_case(CONSUMER_TENANT_ID),
            Self::Consumers => user.tenant_id.eq_ignore_ascii_case(CONSUMER_TENANT_ID),
        }
    }

    /// The `issuer` in discovery: a concrete tenant, or Entra's `{tenantid}` template.
    pub fn issuer(&self, base: &str) -> String {
        match self {
            Self::Tenant(t) => format!("{base}/{}/v2.0", t.id),
            Self::Consumers => format!("{base}/{CONSUMER_TENANT_ID}/v2.0"),
            Self::Common | Self::Organizations => format!("{base}/{{tenantid}}/v2.0"),
        }
    }
}

pub fn router() -> Router<Shared> {
    Router::new()
        .route(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            get(discovery),
        )
        .route("/{tenant}/discovery/v2.0/keys", get(keys))
        .route("/{tenant}/oauth2/v2.0/authorize", get(authorize::authorize))
        .route(
            "/{tenant}/oauth2/v2.0/authorize/select",
            post(authorize::select),
        )
        .route(
            "/{tenant}/oauth2/v2.0/authorize/signin",
            post(authorize::sign_in),
        )
        .route(
            "/{tenant}/oauth2/v2.0/authorize/consent",
            post(authorize::consent),
        )
        .route("/{tenant}/oauth2/v2.0/token", post(token::token))
        .route("/{tenant}/oauth2/v2.0/logout", get(logout))
        .route("/error", get(error_page))
}

async fn discovery(State(shared): State<Shared>, Path(tenant): Path<String>) -> Response {
    let authority = Authority::resolve(&shared.lock(), &tenant);
    let Some(authority) = authority else {
        return aadsts::tenant_not_found(&tenant).into_response();
    };
    let base = &shared.base;
    let host = base.trim_start_matches("http://");
    Json(json!({
        "token_endpoint": format!("{base}/{tenant}/oauth2/v2.0/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{base}/{tenant}/discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": authority.issuer(base),
        "request_uri_parameter_supported": false,
        "userinfo_endpoint": format!("{base}/oidc/userinfo"),
        "authorization_endpoint": format!("{base}/{tenant}/oauth2/v2.0/authorize"),
        "device_authorization_endpoint": format!("{base}/{tenant}/oauth2/v2.0/devicecode"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{base}/{tenant}/oauth2/v2.0/logout"),
        "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"],
        "tenant_region_scope": "EU",
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": host,
        "rbac_url": "https://pas.windows.net",
    }))
    .into_response()
}

async fn keys(State(shared): State<Shared>, Path(tenant): Path<String>) -> Response {
    let authority = Authority::resolve(&shared.lock(), &tenant);
    match authority {
        Some(authority) => Json(shared.key.jwks(&authority.issuer(&shared.base))).into_response(),
        None => aadsts::tenant_not_found(&tenant).into_response(),
    }
}

async fn error_page(
    axum::extract::Query(q): axum::extract::Query<Vec<(String, String)>>,
) -> Response {
    let code = q
        .iter()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    pages::error_page(
        axum::http::StatusCode::OK,
        &format!("AADSTS{code}"),
        "This is the stand-in's error lookup page.",
    )
}

/// `GET /{tenant}/oauth2/v2.0/logout`: signs every account out of the browser session, then
/// redirects to `post_logout_redirect_uri` when given.
async fn logout(
    State(shared): State<Shared>,
    axum::extract::Query(q): axum::extract::Query<Vec<(String, String)>>,
) -> Response {
    {
        let mut store = shared.lock();
        store.signed_in.clear();
        store.session_state.clear();
    }
    match q.iter().find(|(k, _)| k == "post_logout_redirect_uri") {
        Some((_, uri)) => authorize::redirect(uri, &[]),
        None => pages::error_page(
            axum::http::StatusCode::OK,
            "Signed out",
            "You signed out of your account. It's a good idea to close all browser windows.",
        ),
    }
}
