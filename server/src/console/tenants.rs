//! Tenants for the admin console.
use super::errors::not_found;
use super::Console;
use crate::db::tenants::Tenant;
use crate::db::Saved;
use app::model::tenant_email::TenantEmailSummary;
use app::model::{TenantDetail, TenantSummary};
use app::port::{Actor, PortError, TenantPort};

const STALE: &str = "Someone else changed this tenant since you opened it. Reload and try again.";

impl Console {
    /// The tenant with its mailboxes.
    async fn detail(&self, t: Tenant) -> Result<TenantDetail, PortError> {
        let emails = self.store.tenant_emails().of_tenant(&t.id).await?;
        Ok(TenantDetail {
            id: t.id,
            name: t.name,
            version: t.version,
            emails: emails
                .into_iter()
                .map(|e| TenantEmailSummary {
                    account_type: e.settings.account_type,
                    direction: e.settings.direction,
                    status: e.status,
                    id: e.id,
                    address: e.settings.address,
                })
                .collect(),
        })
    }
}

#[async_trait::async_trait]
impl TenantPort for Console {
    async fn list_tenants(&self) -> Result<Vec<TenantSummary>, PortError> {
        // Oldest first: the first problem seen per tenant is what to fix first.
        let mut attention: std::collections::HashMap<String, (String, u32)> =
            std::collections::HashMap::new();
        for a in self.store.alerts().attention().await? {
            attention
                .entry(a.tenant_id)
                .and_modify(|(_, n)| *n += 1)
                .or_insert((a.state.title, 1));
        }
        Ok(self
            .store
            .tenants()
            .list()
            .await?
            .into_iter()
            .map(|l| {
                let (first, problems) = attention
                    .remove(&l.tenant.id)
                    .map_or((None, 0), |(t, n)| (Some(t), n));
                TenantSummary {
                    id: l.tenant.id,
                    name: l.tenant.name,
                    email_count: l.email_count,
                    worst_status: l.worst_status,
                    attention: first,
                    problems,
                }
            })
            .collect())
    }

    async fn create_tenant(&self, actor: &Actor, name: &str) -> Result<TenantSummary, PortError> {
        let t = self.store.tenants().create(actor, name).await?;
        Ok(TenantSummary {
            id: t.id,
            name: t.name,
            email_count: 0,
            worst_status: None,
            attention: None,
            problems: 0,
        })
    }

    async fn get_tenant(&self, tenant_id: &str) -> Result<TenantDetail, PortError> {
        match self.store.tenants().get(tenant_id).await? {
            Some(t) => self.detail(t).await,
            None => Err(not_found("tenant")),
        }
    }

    async fn rename_tenant(
        &self,
        actor: &Actor,
        tenant_id: &str,
        expected_version: i32,
        name: &str,
    ) -> Result<TenantDetail, PortError> {
        let renamed = self
            .store
            .tenants()
            .rename(actor, tenant_id, expected_version, name)
            .await?;
        match renamed {
            Saved::Done(t) => self.detail(t).await,
            Saved::Stale | Saved::Duplicate => Err(PortError::Conflict(STALE.into())),
            Saved::Missing => Err(not_found("tenant")),
        }
    }

    async fn delete_tenant(&self, actor: &Actor, tenant_id: &str) -> Result<(), PortError> {
        match self.store.tenants().delete(actor, tenant_id).await? {
            Saved::Done(()) => Ok(()),
            _ => Err(not_found("tenant")),
        }
    }
}
