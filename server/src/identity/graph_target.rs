//! Where a mailbox's Graph calls go: the Graph of the mailbox's cloud, and
//! the mailbox in it. It travels with the access token, so a token is only
//! ever sent to its own cloud's Graph.
use url::Url;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphTarget {
    /// e.g. `https://graph.microsoft.us/v1.0`, without a trailing slash.
    pub base: Url,
    /// `/users/{user}/…` instead of `/me/…`: a mailbox other than the
    /// signed-in account's own. `None`: `/me`.
    pub user: Option<String>,
}

impl GraphTarget {
    /// The signed-in account's own mailbox on the Graph at `base_url`
    /// (http(s), no query: checked again here because it builds every URL).
    pub fn me(base_url: &str) -> Result<Self, String> {
        let base = Url::parse(base_url.trim_end_matches('/'))
            .ok()
            .filter(|u| matches!(u.scheme(), "https" | "http") && u.query().is_none())
            .ok_or_else(|| format!("the Graph base URL {base_url:?} is not an http(s) URL"))?;
        Ok(Self { base, user: None })
    }

    /// Whether `link` (a `@odata.nextLink` or stored delta link) points at
    /// this Graph: the same scheme, host and port, under the base path.
    pub fn owns(&self, link: &Url) -> bool {
        link.scheme() == self.base.scheme()
            && link.host_str() == self.base.host_str()
            && link.port_or_known_default() == self.base.port_or_known_default()
            && link.path().starts_with(self.base.path())
    }

    /// The path segments that name the mailbox: `["me"]` or `["users", user]`.
    pub fn mailbox_segments(&self) -> Vec<&str> {
        match &self.user {
            None => vec!["me"],
            Some(user) => vec!["users", user.as_str()],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owns_only_links_under_its_own_graph() {
        let t = GraphTarget::me("https://graph.microsoft.us/v1.0/").unwrap();
        let link = |s: &str| Url::parse(s).unwrap();
        assert!(t.owns(&link(
            "https://graph.microsoft.us/v1.0/me/messages/delta?x=1"
        )));
        assert!(!t.owns(&link("https://graph.microsoft.com/v1.0/me/messages")));
        assert!(!t.owns(&link("http://graph.microsoft.us/v1.0/me")));
        assert!(!t.owns(&link("https://graph.microsoft.us:8443/v1.0/me")));
        assert!(!t.owns(&link("https://graph.microsoft.us/beta/me")));
        assert!(GraphTarget::me("ftp://graph.microsoft.us").is_err());
        assert!(GraphTarget::me("https://graph.microsoft.us/v1.0?x=1").is_err());
        assert_eq!(t.mailbox_segments(), ["me"]);
    }
}
