//! Reading the audit log (it is written by the backend, never through here).
use crate::model::admin::{AuditFilter, AuditPage};
use crate::model::ApiError;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

/// Entries per page of the Audit log screen.
pub const AUDIT_PAGE_SIZE: u64 = 50;

#[server(prefix = "/api", endpoint = "list_audit", input = Json)]
pub async fn list_audit(filter: AuditFilter) -> Result<AuditPage, ApiError> {
    let backend = super::backend()?;
    backend
        .list_audit(&filter, AUDIT_PAGE_SIZE)
        .await
        .map_err(super::port)
}
