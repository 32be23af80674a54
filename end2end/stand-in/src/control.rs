//! Control operations (the Rust [`Control`] API) and the same operations over HTTP under `/_stand-in/…`.
//! Folders, subscriptions, app-only access and certificates, and shared mailboxes have their own
//! modules.

mod apps;
mod folders;
mod mailboxes;
mod subscriptions;

use std::collections::BTreeSet;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::faults::FaultSpec;
use crate::identity::token::ACCESS_TOKEN_SECONDS;
use crate::ledger::Ledger;
use crate::model::{
    App, ConsentGrant, ExpireRefreshTokens, IncomingMail, Limits, NewApp, NewSecret, NewTenant,
    NewUser, RefreshExpiry, Secret, Tenant, User,
};
use crate::state::{random_token, AccessGrant, Shared, Void};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ControlError {
    #[error("unknown tenant '{0}'")]
    UnknownTenant(String),
    #[error("unknown app '{0}'")]
    UnknownApp(String),
    #[error("unknown user '{0}'")]
    UnknownUser(String),
    #[error("unknown folder '{0}'")]
    UnknownFolder(String),
    #[error("unknown subscription '{0}'")]
    UnknownSubscription(String),
    #[error("already exists: {0}")]
    Conflict(String),
    /// The request cannot be carried out as asked (a shared mailbox signing in, a bad certificate…).
    #[error("invalid: {0}")]
    Invalid(String),
}

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        let status = match self {
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Invalid(_) => StatusCode::BAD_REQUEST,
            _ => StatusCode::NOT_FOUND,
        };
        (status, Json(json!({"error": self.to_string()}))).into_response()
    }
}

const DEFAULT_PERMISSIONS: [&str; 4] = ["User.Read", "Mail.Read", "Mail.ReadWrite", "Mail.Send"];

/// The control operations. Cheap to clone; all clones act on the same stand-in.
#[derive(Clone)]
pub struct Control {
    pub(crate) shared: Shared,
}

impl Control {
    /// Current stand-in time, Unix seconds.
    pub fn now(&self) -> i64 {
        self.shared.now()
    }

    /// Moves the stand-in's clock forward.
    pub fn advance(&self, by: Duration) {
        self.shared.clock.advance(by);
    }

    pub fn add_tenant(&self, new: NewTenant) -> Result<Tenant, ControlError> {
        let mut store = self.shared.lock();
        let id = match new.id {
            Some(id) => id.to_ascii_lowercase(),
            None => store.next_guid(0x7e4a_4700),
        };
        if store.tenants.iter().any(|t| t.id == id) {
            return Err(ControlError::Conflict(format!("tenant {id}")));
        }
        let tenant = Tenant {
            display_name: new.display_name.unwrap_or_else(|| {
                new.domains
                    .first()
                    .cloned()
                    .unwrap_or_else(|| "Tenant".to_owned())
            }),
            id,
            domains: new.domains,
        };
        store.tenants.push(tenant.clone());
        Ok(tenant)
    }

    pub fn add_app(&self, new: NewApp) -> Result<App, ControlError> {
        let mut store = self.shared.lock();
        if store.tenant(&new.tenant_id).is_none() {
            return Err(ControlError::UnknownTenant(new.tenant_id));
        }
        let client_id = match new.client_id {
            Some(id) => id,
            None => store.next_guid(0xa9b0_0000),
        };
        if store.app(&client_id).is_some() {
            return Err(ControlError::Conflict(format!("app {client_id}")));
        }
        let requested = if new.secrets.is_empty() {
            vec![NewSecret::default()]
        } else {
            new.secrets
        };
        let secrets = requested
            .into_iter()
            .map(|s| make_secret(&mut store, s))
            .collect();
        let api_permissions = if new.api_permissions.is_empty() {
            DEFAULT_PERMISSIONS
                .iter()
                .map(|s| (*s).to_owned())
                .collect()
        } else {
            new.api_permissions
        };
        let app = App {
            display_name: new.display_name.unwrap_or_else(|| "Tenant Mail".to_owned()),
            client_id: client_id.clone(),
            tenant_id: new.tenant_id,
            redirect_uris: new.redirect_uris,
            secrets,
            api_permissions,
            app_permissions: Vec::new(),
            access_policy: None,
            certificates: Vec::new(),
        };
        store
            .apps
            .insert(client_id.to_ascii_lowercase(), app.clone());
        Ok(app)
    }

