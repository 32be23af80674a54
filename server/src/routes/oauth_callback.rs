//! The browser side of connecting a mailbox:
//! - `POST /core/oauth2/begin/{tenant_id}/{email_id}` (form field
//!   `different_account=1` optional) → 303 to Microsoft, with the flow cookie;
//! - `GET /core/oauth2/validated` → 303 back to the tenant email with
//!   `?connected=1`, or a small page that says what went wrong and what to do.
use crate::db::audit::Event;
use crate::identity::callback::{self, Outcome};
use crate::identity::{
    admin_consent, begin, BeginOptions, Failure, Identity, COOKIE_PATH, HOST_COOKIE_PATH,
};
use crate::web_security::{csrf, CspNonce};
use app::port::Actor;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use std::sync::Arc;

pub const BEGIN_PATH: &str = "/core/oauth2/begin/{tenant_id}/{email_id}";

/// What the OAuth routes need; built once at start-up.
#[derive(Clone, Debug)]
pub struct OAuthState {
    pub identity: Arc<Identity>,
}

/// The two routes, ready to merge into a router of any state type.
pub fn routes<S: Clone + Send + Sync + 'static>(state: OAuthState) -> Router<S> {
    Router::new()
        .route(crate::config::CALLBACK_PATH, get(validated))
        .route(BEGIN_PATH, post(begin_flow))
        .with_state(state)
}

/// Path of the tenant email page in the admin UI.
pub fn email_page(tenant_id: &str, email_id: &str) -> String {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!("/admin/tenants/{}/emails/{}", enc(tenant_id), enc(email_id))
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

fn harden(headers: &mut HeaderMap) {
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // Content-Security-Policy comes from the web-security layer, with the
    // nonce this page's <style> carries.
}

fn cookie(identity: &Identity, name: &str, value: &str, max_age: i64) -> Option<HeaderValue> {
    let (path, secure) = if identity.secure_cookies() {
        (HOST_COOKIE_PATH, "; Secure")
    } else {
        (COOKIE_PATH, "")
    };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}"
    ))
    .ok()
}

/// The failure page: what happened, what to do, and a link back. `nonce` is
/// the response's CSP nonce (the page's only inline style needs it).
pub fn failure_page(
    failure: &Failure,
    back: Option<&(String, String)>,
    admin_consent: Option<&str>,
    nonce: Option<&CspNonce>,
) -> Response {
    let consent = admin_consent
        .map(|url| format!(
            "<p><a id=\"admin-consent\" href=\"{}\" rel=\"noreferrer\">Grant admin consent for your organisation</a> — a tenant administrator signs in at Microsoft and approves this application's permissions once, for every mailbox of the organisation.</p>",
            escape(url)
        ))
        .unwrap_or_default();
    let status = StatusCode::from_u16(failure.status()).unwrap_or(StatusCode::BAD_REQUEST);
    page(
        status,
        failure.title(),
        &failure.explanation(),
        &consent,
        back,
        nonce,
    )
}

/// A small self-contained page (the OAuth routes render outside Leptos).
fn page(
    status: StatusCode,
    title: &str,
    text: &str,
    extra_html: &str,
    back: Option<&(String, String)>,
    nonce: Option<&CspNonce>,
) -> Response {
    let link = match back {
        Some((t, e)) => email_page(t, e),
        None => "/admin/tenants".to_string(),
    };
    let link_text = if back.is_some() {
        "Back to the Tenant Email"
    } else {
        "Back to the tenants"
    };
    let body = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title} — Tenant Mail</title>\
<style{nonce}>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;line-height:1.5}}</style></head>\
<body><main><h1>{title}</h1><p id=\"explanation\" role=\"alert\">{text}</p>{extra_html}<p><a id=\"back\" href=\"{link}\">{link_text}</a></p></main></body></html>\n",
        title = escape(title),
        text = escape(text),
        link = escape(&link),
        nonce = nonce
            .map(|n| format!(" nonce=\"{}\"", escape(n.as_str())))
            .unwrap_or_default(),
    );
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    harden(response.headers_mut());
    response
}

/// Back from Microsoft's admin-consent page: says what Microsoft answered
/// (nothing is stored; the returned tenant is not trusted) and audits it.
async fn consent_answered(
    identity: &Identity,
    actor: &Actor,
    answer: &admin_consent::Answer,
    nonce: Option<&CspNonce>,
) -> Response {
    let (status, title, text, event) = match answer {
        admin_consent::Answer::Granted => (
            StatusCode::OK,
            "Admin consent granted",
            "Microsoft reports that an administrator approved this application's permissions for the organisation. Go back to the Tenant Email and click Authenticate again.".to_string(),
            Event::new("connection.admin_consent"),
        ),
        admin_consent::Answer::Refused { error, description } => {
            let said = description.as_deref().unwrap_or(error.as_str());
            (
                StatusCode::FORBIDDEN,
                "Admin consent was not granted",
                format!("Microsoft did not record admin consent ({error}: {said}). Only a tenant administrator (Global, Application or Cloud Application Administrator) can grant it."),
                Event::new("connection.admin_consent").failed().detail(format!("{error}: {said}")),
            )
        }
    };
    identity
        .store
        .audit()
        .record_best_effort(actor, event)
        .await;
    page(status, title, &text, "", None, nonce)
}

fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    harden(response.headers_mut());
    response
}

fn cookie_header(headers: &HeaderMap) -> Option<String> {
    let joined = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join("; ");
    (!joined.is_empty()).then_some(joined)
}

/// The nonce the web-security layer chose for this response, if it runs.
type Nonce = Option<Extension<CspNonce>>;

async fn validated(
    State(state): State<OAuthState>,
    Extension(actor): Extension<Actor>,
    nonce: Nonce,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let identity = &state.identity;
    let cookies = cookie_header(&headers);
    // Back from Microsoft's admin-consent page rather than from a sign-in.
    if let Some(answer) = admin_consent::answer(uri.query()) {
        return consent_answered(identity, &actor, &answer, nonce.as_ref().map(|n| &n.0)).await;
    }
    let Outcome {
        result,
        back,
        clear_cookie,
        admin_consent,
    } = callback::callback(identity, uri.query(), cookies.as_deref(), &actor).await;
    let event = match (&result, &back) {
        (Ok(c), _) => Event::new("connection.authentication_completed").target(
            "tenant_email",
            &c.tenant_email_id,
            &c.upn,
        ),
        (Err(f), Some((_, email_id))) => Event::new("connection.authentication_failed")
            .failed()
            .target("tenant_email", email_id, "")
            .detail(format!("{}: {}", f.title(), f.explanation())),
        (Err(f), None) => Event::new("connection.authentication_failed")
            .failed()
            .detail(format!("{}: {}", f.title(), f.explanation())),
    };
    identity
        .store
        .audit()
        .record_best_effort(&actor, event)
        .await;
    let mut response = match &result {
        Ok(c) => see_other(&format!(
            "{}?connected=1",
            email_page(&c.tenant_id, &c.tenant_email_id)
        )),
        Err(f) => failure_page(
            f,
            back.as_ref(),
            admin_consent.as_deref(),
            nonce.as_ref().map(|n| &n.0),
        ),
    };
    if let Some(v) = clear_cookie.and_then(|name| cookie(identity, &name, "", 0)) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

async fn begin_flow(
    State(state): State<OAuthState>,
    Extension(actor): Extension<Actor>,
    nonce: Nonce,
    Path((tenant_id, email_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let identity = &state.identity;
    let back = (tenant_id.clone(), email_id.clone());
    let nonce = nonce.as_ref().map(|n| &n.0);
    // The router's CSRF layer already refuses cross-site posts; checked here
    // too (same rule) so these routes are safe wherever they are mounted.
    if !csrf::is_same_origin(&identity.public_origin(), &headers) {
        return failure_page(
            &Failure::NotConnectable(format!(
                "This request did not come from Tenant Mail's own pages. Open Tenant Mail at {} and click Authenticate there.",
                identity.public_url
            )),
            Some(&back),
            None,
            nonce,
        );
    }
    let allow_new_account = url::form_urlencoded::parse(&body).any(|(k, v)| {
        k == "different_account" && matches!(v.as_ref(), "1" | "true" | "on" | "yes")
    });
    let result = begin::begin(
        identity,
        actor.session_key.as_deref(),
        &tenant_id,
        &email_id,
        BeginOptions { allow_new_account },
    )
    .await;
    let event = match &result {
        Ok(begun) => Event::new("connection.authentication_started")
            .target("tenant_email", &email_id, &begun.address)
            .detail(if allow_new_account {
                "a different account allowed"
            } else {
                "the connected account (or a first connection)"
            }),
        Err(f) => Event::new("connection.authentication_failed")
            .failed()
            .target("tenant_email", &email_id, "")
            .detail(format!("{}: {}", f.title(), f.explanation())),
    };
    identity
        .store
        .audit()
        .record_best_effort(&actor, event)
        .await;
    match result {
        Ok(begun) => {
            let mut response = see_other(&begun.authorize_url);
            if let Some(v) = cookie(
                identity,
                &begun.cookie_name,
                &begun.cookie_value,
                begun.max_age_seconds,
            ) {
                response.headers_mut().append(header::SET_COOKIE, v);
            }
            response
        }
        Err(f) => failure_page(&f, Some(&back), None, nonce),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_html() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
