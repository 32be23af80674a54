//! Tenants as the admin console shows them.
use super::tenant_email::{ConnectionStatus, TenantEmailSummary};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantSummary {
    pub id: String,
    pub name: String,
    pub email_count: u32,
    /// The worst status among its tenant emails; `None` when it has none.
    pub worst_status: Option<ConnectionStatus>,
    /// What needs attention first in this tenant (its oldest raised alert),
    /// and how many problems it has in all.
    #[serde(default)]
    pub attention: Option<String>,
    #[serde(default)]
    pub problems: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantDetail {
    pub id: String,
    pub name: String,
    pub version: i32,
    pub emails: Vec<TenantEmailSummary>,
}
