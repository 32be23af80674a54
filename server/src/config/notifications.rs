//! Near-instant arrival's endpoint: where Microsoft posts change
//! notifications, and whether this deployment can receive them at all.
use super::Config;

/// Where Microsoft posts change notifications (near-instant arrival): no
/// admin session, no browser CSRF check; each notification proves itself
/// with its subscription's `clientState`.
pub const NOTIFICATIONS_PATH: &str = "/core/graph/notifications";
pub fn is_graph_notifications(path: &str) -> bool {
    path == NOTIFICATIONS_PATH
}

impl Config {
    /// The change-notification URL, or why there can be none: Microsoft posts
    /// only to https. Plain http is allowed only when Tenant Mail and Graph
    /// are both on loopback (the stand-in: nothing outside can reach either).
    pub fn notification_url(&self) -> Result<String, String> {
        let url = format!("{}{NOTIFICATIONS_PATH}", self.public_url);
        let loopback = |u: &str| {
            url::Url::parse(u)
                .ok()
                .is_some_and(|u| matches!(u.host_str(), Some("127.0.0.1" | "localhost" | "[::1]")))
        };
        if self.public_url.starts_with("https://")
            || (loopback(&self.public_url) && loopback(&self.graph_base_url))
        {
            Ok(url)
        } else {
            Err(format!(
                "Near-instant arrival needs Tenant Mail's public URL to be https: Microsoft sends notifications only to https addresses (public_url is {}).",
                self.public_url
            ))
        }
    }
}