    pub fn add_secret(&self, client_id: &str, new: NewSecret) -> Result<Secret, ControlError> {
        let mut store = self.shared.lock();
        if store.app(client_id).is_none() {
            return Err(ControlError::UnknownApp(client_id.to_owned()));
        }
        let secret = make_secret(&mut store, new);
        if let Some(app) = store.apps.get_mut(&client_id.to_ascii_lowercase()) {
            app.secrets.push(secret.clone());
        }
        Ok(secret)
    }

    pub fn add_redirect_uri(&self, client_id: &str, uri: &str) -> Result<(), ControlError> {
        let mut store = self.shared.lock();
        let app = store
            .apps
            .get_mut(&client_id.to_ascii_lowercase())
            .ok_or_else(|| ControlError::UnknownApp(client_id.to_owned()))?;
        if !app.redirect_uris.iter().any(|u| u == uri) {
            app.redirect_uris.push(uri.to_owned());
        }
        Ok(())
    }

    pub fn app(&self, client_id: &str) -> Option<App> {
        self.shared.lock().app(client_id).cloned()
    }

    pub fn add_user(&self, new: NewUser) -> Result<User, ControlError> {
        self.create_user(new, false)
    }

    /// Adds a user, or a shared mailbox (which cannot sign in).
    pub(crate) fn create_user(&self, new: NewUser, shared: bool) -> Result<User, ControlError> {
        let mut store = self.shared.lock();
        let tenant_id = store
            .tenant(&new.tenant_id)
            .map(|t| t.id.clone())
            .ok_or_else(|| ControlError::UnknownTenant(new.tenant_id.clone()))?;
        if store.find_user(&new.upn).is_some() {
            return Err(ControlError::Conflict(format!("user {}", new.upn)));
        }
        let oid = match new.oid {
            Some(oid) => oid.to_ascii_lowercase(),
            None => store.next_guid(0x0b1d_0000),
        };
        let proxy_addresses = new
            .proxy_addresses
            .unwrap_or_else(|| new.mail.iter().map(|m| format!("SMTP:{m}")).collect());
        let user = User {
            display_name: new.display_name.unwrap_or_else(|| new.upn.clone()),
            oid: oid.clone(),
            tenant_id,
            upn: new.upn,
            mail: new.mail,
            password: new.password,
            proxy_addresses,
            shared,
        };
        store.users.insert(oid.clone(), user.clone());
        store.mailbox_mut(&oid);
        Ok(user)
    }

    pub fn user(&self, key: &str) -> Option<User> {
        self.shared.lock().find_user(key).cloned()
    }

    /// Replaces the browser session's signed-in accounts (UPN, mail or oid each), in order.
    pub fn set_signed_in(&self, accounts: &[String]) -> Result<(), ControlError> {
        let mut store = self.shared.lock();
        let mut oids = Vec::new();
        for key in accounts {
            let user = store
                .find_user(key)
                .ok_or_else(|| ControlError::UnknownUser(key.clone()))?;
            if user.shared {
                return Err(ControlError::Invalid(format!(
                    "{key} is a shared mailbox: it cannot sign in"
                )));
            }
            oids.push(user.oid.clone());
        }
        store.signed_in = oids;
        Ok(())
    }

    /// The accounts signed in to the browser session.
    pub fn signed_in(&self) -> Vec<User> {
        let store = self.shared.lock();
        store
            .signed_in
            .iter()
            .filter_map(|oid| store.users.get(oid).cloned())
            .collect()
    }

