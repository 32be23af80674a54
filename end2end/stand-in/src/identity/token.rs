//! `POST /{tenant}/oauth2/v2.0/token`: authorization code, refresh token and client credentials
//! grants, the client authenticated by a secret or a client assertion (certificate).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::{assertion, scopes, Authority};
use crate::errors::{aadsts, EntraError};
use crate::ledger::TokenRequest;
use crate::model::{App, User};
use crate::state::{random_token, AccessGrant, RefreshGrant, Shared, State as Store, Void};
use crate::timefmt;

/// Access tokens live this long (seconds), as `expires_in`.
pub const ACCESS_TOKEN_SECONDS: i64 = 3599;
/// Authorization codes live this long (seconds).
pub const CODE_SECONDS: i64 = 600;
/// Refresh tokens die after this much inactivity (seconds).
pub const REFRESH_INACTIVITY_SECONDS: i64 = 90 * 86_400;

/// How the client proved who it is.
enum Credential {
    Secret(String),
    /// `client_assertion` (RFC 7523) with its `client_assertion_type`.
    Assertion {
        kind: Option<String>,
        jwt: String,
    },
    None,
}

struct ClientAuth {
    client_id: Option<String>,
    credential: Credential,
    /// `basic`, `body`, `assertion` or `none` (the ledger's `client_auth`).
    method: &'static str,
}

fn client_auth(headers: &HeaderMap, p: &HashMap<String, String>) -> ClientAuth {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Basic ")
                .or_else(|| v.strip_prefix("basic "))
        })
        .and_then(|b64| STANDARD.decode(b64.trim()).ok())
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|text| {
            let (id, secret) = text.split_once(':')?;
            let decode = |s: &str| {
                serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("v={s}"))
                    .ok()
                    .and_then(|mut v| v.pop())
                    .map(|(_, v)| v)
            };
            Some((decode(id)?, decode(secret)?))
        });
    if let Some((id, secret)) = basic {
        return ClientAuth {
            client_id: Some(id),
            credential: Credential::Secret(secret),
            method: "basic",
        };
    }
    if let Some(jwt) = p.get("client_assertion").filter(|a| !a.is_empty()) {
        // RFC 7523: the assertion's issuer names the client when `client_id` is left out.
        return ClientAuth {
            client_id: p
                .get("client_id")
                .cloned()
                .or_else(|| super::assertion::issuer(jwt)),
            credential: Credential::Assertion {
                kind: p.get("client_assertion_type").cloned(),
                jwt: jwt.clone(),
            },
            method: "assertion",
        };
    }
    ClientAuth {
        client_id: p.get("client_id").cloned(),
        credential: match p.get("client_secret").filter(|s| !s.is_empty()) {
            Some(secret) => Credential::Secret(secret.clone()),
            None => Credential::None,
        },
        method: if p.contains_key("client_secret") {
            "body"
        } else {
            "none"
        },
    }
}

pub async fn token(
    State(shared): State<Shared>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let mut p = HashMap::new();
    for (k, v) in pairs {
        p.entry(k).or_insert(v);
    }
    let auth = client_auth(&headers, &p);
    let mut store = shared.lock();
    let result = handle(&shared, &mut store, &tenant, &auth, &p);
    let (status, error, code) = match &result {
        Ok(_) => (200, None, None),
        Err(e) => (e.status.as_u16(), Some(e.error.to_owned()), Some(e.code)),
    };
    store.ledger.token_requests.push(TokenRequest {
        at: shared.now(),
        tenant,
        grant_type: p.get("grant_type").cloned(),
        client_id: auth.client_id.clone(),
        client_auth: auth.method.to_owned(),
        status,
        error,
        error_code: code,
    });
    drop(store);
    match result {
        Ok(body) => {
            let mut response = (StatusCode::OK, Json(body)).into_response();
            let h = response.headers_mut();
            h.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("no-store, no-cache"),
            );
            h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
            response
        }
        Err(e) => e.into_response(),
    }
}

fn handle(
    shared: &Shared,
    store: &mut Store,
    tenant: &str,
    auth: &ClientAuth,
    p: &HashMap<String, String>,
) -> Result<Value, EntraError> {
    let authority =
        Authority::resolve(store, tenant).ok_or_else(|| aadsts::tenant_not_found(tenant))?;
    let grant_type = p
        .get("grant_type")
        .filter(|g| !g.is_empty())
        .ok_or_else(|| aadsts::missing_parameter("grant_type"))?;
    if !matches!(
        grant_type.as_str(),
        "authorization_code" | "refresh_token" | "client_credentials"
    ) {
        return Err(aadsts::unsupported_grant_type(grant_type));
    }
    let client_id = auth
        .client_id
        .as_deref()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| aadsts::missing_parameter("client_id"))?;
    let app = store
        .app(client_id)
        .cloned()
        .ok_or_else(|| aadsts::unknown_client(client_id, tenant))?;
    let now = shared.now();
    let token_url = format!("{}/{tenant}/oauth2/v2.0/token", shared.base);
    authenticate(store, &app, &auth.credential, &token_url, now)?;
    if grant_type == "client_credentials" {
        return app_only(store, &authority, &app, p, now);
    }
    let (user, scopes, nonce) = if grant_type == "authorization_code" {
        redeem_code(store, &app, p, now)?
    } else {
        redeem_refresh(store, &app, p, now)?
    };
    if !authority.admits(&user) {
        return Err(aadsts::malformed());
    }
    let wanted = scopes::graph(&scopes, &app);
    if !wanted.is_subset(&store.consented(&app.client_id, &user)) {
        return Err(aadsts::consent_required(&app.client_id, &app.display_name));
    }
    issue(shared, store, &app, &user, &scopes, nonce.as_deref(), now)
}

