//! `/v1.0/subscriptions`: create (with the validation handshake), list, get, renew (`PATCH`),
//! delete and `/reauthorize`, for change notifications on messages of a mailbox's folders: the
//! caller's own (delegated), or any mailbox of the tenant with an app-only token (application
//! `Mail.Read`, within the app's access policy). Delegated `.Shared` scopes cannot subscribe to
//! other mailboxes. A subscription is visible only to the app that created it (and, for a
//! delegated one, to the user who created it); others get 404.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{json, Value};

use super::mail::parse_json;
use super::odata;
use super::target::{self, Access, Need};
use super::Caller;
use crate::errors::GraphError;
use crate::state::{Shared, State as Store};
use crate::timefmt;
use crate::webhooks::rules::{self, invalid};
use crate::webhooks::{sender, Subscription};

type GraphResult = Result<Response, GraphError>;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateInput {
    #[serde(default)]
    change_type: Option<String>,
    #[serde(default)]
    notification_url: Option<String>,
    #[serde(default)]
    lifecycle_notification_url: Option<String>,
    #[serde(default)]
    resource: Option<String>,
    #[serde(default)]
    expiration_date_time: Option<String>,
    #[serde(default)]
    client_state: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RenewInput {
    #[serde(default)]
    expiration_date_time: Option<String>,
    #[serde(default)]
    notification_url: Option<String>,
}

fn not_found() -> GraphError {
    GraphError::new(
        StatusCode::NOT_FOUND,
        "ResourceNotFound",
        "The object was not found.",
    )
}

fn validation_failed() -> GraphError {
    GraphError::bad_request(
        "ValidationError",
        "Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.",
    )
}

fn required(value: Option<String>, property: &str) -> Result<String, GraphError> {
    value
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| invalid(format!("The '{property}' property is required.")))
}

/// Permissions that let a token subscribe at all (which mailbox it may watch is checked per
/// resource); also what managing its subscriptions needs.
const READ_SCOPES: [&str; 7] = [
    "mail.read",
    "mail.readwrite",
    "mail.readbasic",
    "mail.readbasic.all",
    "mail.read.shared",
    "mail.readwrite.shared",
    "mail.readbasic.shared",
];

fn visible(sub: &Subscription, caller: &Caller) -> bool {
    sub.visible_to(
        caller.user.as_ref().map(|u| u.oid.as_str()),
        &caller.client_id,
        &caller.tenant_id,
    )
}

/// A `subscription` resource.
fn subscription_json(sub: &Subscription) -> Value {
    json!({
        "id": sub.id,
        "resource": sub.resource,
        "applicationId": sub.client_id,
        "changeType": sub.change_types.join(","),
        "clientState": sub.client_state,
        "notificationUrl": sub.notification_url,
        "notificationQueryOptions": Value::Null,
        "lifecycleNotificationUrl": sub.lifecycle_url,
        "expirationDateTime": timefmt::iso(sub.expires_at),
        "creatorId": sub.creator.as_deref().unwrap_or(&sub.client_id),
        "includeResourceData": false,
        "latestSupportedTlsVersion": "v1_2",
        "encryptionCertificate": Value::Null,
        "encryptionCertificateId": Value::Null,
        "notificationUrlAppId": Value::Null,
    })
}

/// One subscription as a response body: `@odata.context` first, then its properties.
fn entity(shared: &Shared, sub: &Subscription) -> Value {
    let mut body = json!({
        "@odata.context": format!("{}/$metadata#subscriptions/$entity", shared.graph_base()),
    });
    if let (Some(out), Value::Object(fields)) = (body.as_object_mut(), subscription_json(sub)) {
        out.extend(fields);
    }
    body
}

/// The caller's live subscription `id`, or 404 `ResourceNotFound`.
fn owned<'a>(
    store: &'a mut Store,
    caller: &Caller,
    id: &str,
    now: i64,
) -> Result<&'a mut Subscription, GraphError> {
    store.webhooks.prune(now);
    store
        .webhooks
        .subscriptions
        .get_mut(id)
        .filter(|s| visible(s, caller))
        .ok_or_else(not_found)
}

