//! Connecting a tenant email to its Microsoft 365 mailbox: the OAuth2
//! authorization code flow with PKCE (RFC 6749, RFC 7636, RFC 9700) and
//! OpenID Connect, bound to the configured mailbox.
//!
//! - [`begin`]: a flow row (state, sealed PKCE verifier, nonce, snapshot of the
//!   authority, endpoints, client id, redirect URI) + a browser-binding cookie;
//!   answers the authorize URL.
//! - [`callback`]: strict parsing of `/core/oauth2/validated`, the flow consumed
//!   on first use, then code exchange ([`exchange`]), id_token validation
//!   ([`id_token`]), `GET /me` ([`me`]), the identity guard ([`guard`]), and
//!   the connection stored in one storage transaction ([`connect`]).
//! - [`refresh`]: `Identity::access_token` (cached, single-flight refresh,
//!   rotation stored, errors classified) and the keep-alive.
//! - [`client`]: the HTTP and `oauth2` clients every call to Microsoft uses;
//!   [`token_http`] reads token answers under a size cap.
//!
//! Storage is `db::flows` and `db::connections`; this module speaks the
//! protocol only. Errors ([`errors`]) carry what the admin sees; internal
//! ones are logged with a reference id. Nothing here logs a token, code,
//! state, verifier or secret.
pub mod admin_consent;
pub mod app_access;
pub mod begin;
pub mod callback;
pub mod certificate;
pub mod client;
pub mod connect;
pub mod credential;
pub mod discovery;
pub mod doctor;
pub mod errors;
pub mod exchange;
pub mod graph_target;
pub mod guard;
pub mod id_token;
pub mod me;
pub mod refresh;
pub mod rotation;
pub mod token_http;

use crate::config::{Config, GraphHosts};
use crate::db::Store;
use app::model::authority::AuthorityPolicy;
use std::sync::Arc;

pub use begin::{BeginOptions, Begun};
pub use callback::Connected;
pub use client::BuildError;
pub use errors::Failure;
pub use refresh::{AccessToken, TokenError};

/// How long a flow may take from "Click to Authenticate" to the callback.
pub const FLOW_LIFETIME_SECONDS: i64 = 600;
/// Clock skew accepted on id_token times.
pub const LEEWAY_SECONDS: i64 = 120;
/// Prefix of the flow cookie; the rest of its name comes from the state, so
/// two flows in two tabs do not overwrite each other.
pub const COOKIE_PREFIX: &str = "tm_oauth_";
/// On plain-http loopback (development, tests) the cookie is only sent to the
/// OAuth routes. Over https it is a `__Host-` cookie, which must use `/`: the
/// prefix makes the browser refuse a copy planted by a sibling subdomain.
pub const COOKIE_PATH: &str = "/core/oauth2/";
pub const HOST_COOKIE_PATH: &str = "/";

/// Everything the flow needs; cheap to clone.
#[derive(Clone)]
pub struct Identity {
    pub(crate) store: Store,
    /// Redirects disabled, timeouts set: used for every call to Microsoft.
    pub(crate) http: reqwest::Client,
    pub(crate) redirect_uri: String,
    pub(crate) public_url: String,
    /// Each cloud's Graph (Microsoft's, or a configured stand-in).
    pub(crate) graph_hosts: GraphHosts,
    pub(crate) authority_policy: AuthorityPolicy,
    /// One mutex per mailbox: in-process single flight of token refreshes.
    pub(crate) refresh_locks: RefreshLocks,
}

type RefreshLocks =
    Arc<std::sync::Mutex<std::collections::HashMap<String, Arc<tokio::sync::Mutex<()>>>>>;

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("redirect_uri", &self.redirect_uri)
            .field("graph_hosts", &self.graph_hosts)
            .finish_non_exhaustive()
    }
}

impl Identity {
    pub fn new(store: Store, config: &Config) -> Result<Self, BuildError> {
        Ok(Self {
            store,
            http: client::http()?,
            redirect_uri: config.redirect_uri(),
            public_url: config.public_url.clone(),
            graph_hosts: config.graph_hosts(),
            authority_policy: config.authority_policy(),
            refresh_locks: RefreshLocks::default(),
        })
    }

    /// Where the mailbox with these settings is reached in Graph.
    pub fn graph_target(
        &self,
        settings: &crate::db::tenant_emails::MailboxSettings,
    ) -> Result<graph_target::GraphTarget, String> {
        let mut target = graph_target::GraphTarget::me(&self.graph_hosts.base_url(settings.cloud))?;
        // An application has no `/me`: it names the mailbox.
        if settings.account_type.names_mailbox() {
            target.user = Some(settings.address.clone());
        }
        Ok(target)
    }

    /// The mailbox's cloud and its Graph base URL: which Graph may see the
    /// tokens of a sign-in for it.
    pub(crate) async fn graph_of(
        &self,
        email_id: &str,
    ) -> Result<(app::model::Cloud, String), crate::db::StoreError> {
        let cloud = self
            .store
            .tenant_emails()
            .get(email_id)
            .await?
            .map(|e| e.settings.cloud)
            .unwrap_or_default();
        Ok((cloud, self.graph_hosts.base_url(cloud)))
    }

    /// The redirect URI, byte-identical in authorize and token requests.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// `Secure` is left off only for plain-http loopback public URLs.
    pub fn secure_cookies(&self) -> bool {
        !(self.public_url.starts_with("http://localhost")
            || self.public_url.starts_with("http://127.0.0.1")
            || self.public_url.starts_with("http://[::1]"))
    }

    /// The public URL's origin (scheme://host[:port]), for the Origin check.
    pub fn public_origin(&self) -> String {
        match url::Url::parse(&self.public_url) {
            Ok(u) => u.origin().ascii_serialization(),
            Err(_) => self.public_url.clone(),
        }
    }
}

pub(crate) use crate::hashing::sha256_hex;

/// `count` random bytes, base64url without padding.
pub(crate) fn random_token(count: usize) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = vec![0u8; count];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Constant-time equality for secrets compared against stored values.
pub(crate) fn same(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// Name of the cookie that binds the flow with this state hash to a browser.
pub fn cookie_name(state_hash: &str, secure: bool) -> String {
    let short: String = state_hash.chars().take(16).collect();
    let host = if secure { "__Host-" } else { "" };
    format!("{host}{COOKIE_PREFIX}{short}")
}

#[cfg(test)]
mod cookie_tests {
    use super::cookie_name;

    #[test]
    fn flow_cookies_are_host_cookies_over_https() {
        let hash = "0123456789abcdef0123456789abcdef";
        assert_eq!(cookie_name(hash, true), "__Host-tm_oauth_0123456789abcdef");
        assert_eq!(cookie_name(hash, false), "tm_oauth_0123456789abcdef");
    }
}
