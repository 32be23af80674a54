//! Web security over real HTTP: the security headers on every kind of response
//! (pages, server functions, OAuth routes, health, static files, 404s, refusals),
//! the CSP nonce matching the page's scripts, and the CSRF origin rule for every
//! server function and POST route.
mod support;

use app::model::ApiError;
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use server::startup::prepare;
use server::web_security::SecurityPolicy;

/// The test config's public URL is `http://localhost:3000`.
const ORIGIN: &str = "http://localhost:3000";
const EVIL: &str = "http://evil.example";
const NONCE: &str = "<N>";

/// Every response carries exactly these (http deployment: no HSTS). `<N>` is
/// the response's nonce; `cache-control` is absent on static assets.
const EXPECTED: &[(&str, &str)] = &[
    (
        "content-security-policy",
        "default-src 'self'; \
         script-src 'self' 'nonce-<N>' 'wasm-unsafe-eval'; \
         style-src 'self' 'nonce-<N>'; \
         img-src 'self' data:; \
         connect-src 'self'; \
         font-src 'self'; \
         object-src 'none'; \
         base-uri 'none'; \
         frame-ancestors 'none'; \
         form-action 'self' https://login.microsoftonline.com https://login.microsoftonline.us \
         https://login.partner.microsoftonline.cn https://login.chinacloudapi.cn http://127.0.0.1:5999",
    ),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
    ("permissions-policy", "camera=(), microphone=(), geolocation=()"),
    ("cache-control", "no-store"),
];

const HSTS: &str = "strict-transport-security";

/// Request headers a test sends (Origin, Sec-Fetch-Site).
type Sent<'a> = &'a [(&'a str, &'a str)];

struct Running {
    base: String,
    /// Sends no Origin by itself; no redirects followed.
    client: reqwest::Client,
    tenant_id: String,
    email_id: String,
    _db: support::TestDb,
    _site: tempfile::TempDir,
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

/// A site root with one static asset, so the static-file path is always tested.
fn site() -> (tempfile::TempDir, leptos::config::LeptosOptions) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("pkg")).unwrap();
    std::fs::write(dir.path().join("pkg/tenant_mail.css"), "body{}\n").unwrap();
    let options = leptos::config::LeptosOptions::builder()
        .output_name("tenant_mail")
        .site_root(dir.path().display().to_string())
        .build();
    (dir, options)
}

/// These tests run one at a time, and every request has a deadline. Once in
/// 50–90 runs a page used to wait forever while a sibling built its router:
/// Leptos made the route list with resource loading off process-wide
/// (leptos #4773; `startup::route_list()` now makes it once). The guards stay,
/// so any stall fails with the page and what had arrived instead of holding CI.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
const REQUEST_DEADLINE: std::time::Duration = std::time::Duration::from_secs(60);

