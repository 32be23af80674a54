//! The one place that decides whether a request needs a signed-in admin.
//! Deny by default: only the paths listed in `is_public` pass without one, so
//! a new page or server function is protected without anyone remembering to.
//! Every request leaves with an `Actor` in its extensions (who, request id, IP)
//! for the server functions' guard and the audit log.
use super::AuthService;
use crate::web_security::client_ip::client_ip;
use app::model::ApiError;
use app::port::Actor;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use std::net::SocketAddr;
use std::sync::Arc;
use tower_sessions::Session;

/// Paths served without a signed-in admin: the sign-in and setup screens and
/// what they call, health checks, static assets, and the host-application
/// API under `/v1/`, which has its own bearer-token authentication (see
/// `routes::host_api`) and ignores the admin session, and Graph's change
/// notifications (checked by their `clientState`).
pub fn is_public(path: &str) -> bool {
    matches!(
        path,
        "/sign-in"
            | "/setup"
            | "/auth/sign-in"
            | "/auth/sign-out"
            | "/api/app_info"
            | "/api/setup_status"
            | "/api/complete_setup"
            | "/healthz"
            | "/readyz"
            | "/favicon.ico"
    ) || path.starts_with("/pkg/")
        || crate::config::is_host_api(path)
        || crate::config::is_graph_notifications(path)
}

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Public paths that never need to know who is asking: no session lookup.
/// `/v1/` is among them so an admin's session cookie sent along with a host
/// API request is not even read: it must grant nothing there.
fn needs_no_session(path: &str) -> bool {
    // /metrics checks its own bearer token.
    matches!(path, "/healthz" | "/readyz" | "/metrics" | "/favicon.ico")
        || path.starts_with("/pkg/")
        || crate::config::is_host_api(path)
        || crate::config::is_graph_notifications(path)
}

pub async fn gate(
    State(auth): State<Arc<AuthService>>,
    session: Session,
    mut request: Request,
    next: Next,
) -> Response {
    if needs_no_session(request.uri().path()) {
        return next.run(request).await;
    }
    let signed_in = auth.current(&session).await;
    let actor = Actor {
        admin_id: signed_in.as_ref().map(|s| s.admin_id.clone()),
        username: signed_in.map(|s| s.username).unwrap_or_default(),
        session_key: session.id().map(|id| super::session_key(&id)),
        request_id: request
            .headers()
            .get(REQUEST_ID_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.chars().take(64).collect()),
        ip: request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| client_ip(c.0.ip(), request.headers(), &auth.trusted_proxies).to_string()),
    };
    let path = request.uri().path().to_string();
    if !actor.is_admin() && !is_public(&path) {
        return refuse(&request);
    }
    // A signed-in admin has no business on the sign-in screen.
    if actor.is_admin() && path == "/sign-in" && request.method() == Method::GET {
        let next = next_param(request.uri().query());
        return Redirect::to(&super::redirect::safe_next(next.as_deref())).into_response();
    }
    request.extensions_mut().insert(actor);
    next.run(request).await
}

fn next_param(query: Option<&str>) -> Option<String> {
    url::form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == "next")
        .map(|(_, v)| v.into_owned())
}

/// Pages redirect to sign-in (and come back afterwards); API calls and
/// non-GET requests get 401 with a reason the UI can show.
fn refuse(request: &Request) -> Response {
    let is_page = matches!(*request.method(), Method::GET | Method::HEAD)
        && !request.uri().path().starts_with("/api/");
    if is_page {
        let back = request
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into());
        let target = format!(
            "/sign-in?{}",
            url::form_urlencoded::Serializer::new(String::new())
                .append_pair("next", &back)
                .finish()
        );
        return Redirect::to(&target).into_response();
    }
    let body = serde_json::to_string(&ApiError::Unauthorized(app::api::SIGN_IN_REQUIRED.into()))
        .unwrap_or_default();
    (
        StatusCode::UNAUTHORIZED,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}
