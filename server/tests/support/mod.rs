//! Test databases: a fresh SQLite file, and — when `TENANT_MAIL_TEST_POSTGRES_URL`
//! points at a server (make test starts one) — a fresh PostgreSQL database.
#![allow(dead_code)]
use sea_orm::{ConnectionTrait, Database};
use server::config::{Cli, Config};
use std::path::PathBuf;

pub struct TestDb {
    pub label: &'static str,
    pub config: Config,
    pub dir: tempfile::TempDir,
    /// For PostgreSQL: the database name (for pg_dump).
    pub pg_database: Option<String>,
}

impl TestDb {
    pub fn sqlite_path(&self) -> PathBuf {
        self.dir.path().join("test.db")
    }
}

fn config(database_url: String, dir: &tempfile::TempDir) -> Config {
    Config::load(Cli {
        database_url: Some(database_url),
        key_file: Some(dir.path().join("secret.key")),
        public_url: Some("http://localhost:3000".into()),
        extra_authority_host: Some("127.0.0.1:5999".into()),
        ..Cli::default()
    })
    .expect("test config is valid")
}

pub async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
    TestDb {
        label: "sqlite",
        config: config(url, &dir),
        dir,
        pg_database: None,
    }
}

pub fn postgres_admin_url() -> Option<String> {
    match std::env::var("TENANT_MAIL_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            // make test sets REQUIRE so a missing server fails instead of silently skipping.
            assert!(
                std::env::var("TENANT_MAIL_REQUIRE_POSTGRES").is_err(),
                "TENANT_MAIL_REQUIRE_POSTGRES is set but TENANT_MAIL_TEST_POSTGRES_URL is not"
            );
            eprintln!("note: TENANT_MAIL_TEST_POSTGRES_URL unset; PostgreSQL variant skipped");
            None
        }
    }
}

pub async fn postgres() -> Option<TestDb> {
    let admin_url = postgres_admin_url()?;
    let name = format!("tm_test_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(&admin_url)
        .await
        .expect("connect to test PostgreSQL");
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create test database");
    admin.close().await.ok();
    let base = admin_url
        .rsplit_once('/')
        .map(|(b, _)| b.to_string())
        .expect("url has a database part");
    let dir = tempfile::tempdir().expect("tempdir");
    // PostgreSQL never generates a key: several instances must share one.
    std::fs::write(
        dir.path().join("secret.key"),
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
    )
    .expect("write key");
    Some(TestDb {
        label: "postgres",
        config: config(format!("{base}/{name}"), &dir),
        dir,
        pg_database: Some(name),
    })
}

/// SQLite always, PostgreSQL when available.
pub async fn all() -> Vec<TestDb> {
    let mut dbs = vec![sqlite().await];
    if let Some(pg) = postgres().await {
        dbs.push(pg);
    }
    dbs
}

pub fn leptos_options() -> leptos::config::LeptosOptions {
    leptos::config::LeptosOptions::builder()
        .output_name("tenant_mail")
        .build()
}

/// An admin acting in backend-level tests.
pub fn actor() -> app::port::Actor {
    app::port::Actor {
        admin_id: Some("00000000-0000-4000-8000-00000000a001".into()),
        username: "tester".into(),
        session_key: Some("test-session".into()),
        request_id: Some("test-request".into()),
        ip: Some("127.0.0.1".into()),
    }
}

pub const ADMIN_USER: &str = "tester";
pub const ADMIN_PASSWORD: &str = "correct horse battery staple";

/// Creates an admin directly in the database.
pub async fn create_admin(db: &sea_orm::DatabaseConnection, username: &str, password: &str) {
    let hash = server::auth::password::hash(password).await.expect("hash");
    server::auth::admins::create(db, username, hash, chrono::Utc::now())
        .await
        .expect("create admin");
}

/// Serves a router on a free loopback port, with the peer address known (as `main` does).
pub async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
    });
    format!("http://{addr}")
}

/// The public origin every test config uses (see `config`).
pub const ORIGIN: &str = "http://localhost:3000";

/// A browser-like client: keeps cookies, does not follow redirects, and sends
/// the app's own Origin like a same-origin page would.
pub fn browser() -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::ORIGIN,
        reqwest::header::HeaderValue::from_static(ORIGIN),
    );
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        // A stalled answer fails the test with its URL instead of holding CI.
        .timeout(std::time::Duration::from_secs(120))
        .default_headers(headers)
        .build()
        .unwrap()
}