    /// Grants consent: per user (`oid`) or tenant-wide (`tenant_id`, admin consent).
    pub fn grant_consent(&self, grant: ConsentGrant) -> Result<(), ControlError> {
        let mut store = self.shared.lock();
        let app = store
            .app(&grant.client_id)
            .cloned()
            .ok_or_else(|| ControlError::UnknownApp(grant.client_id.clone()))?;
        let scopes: BTreeSet<String> = if grant.scopes.is_empty() {
            app.api_permissions
                .iter()
                .map(|s| s.to_ascii_lowercase())
                .collect()
        } else {
            grant
                .scopes
                .iter()
                .map(|s| s.to_ascii_lowercase())
                .collect()
        };
        let client = app.client_id.to_ascii_lowercase();
        if let Some(key) = &grant.oid {
            let oid = store
                .find_user(key)
                .map(|u| u.oid.clone())
                .ok_or_else(|| ControlError::UnknownUser(key.clone()))?;
            store
                .user_consents
                .entry((client.clone(), oid))
                .or_default()
                .extend(scopes.clone());
        }
        if let Some(tenant) = &grant.tenant_id {
            let tid = store
                .tenant(tenant)
                .map(|t| t.id.clone())
                .ok_or_else(|| ControlError::UnknownTenant(tenant.clone()))?;
            store
                .admin_consents
                .entry((client, tid))
                .or_default()
                .extend(scopes);
        }
        Ok(())
    }

    /// Removes consent (user and/or admin) for the app; later token requests get AADSTS65001.
    pub fn revoke_consent(&self, grant: ConsentGrant) -> Result<(), ControlError> {
        let mut store = self.shared.lock();
        let client = grant.client_id.to_ascii_lowercase();
        if let Some(key) = &grant.oid {
            let oid = store
                .find_user(key)
                .map(|u| u.oid.clone())
                .ok_or_else(|| ControlError::UnknownUser(key.clone()))?;
            store.user_consents.remove(&(client.clone(), oid));
        }
        if let Some(tenant) = &grant.tenant_id {
            let tid = store
                .tenant(tenant)
                .map(|t| t.id.clone())
                .unwrap_or_default();
            store.admin_consents.remove(&(client, tid));
        }
        Ok(())
    }

    /// Revokes every grant of the user (as a password reset does): refresh tokens issued so far get AADSTS50173.
    pub fn revoke_grant(&self, user: &str) -> Result<usize, ControlError> {
        let now = self.shared.now();
        let mut store = self.shared.lock();
        let oid = store
            .find_user(user)
            .map(|u| u.oid.clone())
            .ok_or_else(|| ControlError::UnknownUser(user.to_owned()))?;
        let mut count = 0;
        for grant in store.refresh_tokens.values_mut().filter(|g| g.oid == oid) {
            grant.void = Some(Void::GrantRevoked { valid_from: now });
            count += 1;
        }
        Ok(count)
    }

    /// Makes the user's refresh tokens fail: by inactivity (AADSTS700082) or as expired/revoked (AADSTS70008).
    pub fn expire_refresh_tokens(&self, req: ExpireRefreshTokens) -> Result<usize, ControlError> {
        let now = self.shared.now();
        let mut store = self.shared.lock();
        let oid = store
            .find_user(&req.user)
            .map(|u| u.oid.clone())
            .ok_or_else(|| ControlError::UnknownUser(req.user.clone()))?;
        let mut count = 0;
        for grant in store.refresh_tokens.values_mut().filter(|g| {
            g.oid == oid
                && req
                    .client_id
                    .as_deref()
                    .is_none_or(|c| c.eq_ignore_ascii_case(&g.client_id))
        }) {
            match req.reason {
                RefreshExpiry::Inactivity => {
                    grant.last_used =
                        now - crate::identity::token::REFRESH_INACTIVITY_SECONDS - 86_400;
                }
                RefreshExpiry::Revoked => grant.void = Some(Void::Expired),
            }
            count += 1;
        }
        Ok(count)
    }

    /// Makes the user's access tokens expired now (Graph answers 401 InvalidAuthenticationToken).
    pub fn expire_access_tokens(&self, user: &str) -> Result<usize, ControlError> {
        let now = self.shared.now();
        let mut store = self.shared.lock();
        let oid = store
            .find_user(user)
            .map(|u| u.oid.clone())
            .ok_or_else(|| ControlError::UnknownUser(user.to_owned()))?;
        let mut count = 0;
        for grant in store
            .access_tokens
            .values_mut()
            .filter(|g| g.oid.as_deref() == Some(oid.as_str()))
        {
            grant.expires_at = now;
            count += 1;
        }
        Ok(count)
    }