/// `client_credentials` (app-only): a tenant path, the `/.default` scope of
/// one resource, an app of that tenant; an access token without refresh or
/// id token. Its `roles` are the application permissions granted to the app
/// at this moment (control `grant_app_permissions`), as in Entra's tokens.
fn app_only(
    store: &mut Store,
    authority: &Authority,
    app: &App,
    p: &HashMap<String, String>,
    now: i64,
) -> Result<Value, EntraError> {
    let Authority::Tenant(tenant) = authority else {
        return Err(aadsts::app_only_needs_tenant());
    };
    if !tenant.id.eq_ignore_ascii_case(&app.tenant_id) {
        return Err(aadsts::unknown_client(&app.client_id, &tenant.id));
    }
    let scope = p.get("scope").map(String::as_str).unwrap_or_default();
    if !scope.ends_with("/.default") || scope.contains(' ') {
        return Err(aadsts::default_scope_required(scope));
    }
    let access_token = random_token("eyJ0eXAiOiJKV1Qi.app.");
    store.access_tokens.insert(
        access_token.clone(),
        AccessGrant {
            client_id: app.client_id.clone(),
            oid: None,
            tenant_id: tenant.id.clone(),
            scopes: app
                .app_permissions
                .iter()
                .map(|p| p.to_ascii_lowercase())
                .collect(),
            issued_at: now,
            expires_at: now + ACCESS_TOKEN_SECONDS,
        },
    );
    Ok(json!({
        "token_type": "Bearer",
        "expires_in": ACCESS_TOKEN_SECONDS,
        "ext_expires_in": ACCESS_TOKEN_SECONDS,
        "access_token": access_token,
    }))
}

/// A secret (its value, unexpired) or a client assertion signed with a registered certificate.
fn authenticate(
    store: &mut Store,
    app: &App,
    credential: &Credential,
    token_url: &str,
    now: i64,
) -> Result<(), EntraError> {
    match credential {
        Credential::None => Err(aadsts::missing_secret()),
        Credential::Secret(secret) => match app.secrets.iter().find(|s| s.value == *secret) {
            None => Err(aadsts::wrong_secret(&app.client_id)),
            Some(s) if s.expires_at.is_some_and(|t| t <= now) => {
                Err(aadsts::secret_expired(&app.client_id))
            }
            Some(_) => Ok(()),
        },
        Credential::Assertion { kind, jwt } => match kind.as_deref() {
            None | Some("") => Err(aadsts::missing_parameter("client_assertion_type")),
            Some(assertion::ASSERTION_TYPE) => assertion::verify(store, app, token_url, jwt, now),
            Some(other) => Err(aadsts::assertion_type(other)),
        },
    }
}

type Redeemed = (User, Vec<String>, Option<String>);

fn redeem_code(
    store: &mut Store,
    app: &App,
    p: &HashMap<String, String>,
    now: i64,
) -> Result<Redeemed, EntraError> {
    let code = p
        .get("code")
        .filter(|c| !c.is_empty())
        .ok_or_else(|| aadsts::missing_parameter("code"))?;
    let grant = store
        .codes
        .get(code)
        .cloned()
        .ok_or_else(aadsts::malformed)?;
    if !grant.client_id.eq_ignore_ascii_case(&app.client_id) {
        return Err(aadsts::client_mismatch());
    }
    if grant.redeemed {
        return Err(aadsts::code_redeemed());
    }
    if now - grant.issued_at > CODE_SECONDS {
        return Err(aadsts::expired_or_revoked());
    }
    let redirect_uri = p
        .get("redirect_uri")
        .ok_or_else(|| aadsts::missing_parameter("redirect_uri"))?;
    if *redirect_uri != grant.redirect_uri {
        return Err(aadsts::redirect_mismatch(redirect_uri, &grant.redirect_uri));
    }
    if let Some(challenge) = &grant.code_challenge {
        let verifier = p.get("code_verifier").ok_or_else(aadsts::pkce_mismatch)?;
        let computed = match grant.code_challenge_method.as_deref() {
            Some("S256") => URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())),
            _ => verifier.clone(),
        };
        if computed != *challenge {
            return Err(aadsts::pkce_mismatch());
        }
    }
    if let Some(g) = store.codes.get_mut(code) {
        g.redeemed = true;
    }
    let user = store
        .users
        .get(&grant.oid)
        .cloned()
        .ok_or_else(aadsts::malformed)?;
    Ok((user, grant.scopes, grant.nonce))
}

