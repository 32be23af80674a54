//! What the rest of the server asks the configuration about Microsoft:
//! each cloud's Graph, and which sign-in hosts a tenant email may use.
use super::clouds::GraphHosts;
use super::Config;
use app::model::authority::AuthorityPolicy;

impl Config {
    pub fn graph_hosts(&self) -> GraphHosts {
        GraphHosts::new(self.graph_base_url.clone(), self.cloud_stand_ins.clone())
    }

    /// Which authority hosts a tenant email may use (checked in the browser
    /// and again on the server).
    pub fn authority_policy(&self) -> AuthorityPolicy {
        AuthorityPolicy {
            extra_host: self.extra_authority_host.clone(),
            cloud_stand_ins: self.cloud_stand_ins.clone(),
        }
    }

    /// Every stand-in sign-in host (the browser may be sent there).
    pub fn stand_in_sign_in_hosts(&self) -> Vec<String> {
        self.extra_authority_host
            .iter()
            .cloned()
            .chain(self.cloud_stand_ins.iter().map(|s| s.host.clone()))
            .collect()
    }
}