    /// Mints a Graph access token for `user` and app `client_id` without the sign-in, consent and
    /// token endpoint (for tests of Graph clients). It carries the app's API permissions, lives
    /// as long as a token from the token endpoint, and `expire_access_tokens` ends it too.
    pub fn issue_access_token(&self, user: &str, client_id: &str) -> Result<String, ControlError> {
        let now = self.shared.now();
        let mut store = self.shared.lock();
        let user = store
            .find_user(user)
            .cloned()
            .ok_or_else(|| ControlError::UnknownUser(user.to_owned()))?;
        if user.shared {
            return Err(ControlError::Invalid(format!(
                "{} is a shared mailbox: it has no tokens of its own",
                user.upn
            )));
        }
        let app = store
            .app(client_id)
            .cloned()
            .ok_or_else(|| ControlError::UnknownApp(client_id.to_owned()))?;
        let token = random_token("EwA.");
        store.access_tokens.insert(
            token.clone(),
            AccessGrant {
                client_id: app.client_id.clone(),
                oid: Some(user.oid),
                tenant_id: user.tenant_id,
                scopes: app
                    .api_permissions
                    .iter()
                    .map(|s| s.to_ascii_lowercase())
                    .collect(),
                issued_at: now,
                expires_at: now + ACCESS_TOKEN_SECONDS,
            },
        );
        Ok(token)
    }

    /// Delivers incoming mail; returns the new message's immutable id.
    pub fn deliver(&self, mail: IncomingMail) -> Result<String, ControlError> {
        let now = self.shared.now();
        let mut store = self.shared.lock();
        crate::graph::mail::deliver(&mut store, mail, now)
    }

    /// Messages in a folder as Graph would list them (newest first), with immutable ids.
    pub fn messages(&self, user: &str, folder: &str) -> Result<Vec<Value>, ControlError> {
        let store = self.shared.lock();
        let oid = store
            .find_user(user)
            .map(|u| u.oid.clone())
            .ok_or_else(|| ControlError::UnknownUser(user.to_owned()))?;
        let mailbox = store
            .mailboxes
            .get(&oid)
            .ok_or_else(|| ControlError::UnknownUser(user.to_owned()))?;
        let folder = mailbox
            .folder(folder)
            .ok_or_else(|| ControlError::UnknownFolder(folder.to_owned()))?;
        let mut list: Vec<&crate::state::Message> = mailbox
            .messages
            .iter()
            .filter(|m| m.folder_id == folder.id)
            .collect();
        list.sort_by_key(|m| std::cmp::Reverse(m.received));
        Ok(list
            .into_iter()
            .map(|m| crate::graph::odata::message_json(m, true, &self.shared.graph_base()))
            .collect())
    }

    /// Invalidates every delta token of the user's mailbox (next delta call: 410 syncStateNotFound).
    pub fn expire_delta_state(&self, user: &str) -> Result<(), ControlError> {
        let mut store = self.shared.lock();
        let oid = store
            .find_user(user)
            .map(|u| u.oid.clone())
            .ok_or_else(|| ControlError::UnknownUser(user.to_owned()))?;
        store.mailbox_mut(&oid).delta_generation += 1;
        Ok(())
    }

    pub fn add_fault(&self, spec: FaultSpec) {
        self.shared.lock().faults.add(spec);
    }

    pub fn clear_faults(&self) {
        self.shared.lock().faults.clear();
    }

    pub fn faults(&self) -> Vec<FaultSpec> {
        self.shared.lock().faults.pending()
    }

    pub fn set_limits(&self, limits: Limits) {
        self.shared.lock().limits = limits;
    }

    pub fn limits(&self) -> Limits {
        self.shared.lock().limits.clone()
    }

    pub fn ledger(&self) -> Ledger {
        self.shared.lock().ledger.clone()
    }

    pub fn clear_ledger(&self) {
        self.shared.lock().ledger = Ledger::default();
    }
}

