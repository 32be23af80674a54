//! The user resource: `GET /me` and `GET /users/{id|userPrincipalName|mail}` (one handler; the
//! gate resolved which user), and `GET /oidc/userinfo`.

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::{json, Value};

use super::target::{me_needs_delegated, Access, TargetMailbox};
use super::Caller;
use crate::errors::GraphError;
use crate::state::Shared;

/// Delegated scopes or application permissions that read any user of the tenant.
const READ_ANY_USER: [&str; 3] = ["user.readbasic.all", "user.read.all", "directory.read.all"];

fn insufficient_privileges() -> GraphError {
    GraphError::new(
        StatusCode::FORBIDDEN,
        "Authorization_RequestDenied",
        "Insufficient privileges to complete the operation.",
    )
}

/// `GET /me` or `GET /users/{key}`: the default properties, or exactly those named in `$select`
/// (`proxyAddresses` only when selected, as Graph returns it). One's own user needs `User.Read`;
/// another user (a shared mailbox, a colleague), or any user with an app-only token, needs
/// `User.ReadBasic.All` / `User.Read.All` (else 403 `Authorization_RequestDenied`). Mailbox
/// permissions and application access policies do not apply to the directory.
pub async fn get_user(
    Extension(caller): Extension<Caller>,
    mailbox: TargetMailbox,
    State(shared): State<Shared>,
    RawQuery(query): RawQuery,
) -> Result<Response, GraphError> {
    match mailbox.access {
        Access::Own => {
            caller.require(&["user.read", "user.readbasic.all", "user.read.all"])?;
        }
        Access::Delegate(_) | Access::App { .. } => {
            caller
                .require(&READ_ANY_USER)
                .map_err(|_| insufficient_privileges())?;
        }
    }
    let u = &mailbox.owner;
    let all = json!({
        "businessPhones": [],
        "displayName": u.display_name,
        "givenName": Value::Null,
        "jobTitle": Value::Null,
        "mail": u.mail,
        "mobilePhone": Value::Null,
        "officeLocation": Value::Null,
        "preferredLanguage": Value::Null,
        "surname": Value::Null,
        "userPrincipalName": u.upn,
        "id": u.oid,
        "proxyAddresses": u.proxy_addresses,
    });
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(&query.unwrap_or_default()).unwrap_or_default();
    let selected: Option<Vec<String>> =
        pairs
            .into_iter()
            .find(|(k, _)| k == "$select")
            .map(|(_, v)| {
                v.split(',')
                    .map(|p| p.trim().to_ascii_lowercase())
                    .collect()
            });
    let mut out = serde_json::Map::new();
    out.insert(
        "@odata.context".into(),
        json!(format!("{}/$metadata#users/$entity", shared.graph_base())),
    );
    for (key, value) in all.as_object().into_iter().flatten() {
        let wanted = match &selected {
            Some(names) => names.contains(&key.to_ascii_lowercase()),
            None => key != "proxyAddresses",
        };
        if wanted {
            out.insert(key.clone(), value.clone());
        }
    }
    Ok(Json(Value::Object(out)).into_response())
}

/// `GET /oidc/userinfo` (Graph host): `sub` (same pairwise value as the id_token), name, email.
/// There is no user behind an app-only token.
pub async fn userinfo(Extension(caller): Extension<Caller>) -> Result<Response, GraphError> {
    let Some(u) = &caller.user else {
        return Err(me_needs_delegated());
    };
    Ok(Json(json!({
        "sub": crate::identity::token::pairwise_sub(&u.oid, &caller.client_id),
        "name": u.display_name,
        "family_name": Value::Null,
        "given_name": Value::Null,
        "email": u.mail,
    }))
    .into_response())
}
