//! Security headers on every response. Handlers may set their own value for any
//! of these (it is kept) except Content-Security-Policy, which is always ours:
//! its nonce must match the one rendered into the page.
use super::{CspNonce, SecurityPolicy};
use axum::extract::{Request, State};
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;

/// Headers whose value does not depend on the request.
const FIXED: &[(HeaderName, &str)] = &[
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    // The OAuth callback URL carries an authorization code: never leak URLs.
    (header::REFERRER_POLICY, "no-referrer"),
    (header::X_FRAME_OPTIONS, "DENY"),
];

const HSTS: &str = "max-age=31536000; includeSubDomains";

/// Layer body: gives the request a fresh nonce, then stamps the response.
pub async fn apply(
    State(policy): State<SecurityPolicy>,
    mut request: Request,
    next: Next,
) -> Response {
    let nonce = CspNonce::random();
    request.extensions_mut().insert(nonce.clone());
    let is_static = request.uri().path().starts_with(&policy.static_prefix);
    let mut response = next.run(request).await;
    // Only a real asset may be cached: a 404 under the prefix is a page.
    let status = response.status();
    let cacheable = is_static && (status.is_success() || status == StatusCode::NOT_MODIFIED);
    stamp(&policy, &nonce, cacheable, response.headers_mut());
    response
}

fn stamp(policy: &SecurityPolicy, nonce: &CspNonce, cacheable: bool, headers: &mut HeaderMap) {
    match HeaderValue::from_str(&policy.csp(nonce)) {
        Ok(v) => {
            headers.insert(header::CONTENT_SECURITY_POLICY, v);
        }
        // Cannot happen (the policy is ASCII from a validated config); without
        // a usable CSP, fall back to one that blocks every script.
        Err(_) => {
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
            );
        }
    }
    for (name, value) in FIXED {
        keep_or(headers, name.clone(), value);
    }
    // Not in the `http` crate's list of names.
    keep_or(
        headers,
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    keep_or(
        headers,
        HeaderName::from_static("cross-origin-resource-policy"),
        "same-origin",
    );
    keep_or(
        headers,
        HeaderName::from_static("permissions-policy"),
        "camera=(), microphone=(), geolocation=()",
    );
    if policy.https {
        keep_or(headers, header::STRICT_TRANSPORT_SECURITY, HSTS);
    }
    // Admin pages and API answers must not come back from a cache (e.g. the
    // back button after sign-out); the build's static assets may.
    if !cacheable {
        keep_or(headers, header::CACHE_CONTROL, "no-store");
    }
}

fn keep_or(headers: &mut HeaderMap, name: HeaderName, value: &'static str) {
    headers
        .entry(name)
        .or_insert_with(|| HeaderValue::from_static(value));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_handler_values_but_always_sets_csp() {
        let policy = SecurityPolicy {
            origin: "https://mail.example".into(),
            https: true,
            form_action: vec!["'self'".into()],
            static_prefix: "/pkg/".into(),
        };
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("max-age=60"),
        );
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src *"),
        );
        let nonce = CspNonce::random();
        stamp(&policy, &nonce, false, &mut headers);
        assert_eq!(headers[header::CACHE_CONTROL], "max-age=60");
        assert_eq!(headers[header::CONTENT_SECURITY_POLICY], policy.csp(&nonce));
        assert_eq!(headers[header::STRICT_TRANSPORT_SECURITY], HSTS);

        let mut headers = HeaderMap::new();
        stamp(&policy, &nonce, true, &mut headers);
        assert!(headers.get(header::CACHE_CONTROL).is_none());
    }
}