/// `POST /subscriptions` → 201. Both URLs are validated (without the state lock) before anything
/// is stored; a failed handshake is 400 `ValidationError` and nothing is created.
pub async fn create(
    Extension(caller): Extension<Caller>,
    State(shared): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> GraphResult {
    caller.require(&READ_SCOPES)?;
    let input: CreateInput = parse_json(&body)?;
    let change_types = rules::parse_change_types(&required(input.change_type, "changeType")?)?;
    let resource = required(input.resource, "resource")?;
    let named = rules::parse_resource(&resource)?;
    let notification_url = required(input.notification_url, "notificationUrl")?;
    rules::check_url(&notification_url, "notificationUrl")?;
    let lifecycle_url = input
        .lifecycle_notification_url
        .filter(|u| !u.trim().is_empty());
    if let Some(url) = &lifecycle_url {
        rules::check_url(url, "lifecycleNotificationUrl")?;
    }
    rules::check_client_state(input.client_state.as_deref())?;
    let expiration = required(input.expiration_date_time, "expirationDateTime")?;
    let expires_at = rules::check_expiration(&expiration, shared.now())?;
    let watched = target::open(&shared.lock(), &caller, &named.user)?
        .ok_or_else(|| target::invalid_user(&named.user))?;
    if matches!(watched.access, Access::Delegate(_)) {
        return Err(GraphError::access_denied());
    }
    watched.require(Need::ReadBasic)?;
    let oid = watched.owner.oid.clone();
    let folder_id = shared
        .lock()
        .mailbox_mut(&oid)
        .folder(&named.folder)
        .map(|f| f.id.clone())
        .ok_or_else(GraphError::not_found)?;
    for url in std::iter::once(&notification_url).chain(lifecycle_url.as_ref()) {
        if !sender::validate(&shared, url).await {
            return Err(validation_failed());
        }
    }
    let mut store = shared.lock();
    let id = store.next_guid(0x5b5c_0000);
    let sub = Subscription {
        id: id.clone(),
        oid,
        creator: caller.user.as_ref().map(|u| u.oid.clone()),
        tenant_id: caller.tenant_id.clone(),
        client_id: caller.client_id.clone(),
        resource,
        folder_id,
        change_types,
        notification_url,
        lifecycle_url,
        expires_at,
        client_state: input.client_state,
        immutable_ids: odata::wants_immutable(&headers),
        needs_reauthorization: false,
    };
    store.webhooks.subscriptions.insert(id, sub.clone());
    Ok((StatusCode::CREATED, Json(entity(&shared, &sub))).into_response())
}

/// `GET /subscriptions`: the caller's (this user and app) live subscriptions.
pub async fn list(
    Extension(caller): Extension<Caller>,
    State(shared): State<Shared>,
) -> GraphResult {
    caller.require(&READ_SCOPES)?;
    let now = shared.now();
    let mut store = shared.lock();
    store.webhooks.prune(now);
    let value: Vec<Value> = store
        .webhooks
        .subscriptions
        .values()
        .filter(|s| visible(s, &caller))
        .map(subscription_json)
        .collect();
    Ok(Json(json!({
        "@odata.context": format!("{}/$metadata#subscriptions", shared.graph_base()),
        "value": value,
    }))
    .into_response())
}

/// `GET /subscriptions/{id}`.
pub async fn get_one(
    Extension(caller): Extension<Caller>,
    State(shared): State<Shared>,
    Path(id): Path<String>,
) -> GraphResult {
    caller.require(&READ_SCOPES)?;
    let now = shared.now();
    let mut store = shared.lock();
    let sub = owned(&mut store, &caller, &id, now)?.clone();
    Ok(Json(entity(&shared, &sub)).into_response())
}

/// `PATCH /subscriptions/{id}` with `expirationDateTime` (renewal) and/or `notificationUrl`
/// (validated again) → 200 with the subscription. A renewal also answers
/// `reauthorizationRequired`.
pub async fn renew(
    Extension(caller): Extension<Caller>,
    State(shared): State<Shared>,
    Path(id): Path<String>,
    body: Bytes,
) -> GraphResult {
    caller.require(&READ_SCOPES)?;
    let input: RenewInput = parse_json(&body)?;
    if input.expiration_date_time.is_none() && input.notification_url.is_none() {
        return Err(invalid(
            "Subscription must contain either the 'expirationDateTime' or 'notificationUrl' property and its value.",
        ));
    }
    let now = shared.now();
    let expires_at = input
        .expiration_date_time
        .as_deref()
        .map(|text| rules::check_expiration(text, now))
        .transpose()?;
    owned(&mut shared.lock(), &caller, &id, now)?;
    if let Some(url) = &input.notification_url {
        rules::check_url(url, "notificationUrl")?;
        if !sender::validate(&shared, url).await {
            return Err(validation_failed());
        }
    }
    let mut store = shared.lock();
    let sub = owned(&mut store, &caller, &id, shared.now())?;
    if let Some(at) = expires_at {
        sub.expires_at = at;
        sub.needs_reauthorization = false;
    }
    if let Some(url) = input.notification_url {
        sub.notification_url = url;
    }
    let sub = sub.clone();
    Ok(Json(entity(&shared, &sub)).into_response())
}

/// `DELETE /subscriptions/{id}` → 204.
pub async fn delete(
    Extension(caller): Extension<Caller>,
    State(shared): State<Shared>,
    Path(id): Path<String>,
) -> GraphResult {
    caller.require(&READ_SCOPES)?;
    let now = shared.now();
    let mut store = shared.lock();
    owned(&mut store, &caller, &id, now)?;
    store.webhooks.subscriptions.remove(&id);
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /subscriptions/{id}/reauthorize` → 204; clears `reauthorizationRequired`.
pub async fn reauthorize(
    Extension(caller): Extension<Caller>,
    State(shared): State<Shared>,
    Path(id): Path<String>,
) -> GraphResult {
    caller.require(&READ_SCOPES)?;
    let now = shared.now();
    let mut store = shared.lock();
    owned(&mut store, &caller, &id, now)?.needs_reauthorization = false;
    Ok(StatusCode::NO_CONTENT.into_response())
}
