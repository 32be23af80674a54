//! `GET {graph}/me` with the new access token: who the mailbox really is.
use super::discovery::error_kind;
use super::errors::Failure;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Me {
    pub id: String,
    #[serde(default)]
    pub mail: Option<String>,
    #[serde(default)]
    pub user_principal_name: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    /// Exchange's addresses of the mailbox (`SMTP:primary`, `smtp:alias`).
    #[serde(default)]
    pub proxy_addresses: Vec<String>,
}

impl Me {
    /// Whether `address` is one of the mailbox's own addresses.
    pub fn owns_address(&self, address: &str) -> bool {
        self.proxy_addresses.iter().any(|p| {
            p.split_once(':').is_some_and(|(kind, a)| {
                kind.eq_ignore_ascii_case("smtp") && a.trim().eq_ignore_ascii_case(address.trim())
            })
        })
    }
}

#[derive(Deserialize)]
struct GraphErrorBody {
    error: GraphError,
}

#[derive(Deserialize)]
struct GraphError {
    #[serde(default)]
    code: String,
}

const MAX_BODY: usize = 256 * 1024;

pub async fn me(
    http: &reqwest::Client,
    graph_base: &str,
    access_token: &str,
) -> Result<Me, Failure> {
    // proxyAddresses comes only when asked for.
    let url = format!(
        "{}/me?$select=id,mail,userPrincipalName,displayName,proxyAddresses",
        graph_base.trim_end_matches('/')
    );
    let response = http
        .get(&url)
        .bearer_auth(access_token)
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| {
            Failure::Unreachable(format!(
                "Microsoft Graph ({url}) could not be reached ({}).",
                error_kind(&e)
            ))
        })?;
    let status = response.status();
    let bytes = match crate::capped::read(response, MAX_BODY).await {
        Ok(bytes) => bytes,
        Err(crate::capped::ReadError::TooLarge { .. }) => {
            return Err(Failure::Graph(
                "Microsoft Graph's answer to GET /me is too large.".into(),
            ))
        }
        Err(crate::capped::ReadError::Read(e)) => {
            return Err(Failure::Unreachable(format!(
                "Microsoft Graph ({url}) did not answer completely ({}).",
                error_kind(&e)
            )))
        }
    };
    if !status.is_success() {
        let code = serde_json::from_slice::<GraphErrorBody>(&bytes)
            .map(|b| b.error.code)
            .unwrap_or_default();
        tracing::warn!(status = status.as_u16(), %code, "GET /me failed");
        let hint = match (status.as_u16(), code.as_str()) {
            (403, _) => " Add the User.Read permission to the scopes and the app registration.",
            (401, _) => " The new access token was not accepted; check that the authority and Graph belong to the same cloud.",
            _ => "",
        };
        return Err(Failure::Graph(format!(
            "GET /me answered HTTP {} {code}.{hint}",
            status.as_u16()
        )));
    }
    serde_json::from_slice(&bytes)
        .map_err(|_| Failure::Graph("Microsoft Graph's answer to GET /me has no user id.".into()))
}

#[derive(Deserialize)]
struct Organizations {
    #[serde(default)]
    value: Vec<Organization>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Organization {
    #[serde(default)]
    id: String,
    #[serde(default)]
    display_name: Option<String>,
}

/// The display name of the signed-in user's organisation (`GET /organization`,
/// which `User.Read` allows), so the Connection panel can say which tenant a
/// mailbox belongs to. Best effort: the connection does not depend on it, so
/// any failure is logged and answered with `None`.
pub async fn tenant_name(
    http: &reqwest::Client,
    graph_base: &str,
    access_token: &str,
    tid: &str,
) -> Option<String> {
    let url = format!(
        "{}/organization?$select=id,displayName",
        graph_base.trim_end_matches('/')
    );
    let response = match http
        .get(&url)
        .bearer_auth(access_token)
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
    {
        Ok(r) if r.status().is_success() => r,
        Ok(r) => {
            tracing::info!(
                status = r.status().as_u16(),
                "GET /organization refused; the tenant name is not shown"
            );
            return None;
        }
        Err(e) => {
            tracing::info!(error = %error_kind(&e), "GET /organization failed; the tenant name is not shown");
            return None;
        }
    };
    let bytes = crate::capped::read(response, MAX_BODY).await.ok()?;
    let organizations: Organizations = serde_json::from_slice(&bytes).ok()?;
    organizations
        .value
        .into_iter()
        .find(|o| o.id.eq_ignore_ascii_case(tid))
        .and_then(|o| o.display_name)
        .map(|name| name.trim().chars().take(256).collect::<String>())
        .filter(|name| !name.is_empty())
}