async fn start_with(db: support::TestDb) -> Running {
    let turn = ONE_AT_A_TIME.lock().await;
    let (site, options) = site();
    let p = prepare(&db.config, options).await.expect("prepare");
    let base = support::serve(p.router.clone()).await;
    // Signed in (cookie store), but sending no Origin unless a test adds one.
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(REQUEST_DEADLINE)
        .build()
        .unwrap();
    support::create_admin(&p.store, support::ADMIN_USER, support::ADMIN_PASSWORD).await;
    let r = client
        .post(format!("{base}/auth/sign-in"))
        .header("origin", ORIGIN)
        .form(&[
            ("username", support::ADMIN_USER),
            ("password", support::ADMIN_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/admin/tenants");
    let mut app = Running {
        base,
        client,
        tenant_id: String::new(),
        email_id: String::new(),
        _db: db,
        _site: site,
        _turn: turn,
    };
    let origin = SecurityPolicy::from_config(&app._db.config).origin;
    let (status, body) = app
        .post_from(&origin, "/api/create_tenant", r#"{"name":"Contoso"}"#)
        .await;
    assert_eq!(status, 200, "{body}");
    app.tenant_id = json_id(&body);
    // The configured loopback stand-in host: nothing here ever leaves 127.0.0.1.
    let input = app::model::TenantEmailInput {
        scopes: "openid offline_access mail.send mail.read".into(),
        ..support::email_input(
            "helpdesk@contoso.com",
            "http://127.0.0.1:5999/common",
            "fake-secret-for-tests",
        )
    };
    let email = support::save_email_body(&app.tenant_id, &input);
    let (status, body) = app
        .post_from(&origin, "/api/save_tenant_email", &email.to_string())
        .await;
    assert_eq!(status, 200, "{body}");
    app.email_id = json_id(&body);
    app
}

async fn start() -> Running {
    start_with(support::sqlite().await).await
}

fn json_id(body: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(body).unwrap();
    v["id"].as_str().unwrap().to_string()
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Running {
    async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        let r = request.send().await.unwrap();
        let url = r.url().to_string();
        let status = r.status();
        let headers = r.headers().clone();
        // A stalled body names its page and what had arrived (see ONE_AT_A_TIME).
        let mut body = Vec::new();
        let mut r = r;
        loop {
            match r.chunk().await {
                Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                Ok(None) => break,
                Err(e) => panic!(
                    "{url}: {e}; {} bytes had arrived, ending: {}",
                    body.len(),
                    String::from_utf8_lossy(&body[body.len().saturating_sub(600)..])
                ),
            }
        }
        Reply {
            status,
            headers,
            body: String::from_utf8(body).unwrap(),
        }
    }
    async fn get(&self, path: &str) -> Reply {
        self.send(self.client.get(format!("{}{path}", self.base)))
            .await
    }
    /// A POST with the given request headers (Origin, Sec-Fetch-Site).
    async fn post(&self, path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
        let content_type = if path.starts_with("/api/") {
            "application/json"
        } else {
            "application/x-www-form-urlencoded"
        };
        let mut request = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", content_type)
            .body(body.to_string());
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        self.send(request).await
    }
    async fn post_from(&self, origin: &str, path: &str, body: &str) -> (u16, String) {
        let r = self.post(path, &[("origin", origin)], body).await;
        (r.status.as_u16(), r.body)
    }
    fn begin_path(&self, email_id: &str) -> String {
        format!("/core/oauth2/begin/{}/{email_id}", self.tenant_id)
    }
    /// Every Leptos page route with its parameters filled in.
    fn page_paths(&self) -> Vec<String> {
        let mut paths: Vec<String> = server::startup::route_list()
            .iter()
            .map(|r| {
                r.path()
                    .split('/')
                    .map(|segment| {
                        let name = segment
                            .strip_prefix(':')
                            .or_else(|| segment.strip_prefix('{')?.strip_suffix('}'));
                        match name {
                            Some("tenant_id") => self.tenant_id.clone(),
                            Some("email_id") => self.email_id.clone(),
                            Some(_) => uuid::Uuid::new_v4().to_string(),
                            None => segment.to_string(),
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("/")
            })
            .map(|p| if p.is_empty() { "/".to_string() } else { p })
            .collect();
        paths.sort();
        paths.dedup();
        paths
    }
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).map(|v| v.to_str().unwrap().to_string())
}

/// The nonce in a CSP header (the same `'nonce-…'` appears in script-src and style-src).
fn csp_nonce(headers: &HeaderMap) -> String {
    let csp = header(headers, "content-security-policy").expect("a CSP");
    let start = csp.find("'nonce-").expect("a nonce in the CSP") + "'nonce-".len();
    let end = csp[start..].find('\'').unwrap();
    csp[start..start + end].to_string()
}

/// Asserts the snapshot: each expected header with its value, and no HSTS.
fn assert_snapshot(what: &str, reply: &Reply, cacheable: bool) {
    let nonce = csp_nonce(&reply.headers);
    for (name, expected) in EXPECTED {
        let actual = header(&reply.headers, name).map(|v| v.replace(&nonce, NONCE));
        if *name == "cache-control" && cacheable {
            assert_ne!(actual.as_deref(), Some("no-store"), "{what}: {name}");
            continue;
        }
        assert_eq!(actual.as_deref(), Some(*expected), "{what}: {name}");
    }
    assert_eq!(header(&reply.headers, HSTS), None, "{what}: HSTS over http");
}

#[tokio::test]
async fn every_kind_of_response_carries_the_security_headers() {
    let app = start().await;
    let unknown = uuid::Uuid::new_v4().to_string();
    let pages = app.page_paths();
    assert!(pages.len() >= 6, "route list: {pages:?}");
    for path in &pages {
        let r = app.get(path).await;
        assert!(
            r.status == StatusCode::OK || r.status.is_redirection(),
            "{path}: {}",
            r.status
        );
        assert_snapshot(&format!("page {path}"), &r, false);
    }

    // method | path                                      | headers sent           | status | static
    let begin_unknown = app.begin_path(&unknown);
    let table: &[(&str, &str, Sent, u16, bool)] = &[
        ("GET", "/healthz", &[], 200, false),
        ("GET", "/readyz", &[], 200, false),
        ("GET", "/no/such/page", &[], 404, false),
        ("GET", "/pkg/tenant_mail.css", &[], 200, true),
        ("GET", "/pkg/missing.js", &[], 404, false),
        ("GET", "/core/oauth2/validated", &[], 400, false),
        (
            "GET",
            "/core/oauth2/validated?state=a&state=b",
            &[],
            400,
            false,
        ),
        (
            "GET",
            "/core/oauth2/validated?code=x&state=nope",
            &[],
            400,
            false,
        ),
        ("POST", &begin_unknown, &[("origin", ORIGIN)], 404, false),
        ("POST", &begin_unknown, &[("origin", EVIL)], 403, false),
        (
            "POST",
            "/api/list_tenants",
            &[("origin", ORIGIN)],
            200,
            false,
        ),
        ("POST", "/api/get_tenant", &[("origin", ORIGIN)], 400, false),
        ("POST", "/api/list_tenants", &[("origin", EVIL)], 403, false),
        ("POST", "/no/such/page", &[("origin", EVIL)], 403, false),
    ];
    for (method, path, sent, status, cacheable) in table {
        let r = match *method {
            "GET" => app.get(path).await,
            _ => app.post(path, sent, "{}").await,
        };
        let what = format!("{method} {path} {sent:?}");
        assert_eq!(r.status.as_u16(), *status, "{what}: {}", r.body);
        assert_snapshot(&what, &r, *cacheable);
    }

    // Without a session: the sign-in gate's refusals and the sign-in pages.
    let anon = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(REQUEST_DEADLINE)
        .build()
        .unwrap();
    let url = |p: &str| format!("{}{p}", app.base);
    let anonymous = [
        ("GET /admin/tenants", anon.get(url("/admin/tenants")), 303),
        ("GET /sign-in", anon.get(url("/sign-in")), 200),
        ("GET /setup", anon.get(url("/setup")), 200),
        (
            "POST /api/list_tenants",
            anon.post(url("/api/list_tenants"))
                .header("origin", ORIGIN)
                .body("{}"),
            401,
        ),
        (
            "POST /auth/sign-in",
            anon.post(url("/auth/sign-in"))
                .header("origin", ORIGIN)
                .form(&[("username", "nobody"), ("password", "wrong")]),
            303,
        ),
        (
            "POST /auth/sign-in cross-site",
            anon.post(url("/auth/sign-in"))
                .header("origin", EVIL)
                .form(&[("username", "nobody"), ("password", "wrong")]),
            403,
        ),
    ];
    for (what, request, status) in anonymous {
        let r = app.send(request).await;
        assert_eq!(r.status.as_u16(), status, "{what}: {}", r.body);
        assert_snapshot(&format!("anonymous {what}"), &r, false);
    }
    // Every route outside Leptos, whatever it answers, anonymous and signed in
    // (signing out last).
    let mut outside = support::inventory_requests();
    outside.sort_by_key(|(_, p)| p == "/auth/sign-out");
    for (method, path) in outside {
        for client in [&anon, &app.client] {
            let r = app
                .send(
                    client
                        .request(method.clone(), url(&path))
                        .header("origin", ORIGIN),
                )
                .await;
            assert_snapshot(&format!("{method} {path} ({})", r.status), &r, false);
        }
    }
}

#[tokio::test]
async fn hsts_only_over_https() {
    let mut db = support::sqlite().await;
    db.config.public_url = "https://mail.example".into();
    let (_site, options) = site();
    let p = prepare(&db.config, options).await.expect("prepare");
    use tower::ServiceExt;
    for path in ["/healthz", "/admin/tenants", "/no/such/page"] {
        let response = p
            .router
            .clone()
            .oneshot(
                axum::http::Request::get(path)
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(
            response.headers()[HSTS],
            "max-age=31536000; includeSubDomains",
            "{path}"
        );
    }
}

#[tokio::test]
async fn over_https_the_session_cookie_is_host_prefixed_and_secure() {
    let mut db = support::sqlite().await;
    db.config.public_url = "https://mail.example".into();
    let (_site, options) = site();
    let p = prepare(&db.config, options).await.expect("prepare");
    support::create_admin(&p.store, support::ADMIN_USER, support::ADMIN_PASSWORD).await;
    use tower::ServiceExt;
    let form = format!(
        "username={}&password={}&next=",
        support::ADMIN_USER,
        support::ADMIN_PASSWORD.replace(' ', "+")
    );
    let response = p
        .router
        .clone()
        .oneshot(
            axum::http::Request::post("/auth/sign-in")
                .header("origin", "https://mail.example")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(axum::body::Body::from(form))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.headers()["location"], "/admin/tenants");
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(cookie.starts_with("__Host-tm_session="), "{cookie}");
    let attrs: Vec<_> = cookie.split(';').skip(1).map(str::trim).collect();
    for want in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(attrs.contains(&want), "{want} missing: {cookie}");
    }
    // `__Host-` also means no Domain attribute: the cookie stays on this host.
    assert!(
        !attrs
            .iter()
            .any(|a| a.to_ascii_lowercase().starts_with("domain")),
        "{cookie}"
    );
}

/// `<script` / `<style` tags and the value of their nonce attribute.
fn tag_nonces(html: &str, tag: &str) -> Vec<Option<String>> {
    let open = format!("<{tag}");
    html.match_indices(&open)
        .filter(|(i, _)| {
            // `<script>` or `<script ...>`, not `<scripts`.
            matches!(html[i + open.len()..].chars().next(), Some('>' | ' '))
        })
        .map(|(i, _)| {
            let tag_text = &html[i..i + html[i..].find('>').unwrap()];
            let start = tag_text.find("nonce=\"")? + "nonce=\"".len();
            let end = tag_text[start..].find('"')?;
            Some(tag_text[start..start + end].to_string())
        })
        .collect()
}

#[tokio::test]
async fn every_script_carries_the_responses_nonce() {
    let app = start().await;
    let mut seen = std::collections::HashSet::new();
    let tenant_page = format!("/admin/tenants/{}", app.tenant_id);
    let email_page = format!("/admin/tenants/{}/emails/{}", app.tenant_id, app.email_id);
    for path in [
        "/admin/tenants",
        "/admin/tenants",
        tenant_page.as_str(),
        email_page.as_str(),
        "/no/such/page",
    ] {
        let r = app.get(path).await;
        let nonce = csp_nonce(&r.headers);
        assert!(seen.insert(nonce.clone()), "{path}: nonce reused");
        let scripts = tag_nonces(&r.body, "script");
        assert!(!scripts.is_empty(), "{path}: no hydration script");
        for found in scripts.iter().chain(tag_nonces(&r.body, "style").iter()) {
            assert_eq!(found.as_deref(), Some(nonce.as_str()), "{path}: {}", r.body);
        }
    }
    // The OAuth failure page's inline style is allowed by the same nonce.
    let r = app.get("/core/oauth2/validated").await;
    let styles = tag_nonces(&r.body, "style");
    assert_eq!(styles, [Some(csp_nonce(&r.headers))], "{}", r.body);
}

#[tokio::test]
async fn server_functions_are_all_post() {
    let fns: Vec<_> = leptos::server_fn::axum::server_fn_paths().collect();
    assert!(fns.len() >= 9, "{fns:?}");
    for (path, method) in fns {
        assert_eq!(method, axum::http::Method::POST, "{path} must be a POST");
        assert!(path.starts_with("/api/"), "{path}");
    }
}

#[tokio::test]
async fn cross_site_state_changes_are_refused() {
    let app = start().await;
    let unknown = uuid::Uuid::new_v4().to_string();
    let mut posts: Vec<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.to_string())
        .collect();
    posts.sort();
    posts.push(app.begin_path(&unknown));
    // Every other POST route outside Leptos but the bearer-token host API
    // (`/v1`, no cookies, so nothing to forge) and Graph's change
    // notifications (no session read either; each proves itself with its
    // subscription's clientState, tests/notifications.rs); signing out is
    // tried below.
    let outside: Vec<String> = support::inventory_requests()
        .into_iter()
        .filter(|(m, p)| {
            m == reqwest::Method::POST
                && !p.starts_with("/v1/")
                && !p.starts_with("/core/oauth2/begin/")
                && p != "/auth/sign-out"
                && p != server::config::NOTIFICATIONS_PATH
        })
        .map(|(_, p)| p)
        .collect();
    assert_eq!(outside, ["/auth/sign-in"]);
    posts.extend(outside);
    // sent headers                                             | refused
    let cases: &[(Sent, bool)] = &[
        (&[("origin", EVIL)], true),
        (&[], true),
        (&[("sec-fetch-site", "cross-site")], true),
        (&[("sec-fetch-site", "same-site")], true),
        (&[("origin", EVIL), ("sec-fetch-site", "same-origin")], true),
        (
            &[("origin", "null"), ("sec-fetch-site", "cross-site")],
            true,
        ),
        (&[("origin", ORIGIN)], false),
        (
            &[("origin", ORIGIN), ("sec-fetch-site", "same-origin")],
            false,
        ),
        // A plain form POST under Referrer-Policy: no-referrer (Chromium).
        (
            &[("origin", "null"), ("sec-fetch-site", "same-origin")],
            false,
        ),
        (&[("sec-fetch-site", "same-origin")], false),
    ];
    for path in &posts {
        for (sent, refused) in cases {
            let r = app.post(path, sent, "{}").await;
            let what = format!("POST {path} {sent:?}: {} {}", r.status, r.body);
            assert_eq!(r.status == StatusCode::FORBIDDEN, *refused, "{what}");
            if *refused && path.starts_with("/api/") {
                // The frontend shows this message.
                let error: ApiError = serde_json::from_str(&r.body).expect(&what);
                assert!(
                    matches!(&error, ApiError::BadRequest(m) if m.contains(ORIGIN)),
                    "{what}"
                );
            } else if *refused {
                assert!(r.body.contains("did not come from Tenant Mail"), "{what}");
            }
        }
    }
    // Nothing was created by the refused calls (and the same-origin `{}` ones were 4xx).
    let (_, list) = app.post_from(ORIGIN, "/api/list_tenants", "{}").await;
    let tenants: serde_json::Value = serde_json::from_str(&list).unwrap();
    assert_eq!(tenants.as_array().map(Vec::len), Some(1), "{list}");
    // A forged sign-out is refused and signs nobody out.
    let r = app.post("/auth/sign-out", &[("origin", EVIL)], "").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let (status, _) = app.post_from(ORIGIN, "/api/list_tenants", "{}").await;
    assert_eq!(status, 200, "still signed in");
    // Safe methods are never checked.
    let r = app
        .send(
            app.client
                .get(format!("{}/healthz", app.base))
                .header("origin", EVIL),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn a_server_failure_is_a_500_with_the_headers_and_only_a_reference() {
    use sea_orm::ConnectionTrait;
    let app = start().await;
    // Break the database under the running server (as a failed disk or a
    // botched manual change would): the tenant table disappears.
    let side = sea_orm::Database::connect(&app._db.config.database_url)
        .await
        .unwrap();
    side.execute_unprepared("ALTER TABLE tenant RENAME TO tenant_gone")
        .await
        .unwrap();
    let r = app
        .post("/api/list_tenants", &[("origin", ORIGIN)], "{}")
        .await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", r.body);
    assert_snapshot("500 from a server function", &r, false);
    match serde_json::from_str::<ApiError>(&r.body).unwrap() {
        ApiError::Internal(reference) => assert!(reference.len() >= 8, "{reference}"),
        other => panic!("{other:?}"),
    }
    let page = app.get("/admin/tenants").await;
    assert_snapshot("page whose data failed", &page, false);
    for body in [&r.body, &page.body] {
        assert!(
            !body.contains("tenant_gone") && !body.contains("no such table"),
            "{body}"
        );
    }
}
