//! Facts about this installation that every page may show.
use crate::model::ApiError;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallationInfo {
    /// Set when Microsoft is replaced by a local stand-in (tests, demo mode):
    /// the UI says so plainly, so nobody mistakes it for a real connection.
    pub stand_in_host: Option<String>,
    /// The signed-in admin's username; `None` on the sign-in and setup pages.
    pub signed_in_as: Option<String>,
}

#[server(prefix = "/api", endpoint = "app_info", input = Json)]
pub async fn app_info() -> Result<InstallationInfo, ApiError> {
    // Public (the sign-in page shows the demo banner too), so it reveals only
    // the stand-in host and who is asking.
    let backend = super::public_backend()?;
    let actor = super::actor();
    Ok(InstallationInfo {
        stand_in_host: backend.editor_context().authority_policy.extra_host,
        signed_in_as: actor.admin_id.as_ref().map(|_| actor.username.clone()),
    })
}
