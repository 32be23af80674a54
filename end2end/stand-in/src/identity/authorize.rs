//! `GET /{tenant}/oauth2/v2.0/authorize` and the sign-in pages' form posts.

use std::collections::HashMap;

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;

use super::{pages, scopes, Authority};
use crate::errors::{aadsts, EntraError, RequestCtx};
use crate::model::User;
use crate::state::{random_token, AuthCode, PendingAuthorize, Shared, State as Store};

type Params = HashMap<String, String>;

/// First value of each parameter.
fn params(pairs: Vec<(String, String)>) -> Params {
    let mut map = HashMap::new();
    for (k, v) in pairs {
        map.entry(k).or_insert(v);
    }
    map
}

fn page_error(error: &EntraError) -> Response {
    let ctx = RequestCtx::current();
    pages::error_page(
        StatusCode::BAD_REQUEST,
        &format!("AADSTS{}", error.code),
        &format!(
            "{}\r\nTrace ID: {}\r\nCorrelation ID: {}",
            error.message, ctx.request_id, ctx.client_request_id
        ),
    )
}

/// `302` to `uri` with `pairs` appended to its query.
pub fn redirect(uri: &str, pairs: &[(&str, &str)]) -> Response {
    let query = serde_urlencoded::to_string(pairs).unwrap_or_default();
    let separator = if uri.contains('?') { '&' } else { '?' };
    let location = if query.is_empty() {
        uri.to_owned()
    } else {
        format!("{uri}{separator}{query}")
    };
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}

fn error_redirect(
    pending: &PendingAuthorize,
    error: &EntraError,
    subcode: Option<&str>,
) -> Response {
    let ctx = RequestCtx::current();
    let description = error.description(&ctx);
    let uri = error.error_uri(&ctx);
    let mut pairs: Vec<(&str, &str)> = vec![("error", error.error)];
    if let Some(sub) = subcode {
        pairs.push(("error_subcode", sub));
    }
    pairs.push(("error_description", &description));
    pairs.push(("error_uri", &uri));
    if let Some(state) = &pending.state {
        pairs.push(("state", state));
    }
    redirect(&pending.redirect_uri, &pairs)
}

pub async fn authorize(
    State(shared): State<Shared>,
    Path(tenant): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query.as_deref().unwrap_or_default()).unwrap_or_default();
    let p = params(pairs);
    let mut store = shared.lock();
    let Some(authority) = Authority::resolve(&store, &tenant) else {
        return page_error(&aadsts::tenant_not_found(&tenant));
    };
    let Some(client_id) = p.get("client_id").filter(|c| !c.is_empty()) else {
        return page_error(&aadsts::missing_parameter("client_id"));
    };
    let Some(app) = store.app(client_id).cloned() else {
        return page_error(&aadsts::unknown_client(client_id, &tenant));
    };
    let Some(redirect_uri) = p.get("redirect_uri").filter(|r| !r.is_empty()) else {
        return page_error(&aadsts::missing_parameter("redirect_uri"));
    };
    if !app.redirect_uris.iter().any(|r| r == redirect_uri) {
        return page_error(&EntraError::bad(
            "invalid_request",
            50_011,
            format!(
                "The redirect URI '{redirect_uri}' specified in the request does not match the redirect URIs configured for the application '{}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this.",
                app.client_id
            ),
        ));
    }
    let mut pending = PendingAuthorize {
        tenant_segment: tenant.clone(),
        client_id: app.client_id.clone(),
        redirect_uri: redirect_uri.clone(),
        scopes: Vec::new(),
        state: p.get("state").cloned(),
        nonce: p.get("nonce").cloned(),
        code_challenge: p.get("code_challenge").cloned(),
        code_challenge_method: p.get("code_challenge_method").cloned(),
        login_hint: p.get("login_hint").filter(|h| !h.is_empty()).cloned(),
        prompt: p.get("prompt").map(|s| s.to_ascii_lowercase()),
        oid: None,
    };
    // From here on errors go back to the app.
    match p.get("response_type").map(String::as_str) {
        None | Some("") => {
            return error_redirect(&pending, &aadsts::missing_parameter("response_type"), None)
        }
        Some("code") => {}
        Some(other) => {
            let e = EntraError::bad(
                "unsupported_response_type",
                700_054,
                format!("response_type '{other}' is not enabled for the application."),
            );
            return error_redirect(&pending, &e, None);
        }
    }
    match p.get("scope").map(|s| scopes::parse(s)) {
        None => return error_redirect(&pending, &aadsts::missing_parameter("scope"), None),
        Some(Err(e)) => return error_redirect(&pending, &e, None),
        Some(Ok(s)) => pending.scopes = s,
    }
    match (
        &pending.code_challenge,
        pending.code_challenge_method.as_deref(),
    ) {
        (Some(_), None) => pending.code_challenge_method = Some("plain".to_owned()),
        (Some(_), Some("S256" | "plain")) | (None, None) => {}
        _ => {
            let e = EntraError::bad(
                "invalid_request",
                9_002_313,
                "Invalid request. Request is malformed or invalid. The code_challenge_method is not supported.",
            );
            return error_redirect(&pending, &e, None);
        }
    }
    if p.get("response_mode").is_some_and(|m| m != "query") {
        let e = EntraError::bad(
            "invalid_request",
            9_002_313,
            "Invalid request. The stand-in only implements response_mode=query.",
        );
        return error_redirect(&pending, &e, None);
    }
    start(&shared, &mut store, &authority, pending)
}