/// Posts the sign-in form; returns the response (303 either way).
pub async fn sign_in(
    client: &reqwest::Client,
    base: &str,
    username: &str,
    password: &str,
) -> reqwest::Response {
    client
        .post(format!("{base}/auth/sign-in"))
        .form(&[("username", username), ("password", password), ("next", "")])
        .send()
        .await
        .unwrap()
}

/// A browser signed in as a fresh admin.
pub async fn signed_in_browser(db: &sea_orm::DatabaseConnection, base: &str) -> reqwest::Client {
    create_admin(db, ADMIN_USER, ADMIN_PASSWORD).await;
    let client = browser();
    let r = sign_in(&client, base, ADMIN_USER, ADMIN_PASSWORD).await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        r.headers()["location"],
        "/admin/tenants",
        "signed in and sent on"
    );
    client
}

fn req_of(html: &str) -> String {
    let marker = "name=\"req\" value=\"";
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("no req in {html}"))
        + marker.len();
    let end = html[start..].find('"').unwrap();
    html[start..start + end].to_owned()
}

/// Follows the stand-in's sign-in pages like a browser: picks `account_oid`
/// in the picker and answers the consent page with `consent` ("accept" or
/// "cancel"). Returns the callback path and query Microsoft redirected back to.
pub async fn pass_sign_in(
    browser: &reqwest::Client,
    stand_in_base: &str,
    authorize_url: &str,
    redirect_uri: &str,
    account_oid: &str,
    consent: &str,
) -> String {
    let mut response = browser.get(authorize_url).send().await.unwrap();
    for _ in 0..5 {
        if response.status().is_redirection() {
            let location = response.headers()["location"].to_str().unwrap().to_string();
            let rest = location
                .strip_prefix(redirect_uri)
                .unwrap_or_else(|| panic!("redirected elsewhere: {location}"));
            return format!("{}{rest}", server::config::CALLBACK_PATH);
        }
        let html = response.text().await.unwrap();
        let req = req_of(&html);
        let (path, form): (&str, Vec<(&str, &str)>) = if html.contains("Pick an account") {
            (
                "select",
                vec![("req", req.as_str()), ("account", account_oid)],
            )
        } else if html.contains("Permissions requested") {
            (
                "consent",
                vec![("req", req.as_str()), ("decision", consent)],
            )
        } else {
            panic!("unexpected page: {html}");
        };
        response = browser
            .post(format!(
                "{stand_in_base}/common/oauth2/v2.0/authorize/{path}"
            ))
            .form(&form)
            .send()
            .await
            .unwrap();
    }
    panic!("too many pages");
}

/// Tenant Mail served over HTTP with a signed-in admin and one tenant email
/// connected for real through the stand-in (a system-clock stand-in, so
/// tokens and Tenant Mail's clock agree).
pub struct Connected {
    pub stand_in: ms_stand_in::StandIn,
    pub p: server::startup::Prepared,
    pub base: String,
    pub admin: reqwest::Client,
    pub tenant_id: String,
    pub email_id: String,
    pub mailbox_oid: String,
    pub redirect_uri: String,
    pub client_id: String,
    pub t: TestDb,
}

