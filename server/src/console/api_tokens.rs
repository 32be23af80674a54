//! Host-API tokens for the admin console. The plaintext token exists only in
//! `create`'s answer; storage keeps its hash.
use super::errors::not_found;
use super::Console;
use crate::auth::api_token;
use crate::db::api_tokens::{ApiToken, NewToken};
use crate::db::Saved;
use app::model::api_token::{ApiTokenView, CreatedApiToken};
use app::port::{Actor, ApiTokenPort, PortError};
use chrono::{DateTime, SecondsFormat, Utc};

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn view(m: ApiToken) -> ApiTokenView {
    ApiTokenView {
        id: m.id,
        name: m.name,
        prefix: m.prefix,
        created_at: rfc3339(m.created_at),
        created_by: m.created_by,
        last_used_at: m.last_used_at.map(rfc3339),
        revoked_at: m.revoked_at.map(rfc3339),
    }
}

#[async_trait::async_trait]
impl ApiTokenPort for Console {
    async fn list_api_tokens(&self, tenant_id: &str) -> Result<Vec<ApiTokenView>, PortError> {
        if self.store.tenants().get(tenant_id).await?.is_none() {
            return Err(not_found("tenant"));
        }
        Ok(self
            .store
            .api_tokens()
            .of_tenant(tenant_id)
            .await?
            .into_iter()
            .map(view)
            .collect())
    }

    async fn create_api_token(
        &self,
        actor: &Actor,
        tenant_id: &str,
        name: &str,
    ) -> Result<CreatedApiToken, PortError> {
        let secret = api_token::generate();
        let new = NewToken {
            name,
            hash: api_token::hash(&secret),
            prefix: api_token::display_prefix(&secret),
        };
        match self
            .store
            .api_tokens()
            .create(actor, tenant_id, new)
            .await?
        {
            Saved::Done(token) => Ok(CreatedApiToken {
                token: view(token),
                secret,
            }),
            _ => Err(not_found("tenant")),
        }
    }

    async fn revoke_api_token(
        &self,
        actor: &Actor,
        tenant_id: &str,
        token_id: &str,
    ) -> Result<ApiTokenView, PortError> {
        match self
            .store
            .api_tokens()
            .revoke(actor, tenant_id, token_id)
            .await?
        {
            Saved::Done(token) => Ok(view(token)),
            Saved::Stale | Saved::Duplicate => Err(PortError::Conflict(
                "This token was revoked by someone else meanwhile. Reload the list.".into(),
            )),
            Saved::Missing => Err(not_found("API token")),
        }
    }
}
