//! Microsoft's clouds: each has its own sign-in host and its own Graph, and
//! tokens do not cross between them (a GCC High tenant signing in at the
//! global host gets AADSTS90038; its token is refused by the global Graph).
//! A tenant email is in exactly one, chosen on its OAuth2 tab.
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Cloud {
    /// Microsoft 365 worldwide, including GCC (moderate).
    #[default]
    Global,
    /// US Government L4 (GCC High).
    UsGov,
    /// US Government L5 (DoD).
    UsDod,
    /// Microsoft 365 operated by 21Vianet in China.
    China,
}

impl Cloud {
    pub const ALL: &'static [Cloud] = &[Cloud::Global, Cloud::UsGov, Cloud::UsDod, Cloud::China];

    pub fn code(self) -> &'static str {
        match self {
            Cloud::Global => "global",
            Cloud::UsGov => "us_gov",
            Cloud::UsDod => "us_dod",
            Cloud::China => "china",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Cloud::Global => "Global (Microsoft 365, including GCC)",
            Cloud::UsGov => "US Government (GCC High)",
            Cloud::UsDod => "US Government (DoD)",
            Cloud::China => "China (operated by 21Vianet)",
        }
    }

    /// A short name for messages.
    pub fn name(self) -> &'static str {
        match self {
            Cloud::Global => "the global cloud",
            Cloud::UsGov => "GCC High",
            Cloud::UsDod => "the US DoD cloud",
            Cloud::China => "the China cloud (21Vianet)",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.code() == code)
    }

    /// Microsoft Entra sign-in hosts of this cloud (the first is the usual one).
    pub fn sign_in_hosts(self) -> &'static [&'static str] {
        match self {
            Cloud::Global => &["login.microsoftonline.com"],
            Cloud::UsGov | Cloud::UsDod => &["login.microsoftonline.us"],
            Cloud::China => &["login.partner.microsoftonline.cn", "login.chinacloudapi.cn"],
        }
    }

    /// The Graph host, which is also the resource of its scopes
    /// (`https://graph.microsoft.us/.default`, `https://graph.microsoft.us/Mail.Send`).
    pub fn graph_host(self) -> &'static str {
        match self {
            Cloud::Global => "graph.microsoft.com",
            Cloud::UsGov => "graph.microsoft.us",
            Cloud::UsDod => "dod-graph.microsoft.us",
            Cloud::China => "microsoftgraph.chinacloudapi.cn",
        }
    }

    /// `https://{graph host}`: the resource of app-only (`/.default`) and
    /// fully written delegated scopes.
    pub fn graph_resource(self) -> String {
        format!("https://{}", self.graph_host())
    }

    /// `https://{graph host}/v1.0`.
    pub fn graph_base_url(self) -> String {
        format!("https://{}/v1.0", self.graph_host())
    }

    /// The usual authority for a tenant in this cloud.
    pub fn authority_for_tenant(self, tenant: &str) -> String {
        format!("https://{}/{}", self.sign_in_hosts()[0], tenant.trim())
    }

    /// The cloud whose sign-in host this is (US Government and DoD share one:
    /// `UsGov` is returned for it).
    pub fn of_sign_in_host(host: &str) -> Option<Cloud> {
        let host = host.to_ascii_lowercase();
        Self::ALL
            .iter()
            .copied()
            .find(|c| c.sign_in_hosts().contains(&host.as_str()))
    }

    /// The cloud whose Graph this host is.
    pub fn of_graph_host(host: &str) -> Option<Cloud> {
        let host = host.to_ascii_lowercase();
        Self::ALL.iter().copied().find(|c| c.graph_host() == host)
    }
}

/// A test deployment's stand-in for one cloud: its sign-in and Graph both
/// answer on this loopback `host:port` (set by server configuration).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloudStandIn {
    pub cloud: Cloud,
    pub host: String,
}