fn redeem_refresh(
    store: &mut Store,
    app: &App,
    p: &HashMap<String, String>,
    now: i64,
) -> Result<Redeemed, EntraError> {
    let token = p
        .get("refresh_token")
        .filter(|c| !c.is_empty())
        .ok_or_else(|| aadsts::missing_parameter("refresh_token"))?;
    let grant = store
        .refresh_tokens
        .get(token)
        .cloned()
        .ok_or_else(aadsts::malformed)?;
    if !grant.client_id.eq_ignore_ascii_case(&app.client_id) {
        return Err(aadsts::client_mismatch());
    }
    match grant.void {
        Some(Void::Expired) => return Err(aadsts::expired_or_revoked()),
        Some(Void::GrantRevoked { valid_from }) => {
            return Err(aadsts::grant_revoked(
                &timefmt::iso(grant.issued_at),
                &timefmt::iso(valid_from),
            ))
        }
        None => {}
    }
    if now - grant.last_used > REFRESH_INACTIVITY_SECONDS {
        return Err(aadsts::refresh_inactive(
            &timefmt::iso(grant.issued_at),
            (now - grant.last_used) / 86_400,
        ));
    }
    let scopes = match p.get("scope").filter(|s| !s.is_empty()) {
        Some(s) => scopes::parse(s)?,
        None => grant.scopes.clone(),
    };
    if let Some(g) = store.refresh_tokens.get_mut(token) {
        g.last_used = now;
    }
    let user = store
        .users
        .get(&grant.oid)
        .cloned()
        .ok_or_else(aadsts::malformed)?;
    Ok((user, scopes, None))
}

fn issue(
    shared: &Shared,
    store: &mut Store,
    app: &App,
    user: &User,
    scopes: &[String],
    nonce: Option<&str>,
    now: i64,
) -> Result<Value, EntraError> {
    let access_token = random_token("EwA.");
    store.access_tokens.insert(
        access_token.clone(),
        AccessGrant {
            client_id: app.client_id.clone(),
            oid: Some(user.oid.clone()),
            tenant_id: user.tenant_id.clone(),
            scopes: scopes::graph(scopes, app),
            issued_at: now,
            expires_at: now + ACCESS_TOKEN_SECONDS,
        },
    );
    let mut body = json!({
        "token_type": "Bearer",
        "scope": scopes::response_scope(scopes, app),
        "expires_in": ACCESS_TOKEN_SECONDS,
        "ext_expires_in": ACCESS_TOKEN_SECONDS,
        "access_token": access_token,
    });
    let Some(obj) = body.as_object_mut() else {
        return Err(aadsts::malformed());
    };
    if scopes::has(scopes, "offline_access") {
        let refresh = random_token("M.C5_");
        store.refresh_tokens.insert(
            refresh.clone(),
            RefreshGrant {
                client_id: app.client_id.clone(),
                oid: user.oid.clone(),
                scopes: scopes.to_vec(),
                issued_at: now,
                last_used: now,
                void: None,
            },
        );
        obj.insert("refresh_token".to_owned(), Value::from(refresh));
    }
    if scopes::has(scopes, "openid") {
        let claims = id_token_claims(shared, app, user, scopes, nonce, now);
        let jwt = shared.key.sign(&claims).map_err(|_| {
            EntraError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                50_000,
                "There was an error issuing a token.",
            )
        })?;
        obj.insert("id_token".to_owned(), Value::from(jwt));
    }
    Ok(body)
}

fn id_token_claims(
    shared: &Shared,
    app: &App,
    user: &User,
    scopes: &[String],
    nonce: Option<&str>,
    now: i64,
) -> Value {
    let sub = pairwise_sub(&user.oid, &app.client_id);
    let mut claims = json!({
        "ver": "2.0",
        "iss": format!("{}/{}/v2.0", shared.base, user.tenant_id),
        "sub": sub,
        "aud": app.client_id,
        "exp": now + 3600,
        "iat": now,
        "nbf": now,
        "oid": user.oid,
        "tid": user.tenant_id,
        "uti": uuid::Uuid::new_v4().simple().to_string(),
    });
    if let Some(obj) = claims.as_object_mut() {
        if let Some(nonce) = nonce {
            obj.insert("nonce".to_owned(), Value::from(nonce));
        }
        if scopes::has(scopes, "profile") {
            obj.insert(
                "preferred_username".to_owned(),
                Value::from(user.upn.clone()),
            );
            obj.insert("name".to_owned(), Value::from(user.display_name.clone()));
        }
        if let (true, Some(mail)) = (scopes::has(scopes, "email"), &user.mail) {
            obj.insert("email".to_owned(), Value::from(mail.clone()));
        }
    }
    claims
}

/// The pairwise `sub` of a user for an app (stable, differs per app, as at Microsoft).
pub fn pairwise_sub(oid: &str, client_id: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(
        format!("{oid}|{}", client_id.to_ascii_lowercase()).as_bytes(),
    ))
}