impl Connected {
    /// Calls a server function as the admin; panics unless it succeeds.
    pub async fn call(&self, f: &str, body: serde_json::Value) -> serde_json::Value {
        let r = self
            .admin
            .post(format!("{}/api/{f}", self.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        assert!(status.is_success(), "{f}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null)
    }

    /// Click to (RE) Authenticate → Microsoft → callback, as the mailbox.
    pub async fn connect(&self) {
        self.connect_email(&self.email_id, &self.mailbox_oid).await;
    }

    /// The same for another tenant email of this tenant, signing in as `oid`.
    pub async fn connect_email(&self, email_id: &str, oid: &str) {
        let begun = self
            .admin
            .post(format!(
                "{}/core/oauth2/begin/{}/{}",
                self.base, self.tenant_id, email_id
            ))
            .form(&[("x", "")])
            .send()
            .await
            .unwrap();
        assert_eq!(begun.status(), 303, "{}", self.t.label);
        let authorize = begun.headers()["location"].to_str().unwrap().to_string();
        let back = pass_sign_in(
            &self.admin,
            &self.stand_in.base_url(),
            &authorize,
            &self.redirect_uri,
            oid,
            "accept",
        )
        .await;
        let done = self
            .admin
            .get(format!("{}{back}", self.base))
            .send()
            .await
            .unwrap();
        let location = done.headers()["location"].to_str().unwrap().to_string();
        assert!(
            location.ends_with("?connected=1"),
            "{}: {location}",
            self.t.label
        );
    }
}

/// See [`Connected`]. `secret` becomes the app registration's client secret.
pub async fn connected_mailbox(mut t: TestDb, secret: &str) -> Connected {
    use ms_stand_in::fixture::{MAILBOX, TENANT};
    let stand_in = ms_stand_in::StandIn::start(ms_stand_in::StandInConfig {
        clock: ms_stand_in::Clock::system(),
        ..ms_stand_in::StandInConfig::default()
    })
    .await
    .unwrap();
    t.config.extra_authority_host = Some(stand_in.addr().to_string());
    t.config.graph_base_url = stand_in.graph_base();
    let redirect_uri = t.config.redirect_uri();
    let contoso = ms_stand_in::fixture::seed_contoso(stand_in.control(), &redirect_uri).unwrap();
    let app_reg = stand_in
        .add_app(ms_stand_in::NewApp {
            client_id: None,
            tenant_id: TENANT.into(),
            display_name: Some("Tenant Mail under test".into()),
            redirect_uris: vec![redirect_uri.clone()],
            secrets: vec![ms_stand_in::NewSecret {
                value: Some(secret.to_string()),
                id: None,
                expires_at: None,
            }],
            api_permissions: vec![],
        })
        .unwrap();
    stand_in.set_signed_in(&[MAILBOX.to_owned()]).unwrap();
    stand_in
        .grant_consent(ms_stand_in::ConsentGrant {
            client_id: app_reg.client_id.clone(),
            tenant_id: Some(TENANT.into()),
            ..ms_stand_in::ConsentGrant::default()
        })
        .unwrap();
    let p = server::startup::prepare(&t.config, leptos_options())
        .await
        .unwrap();
    let base = serve(p.router.clone()).await;
    let admin = signed_in_browser(&p.db, &base).await;
    let mut c = Connected {
        stand_in,
        p,
        base,
        admin,
        tenant_id: String::new(),
        email_id: String::new(),
        mailbox_oid: contoso.mailbox.oid.clone(),
        redirect_uri,
        client_id: app_reg.client_id.clone(),
        t,
    };
    let tenant = c
        .call("create_tenant", serde_json::json!({"name": "Contoso Ltd"}))
        .await;
    c.tenant_id = tenant["id"].as_str().unwrap().to_string();
    let email = c
        .call(
            "save_tenant_email",
            serde_json::json!({
                "tenant_id": c.tenant_id, "email_id": null, "version": null, "replace_secret": false,
                "input": {
                    "account_type": "microsoft365_graph",
                    "address": MAILBOX,
                    "direction": "send_receive",
                    "application_id": app_reg.client_id,
                    "client_secret": secret,
                    "secret_expires_on": "",
                    "authority_url": c.stand_in.authority("common"),
                    "authorization_endpoint": "/oauth2/v2.0/authorize",
                    "token_endpoint": "/oauth2/v2.0/token",
                    "scopes": "openid profile offline_access user.read mail.read mail.send mail.readwrite"
                }
            }),
        )
        .await;
    c.email_id = email["id"].as_str().unwrap().to_string();
    c.connect().await;
    c
}

/// `routes::ROUTES` with every `{param}` replaced by a fresh UUID (and the
/// catch-all by a path segment); `ANY` is sent as GET.
pub fn inventory_requests() -> Vec<(reqwest::Method, String)> {
    server::routes::ROUTES
        .iter()
        .map(|(method, path)| {
            let path = path
                .split('/')
                .map(|segment| match segment.strip_prefix("{*") {
                    Some(_) => "no-such-thing".to_string(),
                    None if segment.starts_with('{') => uuid::Uuid::new_v4().to_string(),
                    None => segment.to_string(),
                })
                .collect::<Vec<_>>()
                .join("/");
            let method = match *method {
                "POST" => reqwest::Method::POST,
                _ => reqwest::Method::GET,
            };
            (method, path)
        })
        .collect()
}