fn make_secret(store: &mut crate::state::State, new: NewSecret) -> Secret {
    Secret {
        id: new.id.unwrap_or_else(|| store.next_guid(0x5ec7_0000)),
        value: new.value.unwrap_or_else(|| random_token("stq8Q~")),
        expires_at: new.expires_at,
    }
}

#[derive(Deserialize)]
struct RedirectUri {
    uri: String,
}

#[derive(Deserialize)]
struct SignedIn {
    accounts: Vec<String>,
}

#[derive(Deserialize)]
struct Advance {
    seconds: u64,
}

#[derive(Deserialize)]
struct IssueAccessToken {
    client_id: String,
}

#[derive(Serialize)]
struct Count {
    count: usize,
}

pub fn router() -> Router<Shared> {
    Router::new()
        .route("/_stand-in/tenants", post(add_tenant))
        .route("/_stand-in/apps", post(add_app))
        .route("/_stand-in/apps/{client_id}", get(get_app))
        .route("/_stand-in/apps/{client_id}/secrets", post(add_secret))
        .route(
            "/_stand-in/apps/{client_id}/redirect-uris",
            post(add_redirect_uri),
        )
        .route("/_stand-in/users/{user}", get(get_user))
        .route("/_stand-in/users/{user}/revoke-grant", post(revoke_grant))
        .route(
            "/_stand-in/users/{user}/expire-access-tokens",
            post(expire_access_tokens),
        )
        .route(
            "/_stand-in/users/{user}/access-tokens",
            post(issue_access_token),
        )
        .route("/_stand-in/users/{user}/expire-delta", post(expire_delta))
        .route(
            "/_stand-in/users/{user}/folders/{folder}/messages",
            get(messages),
        )
        .route("/_stand-in/session", get(get_session).put(set_session))
        .route(
            "/_stand-in/consent",
            post(grant_consent).delete(revoke_consent),
        )
        .route("/_stand-in/refresh-tokens/expire", post(expire_refresh))
        .route("/_stand-in/mail", post(deliver))
        .route(
            "/_stand-in/faults",
            get(get_faults).post(add_fault).delete(clear_faults),
        )
        .route("/_stand-in/limits", get(get_limits).put(set_limits))
        .route("/_stand-in/ledger", get(get_ledger).delete(clear_ledger))
        .route("/_stand-in/clock", get(get_clock))
        .route("/_stand-in/clock/advance", post(advance))
        .route("/_stand-in/callback", get(callback))
        .merge(folders::router())
        .merge(subscriptions::router())
        .merge(apps::router())
        .merge(mailboxes::router())
}

/// A redirect target for demos and browser tests: shows the parameters it received.
async fn callback(
    axum::extract::Query(q): axum::extract::Query<Vec<(String, String)>>,
) -> Response {
    use crate::identity::pages::escape;
    let rows: String = q
        .iter()
        .map(|(k, v)| {
            format!(
                "<dt>{k}</dt><dd id=\"param-{k}\">{v}</dd>",
                k = escape(k),
                v = escape(v)
            )
        })
        .collect();
    axum::response::Html(format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Stand-in callback</title></head><body><h1>Redirected back</h1><dl>{rows}</dl></body></html>"
    ))
    .into_response()
}

fn control(shared: Shared) -> Control {
    Control { shared }
}

