//! Where each Microsoft cloud answers. Production uses Microsoft's hosts
//! (`app::model::Cloud`); a test deployment may put a stand-in on loopback
//! for any cloud: `graph_base_url` and `extra_authority_host` for the global
//! one, `cloud_stand_ins` (`us_gov=127.0.0.1:5002,china=127.0.0.1:5003`) for
//! the others, each serving both sign-in and Graph on its `host:port`.
use app::model::cloud::{Cloud, CloudStandIn};

/// `cloud=host:port` pairs, loopback only (a stand-in is never on the network).
pub(super) fn parse_stand_ins(value: Option<&str>) -> Result<Vec<CloudStandIn>, String> {
    let mut out: Vec<CloudStandIn> = Vec::new();
    for pair in value.unwrap_or_default().split(',').map(str::trim) {
        if pair.is_empty() {
            continue;
        }
        let err = |why: &str| format!("{pair:?}: {why}");
        let (code, host) = pair
            .split_once('=')
            .ok_or_else(|| err("write cloud=host:port, e.g. us_gov=127.0.0.1:5002"))?;
        let cloud = Cloud::from_code(code.trim())
            .filter(|c| *c != Cloud::Global)
            .ok_or_else(|| err("the cloud is one of us_gov, us_dod, china (the global stand-in is extra_authority_host and graph_base_url)"))?;
        let host = host.trim().to_ascii_lowercase();
        let name = host.rsplit_once(':').map_or(host.as_str(), |(h, _)| h);
        if !matches!(name, "127.0.0.1" | "localhost" | "[::1]")
            || host.contains(['/', '@', '?', '#'])
        {
            return Err(err("a stand-in is a loopback host:port"));
        }
        if out.iter().any(|s| s.cloud == cloud) {
            return Err(err("this cloud is given twice"));
        }
        out.push(CloudStandIn { cloud, host });
    }
    Ok(out)
}

/// Each cloud's Graph as this deployment reaches it.
#[derive(Debug, Clone)]
pub struct GraphHosts {
    global: String,
    stand_ins: Vec<CloudStandIn>,
}

impl GraphHosts {
    pub fn new(global: String, stand_ins: Vec<CloudStandIn>) -> Self {
        Self { global, stand_ins }
    }

    /// The Graph base URL of a mailbox in `cloud`, without a trailing slash.
    pub fn base_url(&self, cloud: Cloud) -> String {
        if cloud == Cloud::Global {
            return self.global.clone();
        }
        match self.stand_ins.iter().find(|s| s.cloud == cloud) {
            Some(s) => format!("http://{}/v1.0", s.host),
            None => cloud.graph_base_url(),
        }
    }

    /// The resource of app-only scopes (`{resource}/.default`) in `cloud`.
    pub fn resource(&self, cloud: Cloud) -> String {
        match url::Url::parse(&self.base_url(cloud)) {
            Ok(u) => u.origin().ascii_serialization(),
            Err(_) => cloud.graph_resource(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stand_ins_are_loopback_pairs_of_known_clouds() {
        let ok = parse_stand_ins(Some("us_gov=127.0.0.1:5002, china=LOCALHOST:5003")).unwrap();
        assert_eq!(ok.len(), 2);
        assert_eq!(ok[1].host, "localhost:5003");
        assert!(parse_stand_ins(None).unwrap().is_empty());
        for bad in [
            "us_gov",
            "mars=127.0.0.1:1",
            "global=127.0.0.1:1",
            "us_gov=login.microsoftonline.us",
            "us_gov=127.0.0.1:1,us_gov=127.0.0.1:2",
            "china=127.0.0.1:1/x",
        ] {
            assert!(parse_stand_ins(Some(bad)).is_err(), "{bad}");
        }
    }
}
