//! Web security applied to every response: security headers with a per-response
//! CSP nonce (`headers`), and the same-origin rule for state-changing requests
//! (`csrf`). Both are layers on the whole router, so pages, server functions,
//! the OAuth routes, health checks, static files and the 404 fallback are covered
//! without each handler having to remember.
pub mod body_limit;
pub mod client_ip;
pub mod csrf;
pub mod headers;
pub mod panics;

use crate::config::Config;
use app::model::authority::MICROSOFT_SIGN_IN_HOSTS;
use std::sync::Arc;

/// What the layers need to know about the deployment; built once at start-up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecurityPolicy {
    /// `scheme://host[:port]` of the public URL: the only origin allowed to
    /// send state-changing requests.
    pub origin: String,
    /// HSTS is only sent over https (browsers ignore it on http, and a loopback
    /// http deployment must not pin itself to https).
    pub https: bool,
    /// Sources for CSP `form-action`. Besides 'self' this lists the sign-in hosts,
    /// because POST /core/oauth2/begin answers 303 to Microsoft's authorize
    /// endpoint and Chromium applies form-action to every hop of that redirect.
    pub form_action: Vec<String>,
    /// Path prefix of the build's static assets (cacheable, unlike pages).
    pub static_prefix: String,
}

impl SecurityPolicy {
    pub fn from_config(config: &Config) -> Self {
        let parsed = url::Url::parse(&config.public_url).ok();
        let origin = parsed
            .as_ref()
            .map(|u| u.origin().ascii_serialization())
            // `Config::load` validated the URL, so this is only a safe default.
            .unwrap_or_else(|| config.public_url.trim_end_matches('/').to_string());
        let https = parsed.as_ref().is_some_and(|u| u.scheme() == "https");
        let mut form_action = vec!["'self'".to_string()];
        form_action.extend(
            MICROSOFT_SIGN_IN_HOSTS
                .iter()
                .map(|h| format!("https://{h}")),
        );
        for extra in &config.stand_in_sign_in_hosts() {
            // Mirrors the authority rule: http is accepted only for a loopback
            // stand-in. A CSP `http://` source also matches the https upgrade.
            let scheme = if is_loopback(extra) { "http" } else { "https" };
            form_action.push(format!("{scheme}://{}", extra.to_ascii_lowercase()));
        }
        Self {
            origin,
            https,
            form_action,
            static_prefix: "/pkg/".to_string(),
        }
    }

    /// Uses the Leptos build's `site_pkg_dir` for the static-asset prefix.
    pub fn with_static_dir(mut self, site_pkg_dir: &str) -> Self {
        let dir = site_pkg_dir.trim_matches('/');
        if !dir.is_empty() {
            self.static_prefix = format!("/{dir}/");
        }
        self
    }

    /// The Content-Security-Policy for one response.
    pub fn csp(&self, nonce: &CspNonce) -> String {
        let n = nonce.as_str();
        format!(
            "default-src 'self'; \
             script-src 'self' 'nonce-{n}' 'wasm-unsafe-eval'; \
             style-src 'self' 'nonce-{n}'; \
             img-src 'self' data:; \
             connect-src 'self'; \
             font-src 'self'; \
             object-src 'none'; \
             base-uri 'none'; \
             frame-ancestors 'none'; \
             form-action {}",
            self.form_action.join(" ")
        )
    }
}

/// `host[:port]` names a loopback host (IPv6 in brackets).
fn is_loopback(host_port: &str) -> bool {
    let host = match host_port.rsplit_once(':') {
        Some((h, port)) if !h.is_empty() && port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => host_port,
    };
    matches!(
        host.to_ascii_lowercase().as_str(),
        "localhost" | "127.0.0.1" | "[::1]"
    )
}

/// The nonce of one response: in the CSP header and on every `<script>` and
/// `<style>` we render. Put into the request's extensions by the headers layer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CspNonce(Arc<str>);

impl CspNonce {
    /// 16 random bytes (128 bits), base64url: unguessable per response.
    pub fn random() -> Self {
        use base64::Engine as _;
        use rand::RngCore as _;
        let mut bytes = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut bytes);
        Self(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(bytes)
                .into(),
        )
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn as_arc(&self) -> Arc<str> {
        self.0.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Cli;

    fn policy(public_url: &str, extra: Option<&str>) -> SecurityPolicy {
        let config = Config::load(Cli {
            public_url: Some(public_url.into()),
            extra_authority_host: extra.map(Into::into),
            ..Cli::default()
        })
        .unwrap();
        SecurityPolicy::from_config(&config)
    }

    #[test]
    fn origin_scheme_and_form_action() {
        let p = policy(
            "https://Mail.Example.com:8443/tm/",
            Some("login.example.net"),
        );
        assert_eq!(p.origin, "https://mail.example.com:8443");
        assert!(p.https);
        assert_eq!(
            p.form_action,
            [
                "'self'",
                "https://login.microsoftonline.com",
                "https://login.microsoftonline.us",
                "https://login.partner.microsoftonline.cn",
                "https://login.chinacloudapi.cn",
                "https://login.example.net",
            ]
        );
        let p = policy("http://localhost:3000", Some("127.0.0.1:5001"));
        assert_eq!(p.origin, "http://localhost:3000");
        assert!(!p.https);
        assert_eq!(p.form_action.last().unwrap(), "http://127.0.0.1:5001");
        assert_eq!(policy("https://a.example", None).form_action.len(), 5);
    }

    #[test]
    fn loopback_hosts() {
        for h in [
            "127.0.0.1:5001",
            "localhost",
            "LOCALHOST:1",
            "[::1]:8080",
            "[::1]",
        ] {
            assert!(is_loopback(h), "{h}");
        }
        for h in ["login.example.net", "127.0.0.2:1", "localhost.evil.example"] {
            assert!(!is_loopback(h), "{h}");
        }
    }

    #[test]
    fn nonces_are_fresh_and_csp_safe() {
        let a = CspNonce::random();
        let b = CspNonce::random();
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 22);
        assert!(a
            .as_str()
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }
}
