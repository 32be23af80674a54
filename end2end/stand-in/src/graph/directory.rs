//! `GET /organization`: the token's tenant, as Graph lists it
//! (a collection holding the one organisation, `User.Read` is enough).
use super::Caller;
use crate::errors::GraphError;
use crate::state::Shared;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::{json, Map, Value};

pub async fn organization(
    Extension(caller): Extension<Caller>,
    State(shared): State<Shared>,
    RawQuery(query): RawQuery,
) -> Result<Response, GraphError> {
    caller.require(&[
        "user.read",
        "user.read.all",
        "directory.read.all",
        "organization.read.all",
    ])?;
    let tenant = shared
        .lock()
        .tenants
        .iter()
        .find(|t| t.id == caller.tenant_id)
        .cloned();
    let Some(tenant) = tenant else {
        return Ok(Json(json!({ "value": [] })).into_response());
    };
    let all = json!({
        "id": tenant.id,
        "displayName": tenant.display_name,
        "verifiedDomains": tenant.domains.iter().map(|d| json!({
            "name": d, "isDefault": false, "isInitial": d.ends_with(".onmicrosoft.com"), "type": "Managed"
        })).collect::<Vec<_>>(),
    });
    // `$select` narrows the properties, as Graph does.
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
    let mut out = Map::new();
    for (key, value) in all.as_object().into_iter().flatten() {
        if selected
            .as_ref()
            .is_none_or(|names| names.contains(&key.to_ascii_lowercase()))
        {
            out.insert(key.clone(), value.clone());
        }
    }
    Ok(Json(json!({
        "@odata.context": format!("{}/$metadata#organization", shared.graph_base()),
        "value": [Value::Object(out)],
    }))
    .into_response())
}
