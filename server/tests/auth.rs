//! Admin sign-in over real HTTP on SQLite and PostgreSQL: every route and
//! server function refuses anonymous calls, sessions (fixation, sign-out,
//! timeouts, disabling), throttling, open redirects, setup, password changes,
//! the CLI, and the append-only audit log.
mod support;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use server::db::entities::{admin_session, audit_event};
use server::startup::{prepare, Prepared};
use std::time::Instant;
use support::{browser, sign_in, ADMIN_PASSWORD, ADMIN_USER};

/// Server functions callable without signing in. Adding one is a security
/// decision: it must be added here too.
const PUBLIC_SERVER_FNS: &[&str] = &["/api/app_info", "/api/setup_status", "/api/complete_setup"];

struct App {
    base: String,
    p: Prepared,
    _t: support::TestDb,
}

async fn app(t: support::TestDb) -> App {
    let p = prepare(&t.config, support::leptos_options()).await.unwrap();
    let base = support::serve(p.router.clone()).await;
    App { base, p, _t: t }
}

fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

fn session_cookie(r: &reqwest::Response) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("tm_session="))
}

fn cookie_value(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("tm_session=")
        .to_string()
}

/// A client without a cookie store that sends exactly the cookie given.
fn with_cookie(value: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("origin", support::ORIGIN.parse().unwrap());
    headers.insert("cookie", format!("tm_session={value}").parse().unwrap());
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .build()
        .unwrap()
}

async fn api_status(client: &reqwest::Client, base: &str, f: &str) -> u16 {
    client
        .post(format!("{base}/api/{f}"))
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn audit_actions(db: &sea_orm::DatabaseConnection) -> Vec<(String, String, String)> {
    audit_event::Entity::find()
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.action, e.outcome, e.actor))
        .collect()
}

