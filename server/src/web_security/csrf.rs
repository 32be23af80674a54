//! Cross-site request forgery: a state-changing request (any method but
//! GET/HEAD/OPTIONS) must come from Tenant Mail's own pages.
//!
//! The browser says where a request comes from in headers a page cannot forge:
//! `Origin`, and `Sec-Fetch-Site`. `Origin` must equal the public origin. It is
//! absent in some requests and `null` in others — notably a plain form POST
//! under our `Referrer-Policy: no-referrer` (checked in Chromium: the "Click to
//! Authenticate" form sends `Origin: null`). Only then does
//! `Sec-Fetch-Site: same-origin` suffice. A request with neither (curl, old
//! browsers) is refused: being strict costs nothing for a browser-only admin UI.
//!
//! The one exception is the host-application API under `/v1/`: it is called
//! by servers, not browsers, and authenticated only by a bearer token in the
//! `Authorization` header, which a cross-site page cannot make a browser send.
//! It reads no cookie (the sign-in gate skips the session there), so there is
//! no ambient credential for a forged request to ride on. Graph's change
//! notifications (`config::NOTIFICATIONS_PATH`) are the same case: posted by
//! Microsoft's servers, they read no cookie and prove themselves with their
//! subscription's `clientState`.
use super::SecurityPolicy;
use app::model::ApiError;
use axum::extract::{Request, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// `Sec-Fetch-Site` is not in the `http` crate's list of names.
const SEC_FETCH_SITE: &str = "sec-fetch-site";

/// Methods that never change state here, so need no origin check.
pub fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Whether the request's headers prove it was sent by a page of `origin`.
pub fn is_same_origin(origin: &str, headers: &HeaderMap) -> bool {
    match headers.get(header::ORIGIN).map(HeaderValue::to_str) {
        Some(Ok("null")) | None => headers
            .get(SEC_FETCH_SITE)
            .is_some_and(|v| v.as_bytes() == b"same-origin"),
        Some(Ok(sent)) => sent == origin,
        Some(Err(_)) => false,
    }
}

/// For a GET with a side effect (a download that is itself audited): it must
/// come from the app's own pages. Browsers say so in `Sec-Fetch-Site`; where
/// that header is missing, a same-origin `Origin` or `Referer` must say it.
pub fn from_own_page(origin: &str, headers: &HeaderMap) -> bool {
    let value = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    match headers.get(SEC_FETCH_SITE) {
        Some(site) => site.as_bytes() == b"same-origin",
        None => {
            value(header::ORIGIN).is_some_and(|o| o == origin)
                || value(header::REFERER)
                    .is_some_and(|r| r == origin || r.starts_with(&format!("{origin}/")))
        }
    }
}

/// Layer body: refuses cross-origin state-changing requests with 403.
pub async fn protect(
    State(policy): State<SecurityPolicy>,
    request: Request,
    next: Next,
) -> Response {
    if is_safe(request.method())
        || crate::config::is_host_api(request.uri().path())
        || crate::config::is_graph_notifications(request.uri().path())
        || is_same_origin(&policy.origin, request.headers())
    {
        return next.run(request).await;
    }
    let headers = request.headers();
    // Attacker-controlled values: logged with Debug escaping, and cut short.
    let shown = |name: &str| {
        headers.get(name).map(|v| {
            String::from_utf8_lossy(v.as_bytes())
                .chars()
                .take(200)
                .collect::<String>()
        })
    };
    let path = request.uri().path();
    tracing::warn!(
        method = %request.method(),
        path = %path.chars().take(200).collect::<String>(),
        origin = ?shown(header::ORIGIN.as_str()),
        sec_fetch_site = ?shown(SEC_FETCH_SITE),
        "refused a state-changing request that did not come from Tenant Mail's own pages"
    );
    refusal(&policy, path.starts_with("/api/"))
}

fn refusal(policy: &SecurityPolicy, api: bool) -> Response {
    let reason = format!(
        "This request did not come from Tenant Mail's own pages, so it was refused. Open Tenant Mail at {} and try again.",
        policy.origin
    );
    if api {
        // The frontend decodes error bodies as `ApiError` and shows the message.
        let body = serde_json::to_string(&ApiError::BadRequest(reason))
            .unwrap_or_else(|_| "{}".to_string());
        (
            StatusCode::FORBIDDEN,
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response()
    } else {
        (
            StatusCode::FORBIDDEN,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            reason,
        )
            .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGIN: &str = "https://mail.example";

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn origin_rules() {
        let cases: &[(&[(&str, &str)], bool)] = &[
            (&[("origin", ORIGIN)], true),
            (
                &[("origin", ORIGIN), ("sec-fetch-site", "same-origin")],
                true,
            ),
            (&[("origin", "https://mail.example:443")], false),
            (&[("origin", "https://evil.example")], false),
            // A forged-looking Origin is not rescued by Sec-Fetch-Site.
            (
                &[
                    ("origin", "https://evil.example"),
                    ("sec-fetch-site", "same-origin"),
                ],
                false,
            ),
            (
                &[("origin", "null"), ("sec-fetch-site", "same-origin")],
                true,
            ),
            (
                &[("origin", "null"), ("sec-fetch-site", "cross-site")],
                false,
            ),
            (&[("origin", "null")], false),
            (&[("sec-fetch-site", "same-origin")], true),
            (&[("sec-fetch-site", "same-site")], false),
            (&[("sec-fetch-site", "cross-site")], false),
            (&[("sec-fetch-site", "none")], false),
            (&[], false),
        ];
        for (pairs, expected) in cases {
            assert_eq!(
                is_same_origin(ORIGIN, &headers(pairs)),
                *expected,
                "{pairs:?}"
            );
        }
    }

    #[test]
    fn downloads_come_from_own_pages_only() {
        let cases: &[(&[(&str, &str)], bool)] = &[
            (&[("sec-fetch-site", "same-origin")], true),
            (&[("sec-fetch-site", "same-site")], false),
            (&[("sec-fetch-site", "cross-site")], false),
            // Typed into the address bar or opened from a bookmark.
            (&[("sec-fetch-site", "none")], false),
            // The browser's word wins over an Origin that looks right.
            (
                &[("sec-fetch-site", "cross-site"), ("origin", ORIGIN)],
                false,
            ),
            // Older browsers: a same-origin Origin or Referer must say it.
            (&[("origin", ORIGIN)], true),
            (&[("referer", "https://mail.example/admin/audit")], true),
            (&[("referer", "https://mail.example")], true),
            (&[("referer", "https://mail.example.evil.example/")], false),
            (&[("origin", "https://evil.example")], false),
            (&[("origin", "null")], false),
            (&[], false),
        ];
        for (pairs, expected) in cases {
            assert_eq!(
                from_own_page(ORIGIN, &headers(pairs)),
                *expected,
                "{pairs:?}"
            );
        }
    }

    #[test]
    fn safe_methods() {
        assert!(is_safe(&Method::GET) && is_safe(&Method::HEAD) && is_safe(&Method::OPTIONS));
        assert!(!is_safe(&Method::POST) && !is_safe(&Method::DELETE) && !is_safe(&Method::PUT));
    }
}
