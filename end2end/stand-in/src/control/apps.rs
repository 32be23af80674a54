//! Control: what an app registration may do without a user (application permissions, its
//! application access policy, app-only tokens) and its certificate credentials.

use std::collections::BTreeSet;

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{delete, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{control, reply, Control, ControlError, Count};
use crate::identity::certificates;
use crate::identity::token::ACCESS_TOKEN_SECONDS;
use crate::model::{App, Certificate};
use crate::state::{random_token, AccessGrant, Shared};

impl Control {
    fn with_app<T>(
        &self,
        client_id: &str,
        change: impl FnOnce(&mut App) -> T,
    ) -> Result<T, ControlError> {
        let mut store = self.shared.lock();
        let app = store
            .apps
            .get_mut(&client_id.to_ascii_lowercase())
            .ok_or_else(|| ControlError::UnknownApp(client_id.to_owned()))?;
        Ok(change(app))
    }

    /// Grants application permissions with admin consent (`["Mail.Read", "Mail.ReadWrite",
    /// "Mail.Send"]`, `User.Read.All`, …): the `roles` of the app's app-only tokens issued from
    /// now on (a token keeps the roles it was issued with, as at Entra).
    pub fn grant_app_permissions(
        &self,
        client_id: &str,
        permissions: &[&str],
    ) -> Result<(), ControlError> {
        self.with_app(client_id, |app| {
            for p in permissions {
                if !app
                    .app_permissions
                    .iter()
                    .any(|have| have.eq_ignore_ascii_case(p))
                {
                    app.app_permissions.push((*p).to_owned());
                }
            }
        })
    }

    /// Makes the app's secret `value` expire now, as its end date passing would: Entra then
    /// answers `invalid_client` AADSTS7000222 to it. Unknown secret → `UnknownSecret`.
    pub fn expire_secret(&self, client_id: &str, value: &str) -> Result<(), ControlError> {
        let now = self.now();
        self.with_app(client_id, |app| {
            let secret = app.secrets.iter_mut().find(|s| s.value == value)?;
            secret.expires_at = Some(now - 1);
            Some(())
        })?
        .ok_or_else(|| ControlError::Conflict("no such secret on this app".into()))
    }

    /// Removes every application permission of the app (tokens issued later have no roles).
    pub fn revoke_app_permissions(&self, client_id: &str) -> Result<(), ControlError> {
        self.with_app(client_id, |app| app.app_permissions.clear())
    }

    /// Limits the mailboxes the app's app-only tokens may touch (an application access policy
    /// with `-AccessRight RestrictAccess`), each given by UPN, mail or oid; `None` removes the
    /// policy (every mailbox of the tenant). Applies at once (Exchange takes up to an hour).
    /// Outside it Graph answers 403 `ErrorAccessDenied` "Access to OData is disabled.".
    pub fn set_app_access_policy(
        &self,
        client_id: &str,
        mailboxes: Option<Vec<String>>,
    ) -> Result<(), ControlError> {
        let keys = match mailboxes {
            None => None,
            Some(list) => {
                let store = self.shared.lock();
                let mut keys = BTreeSet::new();
                for key in list {
                    let user = store
                        .find_user(&key)
                        .ok_or_else(|| ControlError::UnknownUser(key.clone()))?;
                    keys.insert(user.mailbox_key());
                }
                Some(keys.into_iter().collect())
            }
        };
        self.with_app(client_id, |app| app.access_policy = keys)
    }

    /// Registers a certificate credential: an X.509 certificate with an RSA key, as PEM or
    /// base64 DER. Client assertions name it by `x5t#S256` (or the legacy `x5t`).
    pub fn add_app_certificate(
        &self,
        client_id: &str,
        certificate: &str,
    ) -> Result<Certificate, ControlError> {
        let (cert, _) =
            certificates::parse(certificate).map_err(|e| ControlError::Invalid(e.to_string()))?;
        self.with_app(client_id, |app| {
            if app
                .certificates
                .iter()
                .any(|c| c.thumbprint_sha256 == cert.thumbprint_sha256)
            {
                return Err(ControlError::Conflict(format!(
                    "certificate {}",
                    cert.thumbprint_sha1
                )));
            }
            app.certificates.push(cert.clone());
            Ok(cert)
        })?
    }

    /// Removes the certificate with this SHA-1 or SHA-256 hex thumbprint (any case); `false`
    /// when the app has none such.
    pub fn remove_app_certificate(
        &self,
        client_id: &str,
        thumbprint: &str,
    ) -> Result<bool, ControlError> {
        self.with_app(client_id, |app| {
            let before = app.certificates.len();
            app.certificates.retain(|c| {
                !c.thumbprint_sha1.eq_ignore_ascii_case(thumbprint)
                    && !c.thumbprint_sha256.eq_ignore_ascii_case(thumbprint)
            });
            app.certificates.len() != before
        })
    }

    /// Mints an app-only Graph access token for the app (in its home tenant) without the token
    /// endpoint, with the application permissions granted now; it lives as long as one from
    /// the token endpoint, and `expire_app_access_tokens` ends it.
    pub fn issue_app_access_token(&self, client_id: &str) -> Result<String, ControlError> {
        let now = self.shared.now();
        let mut store = self.shared.lock();
        let app = store
            .app(client_id)
            .cloned()
            .ok_or_else(|| ControlError::UnknownApp(client_id.to_owned()))?;
        let token = random_token("eyJ0eXAiOiJKV1Qi.app.");
        store.access_tokens.insert(
            token.clone(),
            AccessGrant {
                client_id: app.client_id.clone(),
                oid: None,
                tenant_id: app.tenant_id.clone(),
                scopes: app
                    .app_permissions
                    .iter()
                    .map(|p| p.to_ascii_lowercase())
                    .collect(),
                issued_at: now,
                expires_at: now + ACCESS_TOKEN_SECONDS,
            },
        );
        Ok(token)
    }

    /// Makes the app's app-only access tokens expired now (Graph answers 401); returns how many.
    pub fn expire_app_access_tokens(&self, client_id: &str) -> Result<usize, ControlError> {
        let now = self.shared.now();
        let mut store = self.shared.lock();
        if store.app(client_id).is_none() {
            return Err(ControlError::UnknownApp(client_id.to_owned()));
        }
        let mut count = 0;
        for grant in store.access_tokens.values_mut().filter(|g| {
            g.oid.is_none() && g.client_id.eq_ignore_ascii_case(client_id) && g.expires_at > now
        }) {
            grant.expires_at = now;
            count += 1;
        }
        Ok(count)
    }
}

#[derive(Deserialize)]
struct Permissions {
    permissions: Vec<String>,
}

#[derive(Deserialize)]
struct Policy {
    mailboxes: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct NewCertificate {
    certificate: String,
}

#[derive(Serialize)]
struct Removed {
    removed: bool,
}

pub fn router() -> Router<Shared> {
    Router::new()
        .route(
            "/_stand-in/apps/{client_id}/app-permissions",
            post(grant_permissions).delete(revoke_permissions),
        )
        .route("/_stand-in/apps/{client_id}/access-policy", put(set_policy))
        .route(
            "/_stand-in/apps/{client_id}/secrets/expire",
            post(expire_secret),
        )
        .route(
            "/_stand-in/apps/{client_id}/certificates",
            post(add_certificate),
        )
        .route(
            "/_stand-in/apps/{client_id}/certificates/{thumbprint}",
            delete(remove_certificate),
        )
        .route(
            "/_stand-in/apps/{client_id}/access-tokens",
            post(issue_token),
        )
        .route(
            "/_stand-in/apps/{client_id}/expire-access-tokens",
            post(expire_tokens),
        )
}

async fn grant_permissions(
    State(s): State<Shared>,
    Path(client_id): Path<String>,
    Json(body): Json<Permissions>,
) -> Response {
    let names: Vec<&str> = body.permissions.iter().map(String::as_str).collect();
    reply(
        control(s)
            .grant_app_permissions(&client_id, &names)
            .map(|()| json!({})),
    )
}

async fn revoke_permissions(State(s): State<Shared>, Path(client_id): Path<String>) -> Response {
    reply(
        control(s)
            .revoke_app_permissions(&client_id)
            .map(|()| json!({})),
    )
}

async fn set_policy(
    State(s): State<Shared>,
    Path(client_id): Path<String>,
    Json(body): Json<Policy>,
) -> Response {
    reply(
        control(s)
            .set_app_access_policy(&client_id, body.mailboxes)
            .map(|()| json!({})),
    )
}

async fn add_certificate(
    State(s): State<Shared>,
    Path(client_id): Path<String>,
    Json(body): Json<NewCertificate>,
) -> Response {
    reply(control(s).add_app_certificate(&client_id, &body.certificate))
}

async fn remove_certificate(
    State(s): State<Shared>,
    Path((client_id, thumbprint)): Path<(String, String)>,
) -> Response {
    reply(
        control(s)
            .remove_app_certificate(&client_id, &thumbprint)
            .map(|removed| Removed { removed }),
    )
}

async fn issue_token(State(s): State<Shared>, Path(client_id): Path<String>) -> Response {
    reply(control(s).issue_app_access_token(&client_id).map(|token| {
        json!({
            "token_type": "Bearer",
            "access_token": token,
            "expires_in": ACCESS_TOKEN_SECONDS,
        })
    }))
}

async fn expire_tokens(State(s): State<Shared>, Path(client_id): Path<String>) -> Response {
    reply(
        control(s)
            .expire_app_access_tokens(&client_id)
            .map(|count| Count { count }),
    )
}

#[derive(Deserialize)]
struct SecretValue {
    value: String,
}

async fn expire_secret(
    State(s): State<Shared>,
    Path(client_id): Path<String>,
    Json(body): Json<SecretValue>,
) -> Response {
    reply(control(s).expire_secret(&client_id, &body.value))
}