#[tokio::test]
async fn every_page_route_and_server_function_refuses_anonymous_calls() {
    let a = app(support::sqlite().await).await;
    let anon = browser();
    let fns: Vec<_> = leptos::server_fn::axum::server_fn_paths().collect();
    assert!(fns.len() >= 15, "server functions registered: {fns:?}");
    for (path, method) in &fns {
        // No state-changing server function may be reachable with GET.
        assert_eq!(method, &axum::http::Method::POST, "{path} must be POST");
        let r = anon
            .post(format!("{}{path}", a.base))
            .json(&serde_json::json!({}))
            .send()
            .await
            .unwrap();
        if PUBLIC_SERVER_FNS.contains(path) {
            assert_ne!(r.status(), 401, "{path} is public");
        } else {
            assert_eq!(r.status(), 401, "{path} without a session");
            let body: app::model::ApiError = r.json().await.unwrap();
            assert!(
                matches!(body, app::model::ApiError::Unauthorized(_)),
                "{path}"
            );
        }
    }
    let routes = server::startup::route_list();
    assert!(routes.len() >= 8);
    for route in routes {
        let path = route
            .path()
            .split('/')
            .map(|seg| {
                if seg.starts_with('{') || seg.starts_with(':') {
                    uuid::Uuid::new_v4().to_string()
                } else {
                    seg.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        let r = anon.get(format!("{}{path}", a.base)).send().await.unwrap();
        if path == "/sign-in" || path == "/setup" {
            assert_eq!(r.status(), 200, "{path}");
            continue;
        }
        assert_eq!(r.status(), 303, "{path}");
        let expected = format!(
            "/sign-in?{}",
            url::form_urlencoded::Serializer::new(String::new())
                .append_pair("next", &path)
                .finish()
        );
        assert_eq!(location(&r), expected, "{path}");
    }
    // Every route outside Leptos (the inventory a unit test keeps complete),
    // and paths that do not exist, are gated too.
    let mut outside: Vec<(reqwest::Method, String)> = support::inventory_requests();
    outside.push((reqwest::Method::GET, "/no/such/page".into()));
    outside.push((reqwest::Method::POST, "/no/such/endpoint".into()));
    for (method, path) in outside {
        let r = anon
            .request(method.clone(), format!("{}{path}", a.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .send()
            .await
            .unwrap();
        let what = format!("{method} {path}");
        match path.as_str() {
            "/healthz" | "/readyz" | "/v1/openapi.json" => {
                assert_eq!(r.status(), 200, "{what} is public")
            }
            // Signing in and out need no session; both answer with a redirect.
            "/auth/sign-in" | "/auth/sign-out" => assert_eq!(r.status(), 303, "{what}"),
            // An unknown host API path is a JSON 404 (it reveals nothing).
            "/v1/no-such-thing" => assert_eq!(r.status(), 404, "{what}"),
            // Metrics want their own bearer token; off (404) until one is set
            // (tests/metrics.rs: 401 without it once it is).
            "/metrics" => assert_eq!(r.status(), 404, "{what}"),
            // Microsoft's change notifications sign in to nothing: each proves
            // itself with its subscription's clientState (tests/notifications.rs);
            // a body that is no notification is a 400.
            "/core/graph/notifications" => assert_eq!(r.status(), 400, "{what}"),
            // The host API wants its bearer token, whatever the session.
            p if p.starts_with("/v1/") => assert_eq!(r.status(), 401, "{what}"),
            _ if method == reqwest::Method::GET => {
                assert_eq!(r.status(), 303, "{what}");
                assert!(location(&r).starts_with("/sign-in?next="), "{what}");
            }
            _ => assert_eq!(r.status(), 401, "{what}"),
        }
    }
    // Health checks and assets stay public.
    for path in ["/healthz", "/readyz"] {
        let r = anon.get(format!("{}{path}", a.base)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
    }
}

#[tokio::test]
async fn sign_in_sign_out_fixation_and_generic_errors() {
    for t in support::all().await {
        let label = t.label;
        let a = app(t).await;
        support::create_admin(&a.p.store, ADMIN_USER, ADMIN_PASSWORD).await;

        // A session id planted before sign-in is replaced, and worthless.
        let planted = "AAAAAAAAAAAAAAAAAAAAAA";
        let client = with_cookie(planted);
        let r = client
            .post(format!("{}/auth/sign-in", a.base))
            .form(&[("username", ADMIN_USER), ("password", ADMIN_PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "{label}");
        let set = session_cookie(&r).expect("a session cookie is set at sign-in");
        assert!(
            set.contains("HttpOnly") && set.contains("SameSite=Lax"),
            "{set}"
        );
        let first = cookie_value(&set);
        assert_ne!(first, planted, "{label}: new id at sign-in");
        assert_eq!(
            api_status(&with_cookie(planted), &a.base, "list_tenants").await,
            401
        );
        assert_eq!(
            api_status(&with_cookie(&first), &a.base, "list_tenants").await,
            200
        );

        // Signing in again (same browser) issues yet another id; the old one dies.
        let r = with_cookie(&first)
            .post(format!("{}/auth/sign-in", a.base))
            .form(&[("username", ADMIN_USER), ("password", ADMIN_PASSWORD)])
            .send()
            .await
            .unwrap();
        let second = cookie_value(&session_cookie(&r).unwrap());
        assert_ne!(second, first);
        assert_eq!(
            api_status(&with_cookie(&first), &a.base, "list_tenants").await,
            401
        );
        assert_eq!(
            api_status(&with_cookie(&second), &a.base, "list_tenants").await,
            200
        );

        // The database holds only a hash of the id.
        let keys: Vec<String> = admin_session::Entity::find()
            .all(&a.p.db)
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.id_hash)
            .collect();
        assert!(!keys.iter().any(|k| k.contains(&second)), "{label}");

        // Sign-out ends the session on the server: a copied cookie is dead too.
        let r = with_cookie(&second)
            .post(format!("{}/auth/sign-out", a.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(location(&r), "/sign-in?signed_out=1");
        assert_eq!(
            api_status(&with_cookie(&second), &a.base, "list_tenants").await,
            401
        );

        // Unknown user and wrong password: the same answer.
        let wrong = sign_in(&browser(), &a.base, ADMIN_USER, "not the password at all").await;
        let unknown = sign_in(&browser(), &a.base, "nobody", "not the password at all").await;
        assert_eq!(
            location(&wrong),
            "/sign-in?error=invalid&username=tester&next=%2Fadmin%2Ftenants"
        );
        assert_eq!(
            location(&unknown),
            "/sign-in?error=invalid&username=nobody&next=%2Fadmin%2Ftenants"
        );
        assert!(session_cookie(&wrong).is_none() && session_cookie(&unknown).is_none());

        let actions = audit_actions(&a.p.db).await;
        let count = |action: &str, outcome: &str| {
            actions
                .iter()
                .filter(|(a, o, _)| a == action && o == outcome)
                .count()
        };
        assert_eq!(count("admin.sign_in", "success"), 2, "{label}: {actions:?}");
        assert_eq!(count("admin.sign_in", "failure"), 2, "{label}: {actions:?}");
        assert_eq!(
            count("admin.sign_out", "success"),
            1,
            "{label}: {actions:?}"
        );
        let rows = audit_event::Entity::find().all(&a.p.db).await.unwrap();
        assert!(
            rows.iter()
                .all(|r| r.request_id.as_deref().is_some_and(|id| id.len() >= 32)
                    && r.ip.as_deref() == Some("127.0.0.1")),
            "every event has a request id and the client address"
        );
    }
}

#[tokio::test]
async fn unknown_users_cost_the_same_as_wrong_passwords() {
    let a = app(support::sqlite().await).await;
    support::create_admin(&a.p.store, ADMIN_USER, ADMIN_PASSWORD).await;
    // Distinct usernames so the per-username throttle never kicks in; the
    // per-IP budget (30) covers the 12 attempts.
    let mut wrong = Vec::new();
    let mut unknown = Vec::new();
    for i in 0..6 {
        let t = Instant::now();
        sign_in(
            &browser(),
            &a.base,
            ADMIN_USER,
            &format!("wrong password {i}"),
        )
        .await;
        wrong.push(t.elapsed());
        let t = Instant::now();
        sign_in(&browser(), &a.base, &format!("ghost{i}"), "wrong password").await;
        unknown.push(t.elapsed());
    }
    wrong.sort();
    unknown.sort();
    let (w, u) = (wrong[3].as_secs_f64(), unknown[3].as_secs_f64());
    // Skipping the hash would make unknown users ~100× faster; allow noise.
    assert!(
        u > w * 0.5 && u < w * 2.0,
        "wrong {w:.4}s vs unknown {u:.4}s"
    );
    // What was typed as an unknown username (perhaps a password pasted into
    // the wrong field) is not kept in the append-only log; a real one is.
    let labels: Vec<_> = audit_event::Entity::find()
        .all(&a.p.db)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|e| e.target_label)
        .collect();
    assert!(labels.iter().all(|l| !l.contains("ghost")), "{labels:?}");
    assert!(
        labels.iter().any(|l| l == "(unknown username)"),
        "{labels:?}"
    );
    assert!(labels.iter().any(|l| l == ADMIN_USER), "{labels:?}");
}

#[tokio::test]
async fn sign_in_is_throttled_per_username() {
    let a = app(support::sqlite().await).await;
    support::create_admin(&a.p.store, ADMIN_USER, ADMIN_PASSWORD).await;
    for _ in 0..5 {
        let r = sign_in(&browser(), &a.base, ADMIN_USER, "guess guess guess").await;
        assert!(location(&r).contains("error=invalid"));
    }
    // Even the right password is refused while throttled.
    let r = sign_in(&browser(), &a.base, ADMIN_USER, ADMIN_PASSWORD).await;
    let loc = location(&r);
    assert!(loc.starts_with("/sign-in?error=throttled"), "{loc}");
    assert!(loc.contains("&retry="), "{loc}");
    assert!(session_cookie(&r).is_none());
    let actions = audit_actions(&a.p.db).await;
    assert!(actions.contains(&(
        "admin.sign_in".to_string(),
        "failure".to_string(),
        "anonymous".to_string()
    )));
    let throttled = audit_event::Entity::find()
        .all(&a.p.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.detail.as_deref() == Some("throttled"))
        .count();
    assert_eq!(throttled, 1);
    // Another account from the same address is not locked out.
    support::create_admin(&a.p.store, "second", ADMIN_PASSWORD).await;
    let r = sign_in(&browser(), &a.base, "second", ADMIN_PASSWORD).await;
    assert_eq!(location(&r), "/admin/tenants");
}

#[tokio::test]
async fn next_only_leads_to_local_paths() {
    let a = app(support::sqlite().await).await;
    support::create_admin(&a.p.store, ADMIN_USER, ADMIN_PASSWORD).await;
    for (next, expected) in [
        ("/admin/audit", "/admin/audit"),
        ("//evil.example/", "/admin/tenants"),
        ("/\\evil.example", "/admin/tenants"),
        ("https://evil.example/", "/admin/tenants"),
        ("javascript:alert(1)", "/admin/tenants"),
        ("/..//evil.example", "/admin/tenants"),
        ("/%2e%2e//evil.example", "/admin/tenants"),
        ("/a/..//evil.example", "/admin/tenants"),
    ] {
        let r = browser()
            .post(format!("{}/auth/sign-in", a.base))
            .form(&[
                ("username", ADMIN_USER),
                ("password", ADMIN_PASSWORD),
                ("next", next),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(location(&r), expected, "{next}");
    }
    // A signed-in admin opening a sign-in link with a hostile next stays home.
    // (Five successful sign-ins before: they cost no throttle budget.)
    let client = browser();
    let r = sign_in(&client, &a.base, ADMIN_USER, ADMIN_PASSWORD).await;
    assert_eq!(location(&r), "/admin/tenants");
    for hostile in [
        "//evil.example",
        "/..//evil.example",
        "/%2e%2e//evil.example",
    ] {
        let r = client
            .get(format!("{}/sign-in", a.base))
            .query(&[("next", hostile)])
            .send()
            .await
            .unwrap();
        assert_eq!(location(&r), "/admin/tenants", "{hostile}");
    }
}

#[tokio::test]
async fn idle_and_absolute_timeouts_end_sessions() {
    for t in support::all().await {
        let label = t.label;
        let a = app(t).await;
        support::create_admin(&a.p.store, ADMIN_USER, ADMIN_PASSWORD).await;
        let r = sign_in(&browser(), &a.base, ADMIN_USER, ADMIN_PASSWORD).await;
        let id = cookie_value(&session_cookie(&r).unwrap());
        let set = session_cookie(&r).unwrap();
        assert!(
            set.contains("Max-Age=1800"),
            "idle timeout on the cookie: {set}"
        );
        assert_eq!(
            api_status(&with_cookie(&id), &a.base, "list_tenants").await,
            200
        );

        // Signed in 13 hours ago (absolute limit 12 h): refused, and the row is gone.
        let row = admin_session::Entity::find()
            .one(&a.p.db)
            .await
            .unwrap()
            .unwrap();
        let mut data: serde_json::Value = serde_json::from_str(&row.data).unwrap();
        let old = support::now().timestamp() - 13 * 3600;
        data["signed_in"]["signed_in_at"] = old.into();
        admin_session::Entity::update_many()
            .col_expr(
                admin_session::Column::Data,
                sea_orm::sea_query::Expr::value(data.to_string()),
            )
            .filter(admin_session::Column::IdHash.eq(row.id_hash.clone()))
            .exec(&a.p.db)
            .await
            .unwrap();
        // Edited behind the store's back: its memory is told by hand.
        a.p.store.sessions().forget_cached();
        assert_eq!(
            api_status(&with_cookie(&id), &a.base, "list_tenants").await,
            401,
            "{label}"
        );
        assert_eq!(
            admin_session::Entity::find()
                .all(&a.p.db)
                .await
                .unwrap()
                .len(),
            0
        );

        // Idle: the row's expiry has passed.
        let r = sign_in(&browser(), &a.base, ADMIN_USER, ADMIN_PASSWORD).await;
        let id = cookie_value(&session_cookie(&r).unwrap());
        let past = support::now() - chrono::Duration::minutes(1);
        admin_session::Entity::update_many()
            .col_expr(
                admin_session::Column::ExpiresAt,
                sea_orm::sea_query::Expr::value(past),
            )
            .exec(&a.p.db)
            .await
            .unwrap();
        a.p.store.sessions().forget_cached();
        assert_eq!(
            api_status(&with_cookie(&id), &a.base, "list_tenants").await,
            401,
            "{label}"
        );
    }
}

use support::call;

#[tokio::test]
async fn admins_are_added_disabled_and_change_passwords() {
    for t in support::all().await {
        let label = t.label;
        let a = app(t).await;
        let me = support::signed_in_browser(&a.p.store, &a.base).await;

        // Bad input: field reasons, nothing created.
        let (status, body) = call(
            &me,
            &a.base,
            "add_admin",
            serde_json::json!({
                "username": "a b", "password": "short", "password_confirm": "other"
            }),
        )
        .await;
        assert_eq!(status, 422, "{label}");
        let fields = &body["Invalid"];
        for f in ["username", "password", "password_confirm"] {
            assert!(fields[f].is_string(), "{f}: {body}");
        }
        let (status, body) = call(&me, &a.base, "add_admin", serde_json::json!({
            "username": "Tester", "password": "a long enough password", "password_confirm": "a long enough password"
        })).await;
        assert_eq!(status, 422, "{label}: duplicate (case-insensitive)");
        assert!(body["Invalid"]["username"]
            .as_str()
            .unwrap()
            .contains("already exists"));

        let (status, added) = call(&me, &a.base, "add_admin", serde_json::json!({
            "username": "Second.Admin", "password": "another long password", "password_confirm": "another long password"
        })).await;
        assert_eq!(status, 200, "{label}: {added}");
        assert_eq!(added["username"], "second.admin");
        let other = browser();
        sign_in(&other, &a.base, "second.admin", "another long password").await;
        assert_eq!(api_status(&other, &a.base, "list_tenants").await, 200);

        // You cannot disable yourself; disabling another signs them out at once.
        let (_, list) = call(&me, &a.base, "list_admins", serde_json::json!({})).await;
        let my_id = list
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["is_you"] == true)
            .unwrap()["id"]
            .clone();
        let (status, _) = call(
            &me,
            &a.base,
            "set_admin_disabled",
            serde_json::json!({"admin_id": my_id, "disabled": true}),
        )
        .await;
        assert_eq!(status, 409, "{label}");
        let (status, _) = call(
            &me,
            &a.base,
            "set_admin_disabled",
            serde_json::json!({"admin_id": added["id"], "disabled": true}),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(
            api_status(&other, &a.base, "list_tenants").await,
            401,
            "{label}: signed out"
        );
        let r = sign_in(&browser(), &a.base, "second.admin", "another long password").await;
        assert!(
            location(&r).contains("error=invalid"),
            "{label}: disabled cannot sign in"
        );

        // Changing the password: wrong current → field error; right → other sessions end, this one stays.
        let elsewhere = browser();
        sign_in(&elsewhere, &a.base, ADMIN_USER, ADMIN_PASSWORD).await;
        let (status, body) = call(&me, &a.base, "change_password", serde_json::json!({
            "current_password": "not it at all", "password": "a brand new passphrase", "password_confirm": "a brand new passphrase"
        })).await;
        assert_eq!(status, 422);
        assert!(body["Invalid"]["current_password"].is_string(), "{body}");
        let (status, _) = call(&me, &a.base, "change_password", serde_json::json!({
            "current_password": ADMIN_PASSWORD, "password": "a brand new passphrase", "password_confirm": "a brand new passphrase"
        })).await;
        assert_eq!(status, 200, "{label}");
        assert_eq!(
            api_status(&me, &a.base, "list_tenants").await,
            200,
            "this session stays"
        );
        assert_eq!(
            api_status(&elsewhere, &a.base, "list_tenants").await,
            401,
            "other sessions end"
        );
        let r = sign_in(&browser(), &a.base, ADMIN_USER, "a brand new passphrase").await;
        assert_eq!(location(&r), "/admin/tenants");

        // The audit log shows it all, filterable, and never a password.
        let (status, page) = call(&me, &a.base, "list_audit", serde_json::json!({"filter": {
            "action": "admin.", "actor": "", "text": "", "failures_only": false, "before_id": null
        }})).await;
        assert_eq!(status, 200);
        let actions: Vec<&str> = page["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        for expected in [
            "admin.created",
            "admin.disabled",
            "admin.password_changed",
            "admin.sign_in",
        ] {
            assert!(
                actions.contains(&expected),
                "{label}: {expected} in {actions:?}"
            );
        }
        let text = page.to_string();
        assert!(!text.contains("another long password") && !text.contains("brand new passphrase"));
        let (_, failures) = call(
            &me,
            &a.base,
            "list_audit",
            serde_json::json!({"filter": {
                "action": "", "actor": "", "text": "", "failures_only": true, "before_id": null
            }}),
        )
        .await;
        assert!(failures["entries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["outcome"] == "failure"));
        assert!(!failures["entries"].as_array().unwrap().is_empty());
    }
}

#[tokio::test]
async fn the_audit_log_is_append_only_in_the_database() {
    for t in support::all().await {
        let label = t.label;
        let a = app(t).await;
        support::signed_in_browser(&a.p.store, &a.base).await;
        let n = audit_event::Entity::find()
            .all(&a.p.db)
            .await
            .unwrap()
            .len();
        assert!(n >= 1);
        for sql in [
            "UPDATE audit_event SET actor = 'someone else'",
            "DELETE FROM audit_event",
        ] {
            let r = a.p.db.execute_unprepared(sql).await;
            assert!(r.is_err(), "{label}: {sql} must be refused");
            assert!(
                r.unwrap_err().to_string().contains("append-only"),
                "{label}"
            );
        }
        assert_eq!(
            audit_event::Entity::find()
                .all(&a.p.db)
                .await
                .unwrap()
                .len(),
            n
        );
    }
}

#[tokio::test]
async fn first_admin_through_the_setup_token() {
    for t in support::all().await {
        let label = t.label;
        let a = app(t).await;
        let anon = browser();
        let (_, needs) = call(&anon, &a.base, "setup_status", serde_json::json!({})).await;
        assert_eq!(needs, true, "{label}");
        // prepare() printed one token; issue another the same way to learn its value.
        let token =
            a.p.store
                .setup_tokens()
                .issue_if_needed()
                .await
                .unwrap()
                .expect("no admin yet, so a token is issued");
        let body = |token: &str| {
            serde_json::json!({
                "setup_token": token, "username": "first", "password": "setup admin passphrase", "password_confirm": "setup admin passphrase"
            })
        };
        let (status, err) = call(&anon, &a.base, "complete_setup", body("wrong-token")).await;
        assert_eq!(status, 422, "{label}");
        assert!(err["Invalid"]["setup_token"].is_string());
        let (status, _) = call(&anon, &a.base, "complete_setup", body(&token)).await;
        assert_eq!(status, 200, "{label}");
        let (_, needs) = call(&anon, &a.base, "setup_status", serde_json::json!({})).await;
        assert_eq!(needs, false);
        // Used once; and no token works after the first admin exists.
        let (status, _) = call(&anon, &a.base, "complete_setup", body(&token)).await;
        assert_eq!(status, 409, "{label}");
        let r = sign_in(&browser(), &a.base, "first", "setup admin passphrase").await;
        assert_eq!(location(&r), "/admin/tenants");
        assert!(a
            .p
            .store
            .setup_tokens()
            .issue_if_needed()
            .await
            .unwrap()
            .is_none());
    }
}

#[tokio::test]
async fn setup_guesses_are_throttled_per_address_and_audited_once() {
    let t = support::sqlite().await;
    let a = app(t).await;
    let anon = browser();
    let token =
        a.p.store
            .setup_tokens()
            .issue_if_needed()
            .await
            .unwrap()
            .expect("no admin yet");
    let body = |token: &str| {
        serde_json::json!({
            "setup_token": token, "username": "first", "password": "setup admin passphrase", "password_confirm": "setup admin passphrase"
        })
    };
    // The per-address allowance (30), each refused as a wrong token...
    for i in 0..30 {
        let (status, err) = call(
            &anon,
            &a.base,
            "complete_setup",
            body(&format!("guess-{i}")),
        )
        .await;
        assert_eq!(status, 422, "guess {i}");
        let reason = err["Invalid"]["setup_token"].as_str().unwrap_or_default();
        assert!(reason.contains("not valid"), "guess {i}: {err}");
    }
    // ...then the address is slowed down, even with the right token.
    let (status, err) = call(&anon, &a.base, "complete_setup", body(&token)).await;
    assert_eq!(status, 422);
    let reason = err["Invalid"]["setup_token"].as_str().unwrap_or_default();
    assert!(reason.starts_with("Too many attempts. Wait "), "{err}");
    let (_, needs) = call(&anon, &a.base, "setup_status", serde_json::json!({})).await;
    assert_eq!(needs, true, "nobody was made admin");
    // Thirty anonymous failures: one audit row, not thirty.
    let setups = audit_event::Entity::find()
        .all(&a.p.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "admin.setup")
        .count();
    assert_eq!(setups, 1);
}

#[tokio::test]
async fn cli_creates_admins_with_the_password_from_stdin() {
    use std::io::Write;
    let t = support::sqlite().await;
    let bin = env!("CARGO_BIN_EXE_tenant-mail");
    let run = |args: &[&str], stdin: &str| {
        let mut child = std::process::Command::new(bin)
            .args(args)
            .env("TENANT_MAIL_DATABASE_URL", &t.config.database_url)
            .env("TENANT_MAIL_KEY_FILE", &t.config.key_file)
            .env("TENANT_MAIL_LOG_LEVEL", "warn")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).to_string()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let (ok, out) = run(&["admin", "create", "--username", "Ops"], "too short\n");
    assert!(!ok, "a weak password is refused: {out}");
    assert!(out.contains("12 characters"), "{out}");
    let (ok, out) = run(
        &["admin", "create", "--username", "Ops"],
        "a perfectly fine passphrase\n",
    );
    assert!(ok, "{out}");
    assert!(
        !out.contains("perfectly fine"),
        "the password is not echoed: {out}"
    );
    let (ok, out) = run(&["admin", "list"], "");
    assert!(ok && out.contains("ops\tenabled"), "{out}");
    let (ok, _) = run(
        &["admin", "create", "--username", "ops"],
        "a perfectly fine passphrase\n",
    );
    assert!(!ok, "duplicate refused");

    let a = app(t).await;
    let r = sign_in(&browser(), &a.base, "ops", "a perfectly fine passphrase").await;
    assert_eq!(location(&r), "/admin/tenants");
}

#[tokio::test]
async fn a_deleted_session_is_not_brought_back_by_a_late_save() {
    use tower_sessions::session::{Id, Record};
    use tower_sessions::SessionStore;
    for t in support::all().await {
        let label = t.label;
        let a = app(t).await;
        let store = a.p.auth.sessions.clone();
        let mut record = Record {
            id: Id::default(),
            data: Default::default(),
            expiry_date: time::OffsetDateTime::now_utc() + time::Duration::minutes(30),
        };
        store.create(&mut record).await.unwrap();
        assert!(store.load(&record.id).await.unwrap().is_some());
        // Signed out (or disabled) elsewhere, while a request of this session was running…
        store.delete(&record.id).await.unwrap();
        // …which then ends and saves its changed session.
        record.data.insert("touched".into(), serde_json::json!(1));
        store.save(&record).await.unwrap();
        assert!(store.load(&record.id).await.unwrap().is_none(), "{label}");
    }
}

#[tokio::test]
async fn failed_sign_ins_count_across_instances() {
    for t in support::all().await {
        let label = t.label;
        let a = app(t).await;
        // A second instance on the same database, with its own memory.
        let b = prepare(&a._t.config, support::leptos_options())
            .await
            .unwrap();
        let b_base = support::serve(b.router.clone()).await;
        support::create_admin(&a.p.store, ADMIN_USER, ADMIN_PASSWORD).await;
        for base in [&a.base, &b_base, &a.base, &b_base, &a.base] {
            let r = sign_in(&browser(), base, ADMIN_USER, "guess guess guess").await;
            assert!(location(&r).contains("error=invalid"), "{label}");
        }
        // Five guesses spread over two instances used up the one budget.
        let r = sign_in(&browser(), &b_base, ADMIN_USER, ADMIN_PASSWORD).await;
        assert!(
            location(&r).starts_with("/sign-in?error=throttled"),
            "{label}: {}",
            location(&r)
        );
    }
}

#[tokio::test]
async fn successful_sign_ins_do_not_use_up_the_budget() {
    for t in support::all().await {
        let label = t.label;
        let a = app(t).await;
        support::create_admin(&a.p.store, ADMIN_USER, ADMIN_PASSWORD).await;
        // Twice the failure budget of right passwords, with two typos between.
        for i in 0..10 {
            if i == 4 || i == 7 {
                let r = sign_in(&browser(), &a.base, ADMIN_USER, "typo typo typo").await;
                assert!(location(&r).contains("error=invalid"), "{label}");
            }
            let r = sign_in(&browser(), &a.base, ADMIN_USER, ADMIN_PASSWORD).await;
            assert_eq!(location(&r), "/admin/tenants", "{label}: sign-in {i}");
        }
    }
}

#[tokio::test]
async fn one_address_cannot_lock_an_admin_out_but_many_together_are_slowed() {
    use server::auth::throttle::{Limits, SignInThrottle, Verdict};
    for t in support::all().await {
        let label = t.label;
        let a = app(t).await;
        let now = support::now();
        let clock = support::ManualClock::at(now);
        let throttle = &SignInThrottle::new(a.p.store.with_clock(clock.clone()), Limits::default());
        let go = |v: &Verdict| matches!(v, Verdict::Go(_));
        // One hostile address: five guesses, then refused...
        for i in 0..5 {
            let v = throttle.attempt("203.0.113.9", "alice").await.unwrap();
            assert!(go(&v), "{label}: guess {i}");
        }
        let v = throttle.attempt("203.0.113.9", "alice").await.unwrap();
        let Verdict::Wait(wait) = v else {
            panic!("{label}: sixth guess from one address allowed")
        };
        assert!((1..=12).contains(&wait), "{label}: wait {wait}");
        // ...while alice, from her own address, still gets in.
        let v = throttle.attempt("198.51.100.7", "alice").await.unwrap();
        let Verdict::Go(charge) = v else {
            panic!("{label}: alice locked out by one address")
        };
        throttle.succeeded(charge).await;
        // Ten failures from many addresses empty the account's shared bucket.
        for i in 0..5 {
            let ip = format!("192.0.2.{i}");
            let v = throttle.attempt(&ip, "alice").await.unwrap();
            assert!(go(&v), "{label}: distributed guess {i}");
        }
        let v = throttle.attempt("198.51.100.7", "alice").await.unwrap();
        assert!(
            matches!(v, Verdict::Wait(w) if (1..=6).contains(&w)),
            "{label}: {v:?}"
        );
        // Other accounts are untouched, and the bucket refills with time.
        let v = throttle.attempt("203.0.113.9", "bob").await.unwrap();
        assert!(go(&v), "{label}");
        clock.advance(chrono::Duration::seconds(61));
        let v = throttle.attempt("203.0.113.9", "alice").await.unwrap();
        assert!(go(&v), "{label}: refilled after a minute");
        // Refilled buckets are removed by housekeeping; bob's is not yet full.
        clock.set(now);
        let removed = throttle.purge().await.unwrap();
        assert_eq!(removed, 0, "{label}");
        clock.set(now + chrono::Duration::seconds(181));
        let removed = throttle.purge().await.unwrap();
        // alice: 7 address buckets and her own; bob: one of each.
        assert_eq!(removed, 10, "{label}");
    }
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_client_is_throttled_and_audited() {
    async fn failed_sign_in(base: &str, forwarded_for: &str) {
        let r = browser()
            .post(format!("{base}/auth/sign-in"))
            .header("x-forwarded-for", forwarded_for)
            .header("x-request-id", "forged-request-id")
            .form(&[("username", ADMIN_USER), ("password", "guess guess guess")])
            .send()
            .await
            .unwrap();
        assert!(location(&r).contains("error="), "{}", location(&r));
    }
    async fn last_event(db: &sea_orm::DatabaseConnection) -> audit_event::Model {
        let mut all = audit_event::Entity::find().all(db).await.unwrap();
        all.sort_by_key(|e| e.id);
        all.pop().unwrap()
    }
    // Not configured: the header is the client's word and is ignored.
    let a = app(support::sqlite().await).await;
    support::create_admin(&a.p.store, ADMIN_USER, ADMIN_PASSWORD).await;
    failed_sign_in(&a.base, "203.0.113.9").await;
    let e = last_event(&a.p.db).await;
    assert_eq!(e.ip.as_deref(), Some("127.0.0.1"));
    // The server makes every request id; a client's is never recorded.
    let id = e.request_id.unwrap();
    assert_ne!(id, "forged-request-id");
    assert_eq!(uuid::Uuid::parse_str(&id).unwrap().get_version_num(), 4);

    // The loopback proxy trusted: each forwarded client is its own address.
    let mut t = support::sqlite().await;
    t.config.trusted_proxies = server::config::parse_proxies("127.0.0.1").unwrap();
    let a = app(t).await;
    support::create_admin(&a.p.store, ADMIN_USER, ADMIN_PASSWORD).await;
    for _ in 0..5 {
        failed_sign_in(&a.base, "203.0.113.9").await;
    }
    let e = last_event(&a.p.db).await;
    assert_eq!(e.ip.as_deref(), Some("203.0.113.9"));
    // That address has used its budget for this admin; another has not.
    let r = browser()
        .post(format!("{}/auth/sign-in", a.base))
        .header("x-forwarded-for", "203.0.113.9")
        .form(&[("username", ADMIN_USER), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert!(location(&r).contains("error=throttled"), "{}", location(&r));
    let r = browser()
        .post(format!("{}/auth/sign-in", a.base))
        .header("x-forwarded-for", "1.2.3.4, 198.51.100.7")
        .form(&[("username", ADMIN_USER), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&r), "/admin/tenants");
    let e = last_event(&a.p.db).await;
    assert_eq!(e.action, "admin.sign_in");
    assert_eq!(e.ip.as_deref(), Some("198.51.100.7"));
}

#[tokio::test]
async fn a_weaker_password_hash_is_upgraded_at_sign_in() {
    use argon2::password_hash::{PasswordHasher, SaltString};
    for t in support::all().await {
        let label = t.label;
        let a = app(t).await;
        // An older, cheaper hash (as an earlier release or import might have left).
        let weak = argon2::Argon2::new(
            argon2::Algorithm::Argon2id,
            argon2::Version::V0x13,
            argon2::Params::new(4096, 1, 1, None).unwrap(),
        )
        .hash_password(
            ADMIN_PASSWORD.as_bytes(),
            &SaltString::encode_b64(b"sixteen byte salt").unwrap(),
        )
        .unwrap()
        .to_string();
        a.p.store
            .admins()
            .create(&support::actor(), ADMIN_USER, &weak)
            .await
            .unwrap();
        let stored = || async {
            a.p.store
                .admins()
                .by_username(ADMIN_USER)
                .await
                .unwrap()
                .unwrap()
                .password_hash
        };
        // A wrong password changes nothing.
        sign_in(&browser(), &a.base, ADMIN_USER, "guess guess guess").await;
        assert_eq!(stored().await, weak, "{label}");
        let r = sign_in(&browser(), &a.base, ADMIN_USER, ADMIN_PASSWORD).await;
        assert_eq!(location(&r), "/admin/tenants", "{label}");
        let upgraded = stored().await;
        assert!(
            upgraded.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{label}: {upgraded}"
        );
        // And the password still works against the new hash.
        let r = sign_in(&browser(), &a.base, ADMIN_USER, ADMIN_PASSWORD).await;
        assert_eq!(location(&r), "/admin/tenants", "{label}");
        assert_eq!(stored().await, upgraded, "{label}: rehashed only once");
    }
}

#[tokio::test]
async fn the_audit_log_exports_as_csv_with_its_filter_and_the_export_is_audited() {
    for t in support::all().await {
        let label = t.label;
        let a = app(t).await;
        support::create_admin(&a.p.store, ADMIN_USER, ADMIN_PASSWORD).await;
        sign_in(&browser(), &a.base, "nobody", "guess guess guess").await;
        // More than two export pages of events (1000 each).
        let system = server::db::audit::system();
        for i in 0..2100 {
            let event = server::db::audit::Event::new("tenant.created").target(
                "tenant",
                &format!("id-{i}"),
                &format!("Tenant {i}"),
            );
            a.p.store.audit().record(&system, event).await.unwrap();
        }
        let admin = browser();
        sign_in(&admin, &a.base, ADMIN_USER, ADMIN_PASSWORD).await;
        let export = |query: &'static str| {
            let admin = admin.clone();
            let url = format!("{}/admin/audit/export.csv{query}", a.base);
            async move {
                let r = admin.get(url).send().await.unwrap();
                assert_eq!(r.status(), 200);
                assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
                let disposition = r.headers()["content-disposition"]
                    .to_str()
                    .unwrap()
                    .to_string();
                assert!(disposition.starts_with("attachment; filename=\"tenant-mail-audit-"));
                assert_eq!(r.headers()["cache-control"], "no-store");
                let body = r.text().await.unwrap();
                let mut reader = csv::Reader::from_reader(body.as_bytes());
                let header: Vec<String> =
                    reader.headers().unwrap().iter().map(String::from).collect();
                assert_eq!(
                    header,
                    [
                        "id",
                        "time_utc",
                        "admin",
                        "action",
                        "outcome",
                        "target",
                        "detail",
                        "address",
                        "request_id"
                    ]
                );
                reader
                    .records()
                    .map(|r| r.unwrap().iter().map(String::from).collect::<Vec<_>>())
                    .collect::<Vec<_>>()
            }
        };
        // Filtered: only the failed sign-in.
        let rows = export("?action=admin.sign_in&actor=&text=&failures_only=true").await;
        assert_eq!(rows.len(), 1, "{label}: {rows:?}");
        assert_eq!(rows[0][3], "admin.sign_in");
        assert_eq!(rows[0][4], "failure");
        assert_eq!(rows[0][7], "127.0.0.1");
        // Everything: every page, newest first, nothing twice.
        let rows = export("").await;
        let total = audit_event::Entity::find()
            .all(&a.p.db)
            .await
            .unwrap()
            .len();
        // The log as it was when asked for: the first export's entry is the
        // newest row, this export's own entry is not in its file.
        assert_eq!(rows.len(), total - 1, "{label}");
        assert_eq!(rows[0][3], "audit.exported", "{label}");
        assert!(
            rows[0][6].contains("admin.sign_in"),
            "{label}: {:?}",
            rows[0]
        );
        // A link on another site (or a sibling subdomain, or a request that
        // names no page of ours) cannot make an admin's browser export.
        for (header, value) in [
            ("sec-fetch-site", "cross-site"),
            ("sec-fetch-site", "same-site"),
            ("sec-fetch-site", "none"),
            ("origin", "http://evil.example"),
        ] {
            let r = admin
                .get(format!("{}/admin/audit/export.csv", a.base))
                .header(header, value)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 403, "{label}: {header}: {value}");
        }
        let ids: Vec<i64> = rows.iter().map(|r| r[0].parse().unwrap()).collect();
        assert!(
            ids.windows(2).all(|w| w[0] > w[1]),
            "{label}: newest first, no repeats"
        );
        assert!(rows.iter().any(|r| r[5] == "tenant: Tenant 0"), "{label}");
        // Each export is in the log: who, and with which filter.
        let mut all = audit_event::Entity::find().all(&a.p.db).await.unwrap();
        all.sort_by_key(|e| e.id);
        let exports: Vec<_> = all
            .into_iter()
            .filter(|e| e.action == "audit.exported")
            .map(|e| (e.actor, e.detail.unwrap_or_default()))
            .collect();
        assert_eq!(
            exports,
            [
                (
                    ADMIN_USER.to_string(),
                    "action \"admin.sign_in\", failures only".to_string()
                ),
                (ADMIN_USER.to_string(), "everything".to_string())
            ],
            "{label}"
        );
    }
}

#[tokio::test]
async fn ipv6_clients_count_by_their_64() {
    use server::auth::throttle::Verdict;
    let a = app(support::sqlite().await).await;
    for i in 0..5 {
        let ip = format!("2001:db8:1:2::{i:x}");
        let v = a.p.auth.throttle.attempt(&ip, "alice").await.unwrap();
        assert!(matches!(v, Verdict::Go(_)), "guess {i}");
    }
    // A fresh address of the same /64 is the same client.
    let v =
        a.p.auth
            .throttle
            .attempt("2001:db8:1:2:ffff::1", "alice")
            .await
            .unwrap();
    assert!(matches!(v, Verdict::Wait(_)), "{v:?}");
    let v =
        a.p.auth
            .throttle
            .attempt("2001:db8:1:3::1", "alice")
            .await
            .unwrap();
    assert!(matches!(v, Verdict::Go(_)), "{v:?}");
}

/// Polls `base` with `client` for up to 5 s until `list_tenants` answers
/// `want`; returns the last status.
async fn until_status(client: &reqwest::Client, base: &str, want: u16) -> u16 {
    let mut status = 0;
    for _ in 0..100 {
        status = api_status(client, base, "list_tenants").await;
        if status == want {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    status
}

#[tokio::test]
async fn sessions_held_in_memory_end_on_every_instance_at_once() {
    use sea_orm::EntityTrait;
    use server::db::entities::admin_session;
    for t in support::all().await {
        let label = t.label;
        let postgres = label != "sqlite";
        let a = app(t).await;
        // PostgreSQL: a second instance, hearing of changes by notification.
        // SQLite is one process by design: the second "instance" is the same.
        let b = if postgres {
            let p = prepare(&a._t.config, support::leptos_options())
                .await
                .unwrap();
            let base = support::serve(p.router.clone()).await;
            Some((p, base))
        } else {
            None
        };
        let (b_store, b_base) = match &b {
            Some((p, base)) => (p.store.clone(), base.clone()),
            None => (a.p.store.clone(), a.base.clone()),
        };
        for _ in 0..100 {
            if b_store.sessions().cached() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(b_store.sessions().cached(), "{label}: B's cache is on");

        support::create_admin(&a.p.store, ADMIN_USER, ADMIN_PASSWORD).await;
        let signed_in = |base: String| async move {
            let r = sign_in(&browser(), &base, ADMIN_USER, ADMIN_PASSWORD).await;
            cookie_value(&session_cookie(&r).expect("a session cookie"))
        };

        // The cache is in use: a session deleted behind its back (no
        // notification, as only a hand edit of the table would) is still
        // served by B until it is told or its TTL passes.
        let hidden = with_cookie(&signed_in(a.base.clone()).await);
        assert_eq!(
            api_status(&hidden, &b_base, "list_tenants").await,
            200,
            "{label}"
        );
        admin_session::Entity::delete_many()
            .exec(&a.p.db)
            .await
            .unwrap();
        assert_eq!(
            api_status(&hidden, &b_base, "list_tenants").await,
            200,
            "{label}: served from B's memory"
        );

        // Sign-out on A: B refuses the same cookie as soon as it hears.
        let cookie = signed_in(a.base.clone()).await;
        let old = with_cookie(&cookie);
        assert_eq!(
            api_status(&old, &b_base, "list_tenants").await,
            200,
            "{label}"
        );
        assert_eq!(
            api_status(&old, &b_base, "list_tenants").await,
            200,
            "{label}"
        );
        let r = old
            .post(format!("{}/auth/sign-out", a.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "{label}");
        let started = std::time::Instant::now();
        assert_eq!(
            until_status(&old, &b_base, 401).await,
            401,
            "{label}: signed out on B too"
        );
        let took = started.elapsed();
        assert!(
            took < std::time::Duration::from_secs(2),
            "{label}: {took:?}"
        );

        // Disabling an admin on A ends their sessions held by B.
        let me = with_cookie(&signed_in(a.base.clone()).await);
        let (status, other) = call(
            &me,
            &a.base,
            "add_admin",
            serde_json::json!({
                "username": "other.admin", "password": "another long password", "password_confirm": "another long password"
            }),
        )
        .await;
        assert_eq!(status, 200, "{label}: {other}");
        let r = sign_in(&browser(), &a.base, "other.admin", "another long password").await;
        let theirs = with_cookie(&cookie_value(&session_cookie(&r).unwrap()));
        assert_eq!(
            api_status(&theirs, &b_base, "list_tenants").await,
            200,
            "{label}"
        );
        let (status, _) = call(
            &me,
            &a.base,
            "set_admin_disabled",
            serde_json::json!({"admin_id": other["id"], "disabled": true}),
        )
        .await;
        assert_eq!(status, 200, "{label}");
        assert_eq!(
            until_status(&theirs, &b_base, 401).await,
            401,
            "{label}: disabled on B too"
        );
        assert_eq!(
            api_status(&me, &b_base, "list_tenants").await,
            200,
            "{label}: the others stay"
        );
    }
}