fn reply<T: Serialize>(result: Result<T, ControlError>) -> Response {
    match result {
        Ok(value) => Json(value).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn add_tenant(State(s): State<Shared>, Json(body): Json<NewTenant>) -> Response {
    reply(control(s).add_tenant(body))
}

async fn add_app(State(s): State<Shared>, Json(body): Json<NewApp>) -> Response {
    reply(control(s).add_app(body))
}

async fn get_app(State(s): State<Shared>, Path(client_id): Path<String>) -> Response {
    reply(
        control(s)
            .app(&client_id)
            .ok_or(ControlError::UnknownApp(client_id)),
    )
}

async fn add_secret(
    State(s): State<Shared>,
    Path(client_id): Path<String>,
    Json(body): Json<NewSecret>,
) -> Response {
    reply(control(s).add_secret(&client_id, body))
}

async fn add_redirect_uri(
    State(s): State<Shared>,
    Path(client_id): Path<String>,
    Json(body): Json<RedirectUri>,
) -> Response {
    reply(
        control(s)
            .add_redirect_uri(&client_id, &body.uri)
            .map(|()| json!({})),
    )
}

async fn get_user(State(s): State<Shared>, Path(user): Path<String>) -> Response {
    reply(
        control(s)
            .user(&user)
            .ok_or(ControlError::UnknownUser(user)),
    )
}

async fn revoke_grant(State(s): State<Shared>, Path(user): Path<String>) -> Response {
    reply(control(s).revoke_grant(&user).map(|count| Count { count }))
}

async fn expire_access_tokens(State(s): State<Shared>, Path(user): Path<String>) -> Response {
    reply(
        control(s)
            .expire_access_tokens(&user)
            .map(|count| Count { count }),
    )
}

async fn issue_access_token(
    State(s): State<Shared>,
    Path(user): Path<String>,
    Json(body): Json<IssueAccessToken>,
) -> Response {
    reply(
        control(s)
            .issue_access_token(&user, &body.client_id)
            .map(|token| {
                json!({
                    "token_type": "Bearer",
                    "access_token": token,
                    "expires_in": ACCESS_TOKEN_SECONDS,
                })
            }),
    )
}

async fn expire_delta(State(s): State<Shared>, Path(user): Path<String>) -> Response {
    reply(control(s).expire_delta_state(&user).map(|()| json!({})))
}

async fn messages(
    State(s): State<Shared>,
    Path((user, folder)): Path<(String, String)>,
) -> Response {
    reply(
        control(s)
            .messages(&user, &folder)
            .map(|value| json!({ "value": value })),
    )
}

async fn get_session(State(s): State<Shared>) -> Response {
    Json(json!({ "accounts": control(s).signed_in() })).into_response()
}

async fn set_session(State(s): State<Shared>, Json(body): Json<SignedIn>) -> Response {
    reply(control(s).set_signed_in(&body.accounts).map(|()| json!({})))
}

async fn grant_consent(State(s): State<Shared>, Json(body): Json<ConsentGrant>) -> Response {
    reply(control(s).grant_consent(body).map(|()| json!({})))
}

async fn revoke_consent(State(s): State<Shared>, Json(body): Json<ConsentGrant>) -> Response {
    reply(control(s).revoke_consent(body).map(|()| json!({})))
}

async fn expire_refresh(
    State(s): State<Shared>,
    Json(body): Json<ExpireRefreshTokens>,
) -> Response {
    reply(
        control(s)
            .expire_refresh_tokens(body)
            .map(|count| Count { count }),
    )
}

async fn deliver(State(s): State<Shared>, Json(body): Json<IncomingMail>) -> Response {
    reply(control(s).deliver(body).map(|id| json!({ "id": id })))
}

async fn get_faults(State(s): State<Shared>) -> Response {
    Json(control(s).faults()).into_response()
}

async fn add_fault(State(s): State<Shared>, Json(body): Json<FaultSpec>) -> Response {
    control(s).add_fault(body);
    Json(json!({})).into_response()
}

async fn clear_faults(State(s): State<Shared>) -> Response {
    control(s).clear_faults();
    Json(json!({})).into_response()
}

async fn get_limits(State(s): State<Shared>) -> Response {
    Json(control(s).limits()).into_response()
}

async fn set_limits(State(s): State<Shared>, Json(body): Json<Limits>) -> Response {
    control(s).set_limits(body);
    Json(json!({})).into_response()
}

async fn get_ledger(State(s): State<Shared>) -> Response {
    Json(control(s).ledger()).into_response()
}

async fn clear_ledger(State(s): State<Shared>) -> Response {
    control(s).clear_ledger();
    Json(json!({})).into_response()
}

async fn get_clock(State(s): State<Shared>) -> Response {
    let now = s.now();
    Json(json!({ "now": now, "iso": crate::timefmt::iso(now) })).into_response()
}

async fn advance(State(s): State<Shared>, Json(body): Json<Advance>) -> Response {
    let c = control(s);
    c.advance(Duration::from_secs(body.seconds));
    let now = c.now();
    Json(json!({ "now": now, "iso": crate::timefmt::iso(now) })).into_response()
}
