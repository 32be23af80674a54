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
}

#[server(prefix = "/api", endpoint = "app_info", input = Json)]
pub async fn app_info() -> Result<InstallationInfo, ApiError> {
    let backend = super::backend()?;
    Ok(InstallationInfo {
        stand_in_host: backend.editor_context().authority_policy.extra_host,
    })
}