/// Decides what the browser sees first.
fn start(
    shared: &Shared,
    store: &mut Store,
    authority: &Authority,
    pending: PendingAuthorize,
) -> Response {
    let signed_in: Vec<User> = store
        .signed_in
        .iter()
        .filter_map(|oid| store.users.get(oid).cloned())
        .collect();
    let hinted: Option<User> = pending.login_hint.as_deref().and_then(|hint| {
        signed_in
            .iter()
            .find(|u| {
                u.upn.eq_ignore_ascii_case(hint)
                    || u.mail
                        .as_deref()
                        .is_some_and(|m| m.eq_ignore_ascii_case(hint))
            })
            .cloned()
    });
    let req = random_token("req");
    let tenant = pending.tenant_segment.clone();
    let hint = pending.login_hint.clone();
    match pending.prompt.as_deref() {
        Some("none") => {
            let candidate = match (&pending.login_hint, hinted, signed_in.len()) {
                (Some(_), Some(user), _) => Ok(user),
                (None, _, 1) => signed_in.first().cloned().ok_or(0),
                (_, _, 0) | (Some(_), None, _) => Err(0),
                _ => Err(2),
            };
            match candidate {
                Ok(user) => {
                    if !authority.admits(&user) {
                        let e = EntraError::bad("interaction_required", 16_000, "Either multiple user identities are available for the current request or selected account is not supported for the scenario.");
                        return error_redirect(&pending, &e, None);
                    }
                    let Some(app) = store.app(&pending.client_id).cloned() else {
                        return page_error(&aadsts::unknown_client(&pending.client_id, &tenant));
                    };
                    let wanted = scopes::graph(&pending.scopes, &app);
                    if !wanted.is_subset(&store.consented(&app.client_id, &user)) {
                        let e = EntraError::bad("consent_required", 65_001, format!("The user or administrator has not consented to use the application with ID '{}' named '{}'. Send an interactive authorization request for this user and resource.", app.client_id, app.display_name));
                        return error_redirect(&pending, &e, None);
                    }
                    issue_code(shared, store, pending, &user)
                }
                Err(0) => {
                    let e = EntraError::bad(
                        "login_required",
                        50_058,
                        "A silent sign-in request was sent but no user is signed in.",
                    );
                    error_redirect(&pending, &e, None)
                }
                Err(_) => {
                    let e = EntraError::bad("interaction_required", 16_000, "Either multiple user identities are available for the current request or selected account is not supported for the scenario.");
                    error_redirect(&pending, &e, None)
                }
            }
        }
        Some("login") => {
            store.pending.insert(req.clone(), pending);
            pages::sign_in(&tenant, &req, hint.as_deref(), None)
        }
        Some("select_account") => {
            store.pending.insert(req.clone(), pending);
            pages::picker(
                &tenant,
                &req,
                &ordered(signed_in, hint.as_deref()),
                hint.as_deref(),
            )
        }
        _ => {
            if hint.is_some() {
                return match hinted {
                    Some(user) => chosen(shared, store, authority, &req, pending, &user),
                    None => {
                        store.pending.insert(req.clone(), pending);
                        pages::sign_in(&tenant, &req, hint.as_deref(), None)
                    }
                };
            }
            match signed_in.as_slice() {
                [only] => {
                    let only = only.clone();
                    chosen(shared, store, authority, &req, pending, &only)
                }
                [] => {
                    store.pending.insert(req.clone(), pending);
                    pages::sign_in(&tenant, &req, None, None)
                }
                _ => {
                    store.pending.insert(req.clone(), pending);
                    pages::picker(&tenant, &req, &signed_in, None)
                }
            }
        }
    }
}

/// The hinted account first.
fn ordered(mut users: Vec<User>, hint: Option<&str>) -> Vec<User> {
    if let Some(hint) = hint {
        users.sort_by_key(|u| {
            !(u.upn.eq_ignore_ascii_case(hint)
                || u.mail
                    .as_deref()
                    .is_some_and(|m| m.eq_ignore_ascii_case(hint)))
        });
    }
    users
}

/// An account is known: check the tenant, then consent, then redirect with a code.
fn chosen(
    shared: &Shared,
    store: &mut Store,
    authority: &Authority,
    req: &str,
    mut pending: PendingAuthorize,
    user: &User,
) -> Response {
    if user.shared {
        // A shared mailbox's account is disabled for sign-in.
        store.pending.remove(req);
        return page_error(&EntraError::bad(
            "invalid_request",
            50_057,
            "The user account is disabled. The user object in Active Directory backing this account has been disabled.",
        ));
    }
    if !authority.admits(user) {
        store.pending.remove(req);
        return page_error(&EntraError::bad(
            "invalid_request",
            50_020,
            format!(
                "User account '{}' from identity provider 'https://sts.windows.net/{}/' does not exist in tenant '{}' and cannot access the application '{}' in that tenant.",
                user.upn, user.tenant_id, pending.tenant_segment, pending.client_id
            ),
        ));
    }
    if !store.signed_in.contains(&user.oid) {
        store.signed_in.push(user.oid.clone());
    }
    let Some(app) = store.app(&pending.client_id).cloned() else {
        return page_error(&aadsts::unknown_client(
            &pending.client_id,
            &pending.tenant_segment,
        ));
    };
    let wanted = scopes::graph(&pending.scopes, &app);
    let consented = store.consented(&app.client_id, user);
    if wanted.is_subset(&consented) && pending.prompt.as_deref() != Some("consent") {
        store.pending.remove(req);
        return issue_code(shared, store, pending, user);
    }
    pending.oid = Some(user.oid.clone());
    let tenant = pending.tenant_segment.clone();
    let listed: Vec<String> = wanted.iter().map(|s| scopes::canonical(s)).collect();
    store.pending.insert(req.to_owned(), pending);
    pages::consent(&tenant, req, &app.display_name, user, &listed)
}

fn issue_code(
    shared: &Shared,
    store: &mut Store,
    pending: PendingAuthorize,
    user: &User,
) -> Response {
    let code = random_token("M.C1_");
    store.codes.insert(
        code.clone(),
        AuthCode {
            client_id: pending.client_id.clone(),
            redirect_uri: pending.redirect_uri.clone(),
            scopes: pending.scopes.clone(),
            oid: user.oid.clone(),
            nonce: pending.nonce.clone(),
            code_challenge: pending.code_challenge.clone(),
            code_challenge_method: pending.code_challenge_method.clone(),
            issued_at: shared.now(),
            redeemed: false,
        },
    );
    if store.session_state.is_empty() {
        store.session_state = uuid::Uuid::new_v4().to_string();
    }
    let session_state = store.session_state.clone();
    let mut pairs: Vec<(&str, &str)> = vec![("code", &code)];
    if let Some(state) = &pending.state {
        pairs.push(("state", state));
    }
    pairs.push(("session_state", &session_state));
    redirect(&pending.redirect_uri, &pairs)
}

fn expired_request() -> Response {
    pages::error_page(
        StatusCode::BAD_REQUEST,
        "AADSTS90014",
        "This sign-in request is no longer valid. Go back to the application and start again.",
    )
}

/// Picker choice: an account, or `other` ("Use another account").
pub async fn select(
    State(shared): State<Shared>,
    Path(tenant): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let form = params(form);
    let req = form.get("req").cloned().unwrap_or_default();
    let mut store = shared.lock();
    let Some(pending) = store.pending.get(&req).cloned() else {
        return expired_request();
    };
    let Some(authority) = Authority::resolve(&store, &pending.tenant_segment) else {
        return page_error(&aadsts::tenant_not_found(&tenant));
    };
    match form.get("account").map(String::as_str) {
        Some("other") | None => pages::sign_in(&tenant, &req, pending.login_hint.as_deref(), None),
        Some(oid) => {
            let user = store
                .users
                .get(oid)
                .filter(|u| store.signed_in.contains(&u.oid))
                .cloned();
            match user {
                Some(user) => chosen(&shared, &mut store, &authority, &req, pending, &user),
                None => pages::sign_in(&tenant, &req, None, Some("That account is not signed in.")),
            }
        }
    }
}

/// Credentials form: signs the account in to the browser session.
pub async fn sign_in(
    State(shared): State<Shared>,
    Path(tenant): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let form = params(form);
    let req = form.get("req").cloned().unwrap_or_default();
    let login = form.get("login").cloned().unwrap_or_default();
    let password = form.get("password").cloned().unwrap_or_default();
    let mut store = shared.lock();
    let Some(pending) = store.pending.get(&req).cloned() else {
        return expired_request();
    };
    let Some(authority) = Authority::resolve(&store, &pending.tenant_segment) else {
        return page_error(&aadsts::tenant_not_found(&tenant));
    };
    let Some(user) = store.find_user(login.trim()).cloned() else {
        return pages::sign_in(
            &tenant,
            &req,
            Some(&login),
            Some("This username may be incorrect. Make sure you typed it correctly. Otherwise, contact your admin."),
        );
    };
    if user.password.as_deref().is_some_and(|p| p != password) {
        return pages::sign_in(
            &tenant,
            &req,
            Some(&login),
            Some("Your account or password is incorrect."),
        );
    }
    chosen(&shared, &mut store, &authority, &req, pending, &user)
}

/// Consent page: Accept grants consent and continues; Cancel returns `access_denied` (AADSTS65004).
pub async fn consent(
    State(shared): State<Shared>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let form = params(form);
    let req = form.get("req").cloned().unwrap_or_default();
    let mut store = shared.lock();
    let Some(pending) = store.pending.remove(&req) else {
        return expired_request();
    };
    let Some(user) = pending
        .oid
        .as_deref()
        .and_then(|oid| store.users.get(oid))
        .cloned()
    else {
        return expired_request();
    };
    if form.get("decision").map(String::as_str) != Some("accept") {
        let e = EntraError::bad(
            "access_denied",
            65_004,
            "User declined to consent to access the app.",
        );
        return error_redirect(&pending, &e, Some("cancel"));
    }
    let Some(app) = store.app(&pending.client_id).cloned() else {
        return expired_request();
    };
    let wanted = scopes::graph(&pending.scopes, &app);
    store
        .user_consents
        .entry((app.client_id.to_ascii_lowercase(), user.oid.clone()))
        .or_default()
        .extend(wanted);
    issue_code(&shared, &mut store, pending, &user)
}
