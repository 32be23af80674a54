//! Connecting a mailbox (issue 4) against the in-process Microsoft stand-in,
//! on SQLite and (when available) PostgreSQL. Tenant Mail's OAuth routes are
//! called in-process (`oneshot`); the stand-in's sign-in pages are driven with
//! reqwest by following their forms, as a browser would.
mod support;

use app::model::{ConnectionStatus, TenantEmailInput};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use ms_stand_in::fixture::{ADMIN, CLIENT, EXPIRED_SECRET, MAILBOX, SECRET, SECRET_ID, TENANT};
use ms_stand_in::{ConsentGrant, StandIn};
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, Statement};
use server::clock::Clock;
use server::db::entities::{audit_event, mailbox_connection, oauth_flow};
use server::identity::Identity;
use server::routes::oauth_callback::{self, OAuthState};
use server::secrets::Binding;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use support::Reply;
use tower::ServiceExt;

/// The harness on the stand-in's manual clock: "advance the clock" moves
/// both sides; the OAuth routes are called in-process as `support::actor()`.
type Env = support::Mailbox;

fn email_input(s: &StandIn, secret: &str) -> TenantEmailInput {
    TenantEmailInput {
        application_id: CLIENT.into(),
        ..support::email_input(MAILBOX, &s.authority("common"), secret)
    }
}

async fn env(t: support::TestDb) -> Env {
    support::Mailbox::start(t, support::Time::Manual).await
}

/// A started flow: where Microsoft is, and the browser's flow cookie.
struct Started {
    authorize_url: String,
    cookie: String,
    set_cookie: String,
}

impl Env {
    /// One request to the OAuth routes, in-process.
    async fn oauth(&self, request: Request<Body>) -> Reply {
        Reply::of_axum(self.router.clone().oneshot(request).await.unwrap()).await
    }

    async fn begin_with(&self, email_id: &str, body: &str) -> Reply {
        self.oauth(
            Request::post(format!("/core/oauth2/begin/{}/{email_id}", self.tenant_id))
                .header("content-type", "application/x-www-form-urlencoded")
                .header("origin", "http://localhost:3000")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await
    }

    async fn begin(&self) -> Started {
        self.begin_for(&self.email_id).await
    }

    async fn begin_for(&self, email_id: &str) -> Started {
        let r = self.begin_with(email_id, "").await;
        assert_eq!(
            r.status,
            StatusCode::SEE_OTHER,
            "{}: {}",
            self.label,
            r.body
        );
        let set_cookie = r.header("set-cookie");
        let cookie = set_cookie.split(';').next().unwrap().to_string();
        Started {
            authorize_url: r.header("location"),
            cookie,
            set_cookie,
        }
    }

    /// Passes the stand-in's sign-in pages; returns the callback path and query.
    async fn sign_in(&self, authorize_url: &str, account_oid: &str, consent: &str) -> String {
        support::pass_sign_in(
            &self.browser,
            &self.stand_in.base_url(),
            authorize_url,
            &self.redirect_uri,
            account_oid,
            consent,
        )
        .await
    }

    async fn callback(&self, path_and_query: &str, cookie: Option<&str>) -> Reply {
        let mut request = Request::get(path_and_query);
        if let Some(c) = cookie {
            request = request.header("cookie", c);
        }
        self.oauth(request.body(Body::empty()).unwrap()).await
    }

    /// Begin → sign in as `oid` → callback.
    async fn connect_as(&self, oid: &str) -> Reply {
        let started = self.begin().await;
        let back = self.sign_in(&started.authorize_url, oid, "accept").await;
        self.callback(&back, Some(&started.cookie)).await
    }

    async fn connection(&self) -> Option<mailbox_connection::Model> {
        mailbox_connection::Entity::find_by_id(self.email_id.clone())
            .one(&self.p.db)
            .await
            .unwrap()
    }

    async fn status(&self) -> ConnectionStatus {
        self.p
            .backend
            .get_tenant_email(&self.tenant_id, &self.email_id)
            .await
            .unwrap()
            .status
    }

    fn token_requests(&self) -> usize {
        self.stand_in.ledger().token_requests.len()
    }

    fn open(&self, column: &str, sealed: &str) -> String {
        self.p
            .keys
            .open(
                sealed,
                &Binding {
                    table: "mailbox_connection",
                    column,
                    row_id: &self.email_id,
                },
            )
            .unwrap()
    }

    /// Every text value stored in the tables the flow writes.
    async fn stored_text(&self) -> String {
        let mut all = String::new();
        for table in ["mailbox_connection", "oauth_flow", "tenant_email"] {
            let rows = self
                .p
                .db
                .query_all_raw(Statement::from_string(
                    self.p.db.get_database_backend(),
                    format!("SELECT * FROM {table}"),
                ))
                .await
                .unwrap();
            for row in rows {
                for col in row.column_names() {
                    if let Ok(Some(v)) = row.try_get::<Option<String>>("", &col) {
                        all.push_str(&v);
                        all.push('\n');
                    }
                }
            }
        }
        all
    }
}

fn query_of(url: &str) -> HashMap<String, String> {
    let (_, q) = url.split_once('?').unwrap();
    url::form_urlencoded::parse(q.as_bytes())
        .into_owned()
        .collect()
}

fn assert_hardened(r: &Reply) {
    assert_eq!(r.header("referrer-policy"), "no-referrer");
    assert_eq!(r.header("cache-control"), "no-store");
}

#[tokio::test]
async fn happy_path_connects_stores_sealed_tokens_and_reauthenticates() {
    for t in support::all().await {
        let e = env(t).await;
        let started = e.begin().await;
        // The authorize request, parameter by parameter.
        let q = query_of(&started.authorize_url);
        assert!(started.authorize_url.starts_with(&format!(
            "{}/oauth2/v2.0/authorize?",
            e.stand_in.authority("common")
        )));
        assert_eq!(q["client_id"], CLIENT);
        assert_eq!(q["response_type"], "code");
        assert_eq!(
            q["redirect_uri"],
            "http://localhost:3000/core/oauth2/validated"
        );
        assert_eq!(
            q["scope"],
            "openid profile offline_access user.read mail.read mail.send mail.readwrite"
        );
        assert!(q["state"].len() >= 43, "state has at least 256 bits");
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(q["code_challenge"].len(), 43);
        assert!(q["nonce"].len() >= 43);
        assert_eq!(q["response_mode"], "query");
        assert_eq!(q["login_hint"], MAILBOX);
        assert_eq!(q["prompt"], "select_account");
        // The flow cookie.
        assert!(
            started.set_cookie.contains("HttpOnly"),
            "{}",
            started.set_cookie
        );
        assert!(started.set_cookie.contains("SameSite=Lax"));
        assert!(started.set_cookie.contains("Path=/core/oauth2/"));
        assert!(
            !started.set_cookie.contains("Secure"),
            "plain-http localhost"
        );
        // The state is not stored in clear.
        let stored = e.stored_text().await;
        assert!(!stored.contains(&q["state"]), "{}", e.label);

        let back = e
            .sign_in(&started.authorize_url, &e.mailbox_oid, "accept")
            .await;
        let r = e.callback(&back, Some(&started.cookie)).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}: {}", e.label, r.body);
        assert_eq!(
            r.header("location"),
            format!(
                "/admin/tenants/{}/emails/{}?connected=1",
                e.tenant_id, e.email_id
            )
        );
        assert_hardened(&r);
        assert!(
            r.header("set-cookie").contains("Max-Age=0"),
            "flow cookie cleared"
        );
        assert_eq!(e.status().await, ConnectionStatus::Connected, "{}", e.label);

        let c = e.connection().await.expect("connection stored");
        assert_eq!(c.oid, e.mailbox_oid);
        assert_eq!(c.tid, TENANT);
        assert_eq!(
            c.tenant_name.as_deref(),
            Some("Contoso"),
            "the tenant's name, from Graph"
        );
        assert_eq!(c.upn, MAILBOX);
        assert_eq!(c.client_id, CLIENT);
        assert!(c.access_token_expires_at.is_some());
        let refresh = e.open("refresh_token", &c.refresh_token);
        let access = e.open("access_token", c.access_token.as_deref().unwrap());
        assert!(c.refresh_token.starts_with("tm1."));
        // Plaintext tokens are nowhere in the database.
        let stored = e.stored_text().await;
        assert!(
            stored.contains(MAILBOX) && stored.contains(&c.refresh_token),
            "{}: the dump reads the tables",
            e.label
        );
        assert!(!stored.contains(&refresh), "{}", e.label);
        assert!(!stored.contains(&access), "{}", e.label);
        if e.label == "sqlite" {
            let mut raw = std::fs::read(e.t.sqlite_path()).unwrap();
            raw.extend(
                std::fs::read(e.t.sqlite_path().with_extension("db-wal")).unwrap_or_default(),
            );
            let raw = String::from_utf8_lossy(&raw);
            assert!(!raw.contains(&refresh) && !raw.contains(&access));
            assert!(!raw.contains(SECRET));
        }
        // A token sealed for this row does not open as another row's.
        assert!(e
            .p
            .keys
            .open(
                &c.refresh_token,
                &Binding {
                    table: "mailbox_connection",
                    column: "refresh_token",
                    row_id: "another-row",
                },
            )
            .is_err());
        // The stored refresh token works at Microsoft.
        let response = e
            .browser
            .post(format!(
                "{}/oauth2/v2.0/token",
                e.stand_in.authority("common")
            ))
            .form(&[
                ("client_id", CLIENT),
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh.as_str()),
                ("client_secret", SECRET),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        // The code exchange sent the secret in the body.
        let ledger = e.stand_in.ledger();
        let exchange = ledger
            .token_requests
            .iter()
            .find(|r| r.grant_type.as_deref() == Some("authorization_code"))
            .unwrap();
        assert_eq!(exchange.client_auth, "body");
        assert_eq!(exchange.status, 200);

        // Re-authenticate with the same account: still connected, tokens replaced.
        let r = e.connect_as(&e.mailbox_oid).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}: {}", e.label, r.body);
        let again = e.connection().await.unwrap();
        assert_eq!(again.oid, e.mailbox_oid);
        assert_eq!(again.version, 2);
        assert_ne!(again.refresh_token, c.refresh_token);
        assert_eq!(e.status().await, ConnectionStatus::Connected);
    }
}

#[tokio::test]
async fn wrong_account_is_rejected_and_keeps_the_previous_connection() {
    for t in support::all().await {
        let e = env(t).await;
        // Never connected: the wrong account stores nothing.
        let r = e.connect_as(&e.admin_oid).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}: {}", e.label, r.body);
        assert!(
            r.body.contains(&format!(
                "You signed in as {ADMIN}, but this Tenant Email is {MAILBOX}. Choose {MAILBOX} in Microsoft&#39;s account picker"
            )),
            "{}",
            r.body
        );
        assert!(r.body.contains(&format!(
            "/admin/tenants/{}/emails/{}",
            e.tenant_id, e.email_id
        )));
        assert_hardened(&r);
        assert!(e.connection().await.is_none());
        assert_eq!(e.status().await, ConnectionStatus::NotAuthenticated);

        // Connected, then a re-authentication with the wrong account.
        let r = e.connect_as(&e.mailbox_oid).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let before = e.connection().await.unwrap();
        let r = e.connect_as(&e.admin_oid).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let after = e.connection().await.unwrap();
        assert_eq!(before, after, "{}: previous connection intact", e.label);
        assert_eq!(e.status().await, ConnectionStatus::Connected);
    }
}

#[tokio::test]
async fn cancel_at_consent_shows_aadsts65004_and_stores_nothing() {
    for t in support::all().await {
        let e = env(t).await;
        e.stand_in
            .revoke_consent(ConsentGrant {
                client_id: CLIENT.into(),
                tenant_id: Some(TENANT.into()),
                ..ConsentGrant::default()
            })
            .unwrap();
        let started = e.begin().await;
        let back = e
            .sign_in(&started.authorize_url, &e.mailbox_oid, "cancel")
            .await;
        let before = e.token_requests();
        let r = e.callback(&back, Some(&started.cookie)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        assert!(r.body.contains("AADSTS65004"), "{}", r.body);
        assert!(r.body.contains("declined"), "{}", r.body);
        assert!(r.body.contains("access_denied"));
        assert!(!r.body.contains("Trace ID"));
        assert_eq!(e.token_requests(), before, "no token request");
        assert!(e.connection().await.is_none());
        assert_eq!(e.status().await, ConnectionStatus::NotAuthenticated);
    }
}

#[tokio::test]
async fn replayed_expired_and_cookieless_states_never_reach_the_token_endpoint() {
    for t in support::all().await {
        let e = env(t).await;
        // Replay of a completed callback.
        let started = e.begin().await;
        let back = e
            .sign_in(&started.authorize_url, &e.mailbox_oid, "accept")
            .await;
        let r = e.callback(&back, Some(&started.cookie)).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let before = e.token_requests();
        let r = e.callback(&back, Some(&started.cookie)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.body.contains("expired or was already used"), "{}", r.body);
        assert_hardened(&r);
        assert_eq!(e.token_requests(), before);

        // Cookie missing, or another browser's, or a malformed answer from
        // someone who only knows the state: refused, and the flow is left
        // alone — a leaked state cannot cancel the admin's sign-in, which
        // then finishes in the admin's own browser.
        let started = e.begin().await;
        let back = e
            .sign_in(&started.authorize_url, &e.mailbox_oid, "accept")
            .await;
        let r = e.callback(&back, None).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.body.contains("another browser"), "{}", r.body);
        let name = started.cookie.split('=').next().unwrap();
        let r = e.callback(&back, Some(&format!("{name}=forged"))).await;
        assert!(r.body.contains("another browser"), "{}", r.body);
        let r = e.callback(&format!("{back}&code=second"), None).await;
        assert!(r.body.contains("more than once"), "{}", r.body);
        assert_eq!(e.token_requests(), before, "nothing reached Microsoft");
        let r = e.callback(&back, Some(&started.cookie)).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let before = e.token_requests();
        // A malformed answer in the admin's own browser is a 400 and burns
        // the flow: it cannot be replayed afterwards in a well-formed shape.
        let started = e.begin().await;
        let back = e
            .sign_in(&started.authorize_url, &e.mailbox_oid, "accept")
            .await;
        let r = e
            .callback(&format!("{back}&code=second"), Some(&started.cookie))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.body.contains("more than once"), "{}", r.body);
        let r = e.callback(&back, Some(&started.cookie)).await;
        assert!(r.body.contains("already used"), "{}", r.body);
        assert_eq!(e.token_requests(), before);

        // Expired: sign-in took longer than 10 minutes.
        let started = e.begin().await;
        let back = e
            .sign_in(&started.authorize_url, &e.mailbox_oid, "accept")
            .await;
        e.stand_in.advance(Duration::from_secs(11 * 60));
        let r = e.callback(&back, Some(&started.cookie)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.body.contains("expired"), "{}", r.body);
        assert_eq!(e.token_requests(), before);

        // Unknown state.
        let r = e
            .callback(
                "/core/oauth2/validated?code=abc&state=nobody-made-this",
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.body.contains("click Authenticate again"));

        // iss naming another server (RFC 9207).
        let started = e.begin().await;
        let back = e
            .sign_in(&started.authorize_url, &e.mailbox_oid, "accept")
            .await;
        let r = e
            .callback(
                &format!("{back}&iss=https%3A%2F%2Fevil.example%2Fx%2Fv2.0"),
                Some(&started.cookie),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.body.contains("another identity provider"), "{}", r.body);
        assert_eq!(e.token_requests(), before);
        assert_eq!(
            e.status().await,
            ConnectionStatus::Connected,
            "{}: the first connection is untouched",
            e.label
        );
    }
}

#[tokio::test]
async fn reused_code_is_refused_by_microsoft_and_explained() {
    for t in support::all().await {
        let e = env(t).await;
        let started = e.begin().await;
        let back = e
            .sign_in(&started.authorize_url, &e.mailbox_oid, "accept")
            .await;
        let r = e.callback(&back, Some(&started.cookie)).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let before = e.connection().await.unwrap();
        let code = query_of(&back)["code"].clone();
        // A new flow (valid state and cookie) carrying the already redeemed code.
        let second = e.begin().await;
        let state = query_of(&second.authorize_url)["state"].clone();
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("code", &code)
            .append_pair("state", &state)
            .finish();
        let r = e
            .callback(
                &format!("/core/oauth2/validated?{query}"),
                Some(&second.cookie),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_GATEWAY, "{}", r.body);
        assert!(r.body.contains("invalid_grant"), "{}", r.body);
        assert!(
            r.body.contains("AADSTS54005") || r.body.contains("AADSTS501481"),
            "{}",
            r.body
        );
        assert_eq!(e.connection().await.unwrap(), before);
    }
}

#[tokio::test]
async fn wrong_and_expired_secrets_are_explained() {
    for t in support::all().await {
        let e = env(t).await;
        for (secret, code, advice) in [
            (
                "not-the-secret",
                "AADSTS7000215",
                "Value (not its Secret ID)",
            ),
            (SECRET_ID, "AADSTS7000215", "Value (not its Secret ID)"),
            (EXPIRED_SECRET, "AADSTS7000222", "has expired"),
        ] {
            let view =
                e.p.backend
                    .get_tenant_email(&e.tenant_id, &e.email_id)
                    .await
                    .unwrap();
            e.p.backend
                .update_tenant_email(
                    &support::actor(),
                    &e.tenant_id,
                    &e.email_id,
                    view.version,
                    &email_input(&e.stand_in, secret),
                )
                .await
                .unwrap();
            let r = e.connect_as(&e.mailbox_oid).await;
            assert_eq!(r.status, StatusCode::BAD_GATEWAY, "{}", r.body);
            assert!(r.body.contains(code), "{secret}: {}", r.body);
            assert!(r.body.contains(advice), "{}", r.body);
            assert!(r.body.contains("invalid_client"));
            assert!(!r.body.contains(secret), "the secret is not echoed");
            assert!(e.connection().await.is_none());
        }
    }
}

#[tokio::test]
async fn malformed_callbacks_are_400() {
    let t = support::sqlite().await;
    let e = env(t).await;
    for query in [
        "/core/oauth2/validated".to_string(),
        "/core/oauth2/validated?code=abc".to_string(),
        "/core/oauth2/validated?state=a&state=b&code=c".to_string(),
        "/core/oauth2/validated?state=a&code=b&code=c".to_string(),
        // http::Uri stops at 64 KB; the parser's own limit is 8 KB.
        format!(
            "/core/oauth2/validated?state=a&code=b&junk={}",
            "x".repeat(60 * 1024)
        ),
        format!("/core/oauth2/validated?state={}&code=b", "s".repeat(600)),
        "/core/oauth2/validated?state=a".to_string(),
    ] {
        let before = e.token_requests();
        let r = e.callback(&query, None).await;
        assert_eq!(
            r.status,
            StatusCode::BAD_REQUEST,
            "{}",
            &query[..query.len().min(80)]
        );
        assert_hardened(&r);
        assert!(r.body.contains("<!DOCTYPE html>"));
        assert_eq!(e.token_requests(), before);
    }
    // 100 KB of junk over a real socket: refused with a 4xx, and the server lives on.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = e.router.clone();
    tokio::spawn(async move { axum::serve(listener, app).await });
    // Neither reqwest nor http::Uri can even hold such a URL: write it raw.
    let request = format!(
        "GET /core/oauth2/validated?state=a&code=b&junk={} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        "%zz".repeat(100 * 1024 / 3)
    );
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let _ = stream.write_all(request.as_bytes()).await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    let status_line = String::from_utf8_lossy(&answer[..answer.len().min(12)]).into_owned();
    assert!(status_line.starts_with("HTTP/1.1 4"), "{status_line}");
    let response = e
        .browser
        .get(format!(
            "http://{addr}/core/oauth2/validated?state=a&state=a&code=b"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    // Microsoft's error text is HTML-escaped.
    let started = e.begin().await;
    let state = query_of(&started.authorize_url)["state"].clone();
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("error", "server_error")
        .append_pair("error_description", "<script>alert(1)</script>")
        .append_pair("state", &state)
        .finish();
    let r = e
        .callback(
            &format!("/core/oauth2/validated?{query}"),
            Some(&started.cookie),
        )
        .await;
    assert!(!r.body.contains("<script>"), "{}", r.body);
    assert!(r.body.contains("&lt;script&gt;"), "{}", r.body);
    // Flows are stored with a hash of the state and a sealed verifier.
    let rows = oauth_flow::Entity::find().all(&e.p.db).await.unwrap();
    assert!(rows.iter().all(|f| f.pkce_verifier.starts_with("tm1.")));
    assert!(rows.iter().all(|f| f.state_hash.len() == 64));
}

#[tokio::test]
async fn begin_refuses_cross_site_posts_and_unknown_emails() {
    let t = support::sqlite().await;
    let e = env(t).await;
    let r = e
        .oauth(
            Request::post(format!("/core/oauth2/begin/{}/{}", e.tenant_id, e.email_id))
                .header("origin", "https://evil.example")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = e
        .begin_with("00000000-0000-4000-8000-000000000000", "")
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // The routes are wired into the application's router, behind the sign-in
    // gate: without an admin session nothing starts and nothing is consumed.
    let response =
        e.p.router
            .clone()
            .oneshot(
                Request::post(format!(
                    "/core/oauth2/begin/{}/00000000-0000-4000-8000-000000000000",
                    e.tenant_id
                ))
                .header("origin", "http://localhost:3000")
                .body(Body::empty())
                .unwrap(),
            )
            .await
            .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let response =
        e.p.router
            .clone()
            .oneshot(
                Request::get("/core/oauth2/validated?state=a&state=b")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(response.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("/sign-in?next=%2Fcore%2Foauth2%2Fvalidated"));
    assert_eq!(
        oauth_flow::Entity::find().all(&e.p.db).await.unwrap().len(),
        0
    );
}

#[tokio::test]
async fn connect_a_different_account_only_when_asked() {
    let t = support::sqlite().await;
    let e = env(t).await;
    let r = e.connect_as(&e.mailbox_oid).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // Simulate the pinned user being another one (e.g. the mailbox was recreated).
    e.p.db
        .execute_unprepared(
            "UPDATE mailbox_connection SET oid = '00000000-dead-4000-8000-000000000000'",
        )
        .await
        .unwrap();
    let r = e.connect_as(&e.mailbox_oid).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert!(r.body.contains("Connect a different account"), "{}", r.body);
    // With the explicit choice it goes through.
    let begun = e.begin_with(&e.email_id, "different_account=1").await;
    assert_eq!(begun.status, StatusCode::SEE_OTHER);
    let cookie = begun
        .header("set-cookie")
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let back = e
        .sign_in(&begun.header("location"), &e.mailbox_oid, "accept")
        .await;
    let r = e.callback(&back, Some(&cookie)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(e.connection().await.unwrap().oid, e.mailbox_oid);
}

mod parser {
    use proptest::prelude::*;
    use server::identity::callback::parse;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn callback_parser_never_panics(raw in ".{0,2000}") {
            let _ = parse(Some(&raw));
        }

        #[test]
        fn callback_parser_never_panics_on_query_like_input(
            pairs in proptest::collection::vec(("(state|code|error|iss|[a-z%=&+]{0,8})", "[^&]{0,40}"), 0..12)
        ) {
            let raw: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let raw = raw.join("&");
            if let Ok(p) = parse(Some(&raw)) {
                prop_assert!(!p.state.is_empty());
            }
        }
    }
}

#[derive(Clone, Default)]
struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn secrets_tokens_code_state_and_verifier_never_reach_the_logs() {
    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("server=trace,info"))
        .with_writer(logs.clone())
        .with_ansi(false)
        .finish();
    // Global (the only test here that sets one): a thread-local default
    // misses events whose callsite interest another test thread cached.
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let e = env(support::sqlite().await).await;
    let started = e.begin().await;
    let state = query_of(&started.authorize_url)["state"].clone();
    let back = e
        .sign_in(&started.authorize_url, &e.mailbox_oid, "accept")
        .await;
    let code = query_of(&back)["code"].clone();
    let r = e.callback(&back, Some(&started.cookie)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let c = e.connection().await.unwrap();
    let refresh = e.open("refresh_token", &c.refresh_token);
    let access = e.open("access_token", c.access_token.as_deref().unwrap());
    let flow = oauth_flow::Entity::find()
        .one(&e.p.db)
        .await
        .unwrap()
        .unwrap();
    let verifier =
        e.p.keys
            .open(
                &flow.pkce_verifier,
                &Binding {
                    table: "oauth_flow",
                    column: "pkce_verifier",
                    row_id: &flow.state_hash,
                },
            )
            .unwrap();
    // A failing exchange logs too: still nothing secret in it.
    let view =
        e.p.backend
            .get_tenant_email(&e.tenant_id, &e.email_id)
            .await
            .unwrap();
    e.p.backend
        .update_tenant_email(
            &support::actor(),
            &e.tenant_id,
            &e.email_id,
            view.version,
            &email_input(&e.stand_in, "wrong-secret-value"),
        )
        .await
        .unwrap();
    let r = e.connect_as(&e.mailbox_oid).await;
    assert_eq!(r.status, StatusCode::BAD_GATEWAY);

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("mailbox connected"), "logs captured: {text}");
    assert!(text.contains("token endpoint refused the code"), "{text}");
    let cookie_value = started.cookie.split_once('=').unwrap().1.to_string();
    for (what, secret) in [
        ("client secret", SECRET.to_string()),
        ("wrong client secret", "wrong-secret-value".to_string()),
        ("refresh token", refresh),
        ("access token", access),
        ("code", code),
        ("state", state),
        ("verifier", verifier),
        ("cookie", cookie_value),
    ] {
        assert!(!text.contains(&secret), "{what} appears in the logs");
        assert!(!r.body.contains(&secret), "{what} appears in a response");
    }
}

#[tokio::test]
async fn consent_revoked_before_the_exchange_is_explained() {
    for t in support::all().await {
        let e = env(t).await;
        let started = e.begin().await;
        let back = e
            .sign_in(&started.authorize_url, &e.mailbox_oid, "accept")
            .await;
        e.stand_in
            .revoke_consent(ConsentGrant {
                client_id: CLIENT.into(),
                tenant_id: Some(TENANT.into()),
                ..ConsentGrant::default()
            })
            .unwrap();
        let r = e.callback(&back, Some(&started.cookie)).await;
        assert_eq!(r.status, StatusCode::BAD_GATEWAY, "{}", r.body);
        assert!(r.body.contains("AADSTS65001"), "{}", r.body);
        assert!(r.body.contains("admin consent"), "{}", r.body);
        // The fix, one click away: Microsoft's admin-consent URL for this
        // authority (`common` becomes `organizations`), application and
        // redirect URI.
        let consent = format!(
            "{}/adminconsent?client_id={CLIENT}&amp;redirect_uri={}",
            e.stand_in.authority("organizations"),
            url::form_urlencoded::byte_serialize(e.redirect_uri.as_bytes()).collect::<String>()
        );
        assert!(
            r.body
                .contains(&format!("id=\"admin-consent\" href=\"{consent}\"")),
            "{consent}\n{}",
            r.body
        );
        assert!(e.connection().await.is_none());
    }
}

#[tokio::test]
async fn the_admin_consent_answer_is_shown_and_audited() {
    for t in support::all().await {
        let e = env(t).await;
        let r = e
            .callback("/core/oauth2/validated?admin_consent=True&tenant=7e4a4700-0000-4000-8000-000000000001&state=x", None)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(r.body.contains("Admin consent granted"), "{}", r.body);
        assert!(r.body.contains("click Authenticate again"), "{}", r.body);
        // v2.0 keeps admin_consent=True when it fails: the error wins.
        let r = e
            .callback("/core/oauth2/validated?admin_consent=True&error=access_denied&error_description=AADSTS65004%3A+User+declined+to+consent", None)
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        assert!(
            r.body.contains("Admin consent was not granted"),
            "{}",
            r.body
        );
        assert!(
            r.body.contains("AADSTS65004: User declined to consent"),
            "{}",
            r.body
        );
        let actions: Vec<(String, String)> = audit_event::Entity::find()
            .all(&e.p.db)
            .await
            .unwrap()
            .into_iter()
            .filter(|a| a.action == "connection.admin_consent")
            .map(|a| (a.outcome, a.detail.unwrap_or_default()))
            .collect();
        assert_eq!(actions.len(), 2, "{actions:?}");
        assert_eq!(actions[0].0, "success");
        assert_eq!(actions[1].0, "failure");
        assert!(actions[1].1.contains("access_denied"), "{actions:?}");
        // Nothing was connected by it.
        assert!(e.connection().await.is_none());
    }
}

fn refresh_requests(e: &Env) -> usize {
    e.stand_in
        .ledger()
        .token_requests
        .iter()
        .filter(|r| r.grant_type.as_deref() == Some("refresh_token"))
        .count()
}

async fn connected(t: support::TestDb) -> Env {
    let e = env(t).await;
    let r = e.connect_as(&e.mailbox_oid).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    e
}

#[tokio::test]
async fn access_token_is_cached_then_refreshed_with_the_rotated_refresh_token_stored() {
    for t in support::all().await {
        let e = connected(t).await;
        let before = e.connection().await.unwrap();
        let cached = e.identity.access_token(&e.email_id).await.unwrap();
        assert_eq!(
            cached.token,
            e.open("access_token", before.access_token.as_deref().unwrap())
        );
        assert_eq!(
            refresh_requests(&e),
            0,
            "cached until shortly before expiry"
        );

        e.stand_in.advance(Duration::from_secs(3600));
        let refreshed = e.identity.access_token(&e.email_id).await.unwrap();
        assert_ne!(refreshed.token, cached.token);
        assert_eq!(refresh_requests(&e), 1, "{}", e.label);
        let after = e.connection().await.unwrap();
        assert_ne!(
            e.open("refresh_token", &after.refresh_token),
            e.open("refresh_token", &before.refresh_token),
            "rotated refresh token stored"
        );
        assert!(after.last_refresh_at.is_some());
        assert!(after.refresh_lease_owner.is_none());
        assert_eq!(after.version, before.version + 1);
        // The new token works against Graph.
        let me = e
            .browser
            .get(format!("{}/me", e.stand_in.graph_base()))
            .bearer_auth(&refreshed.token)
            .send()
            .await
            .unwrap();
        assert_eq!(me.status(), 200);
        let info = e
            .store()
            .connections()
            .get(&e.email_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(info.upn, MAILBOX);
        assert_eq!(info.tid, TENANT);
    }
}

#[tokio::test]
async fn revoked_refresh_token_means_needs_reauthentication_and_keeps_everything() {
    for t in support::all().await {
        let e = connected(t).await;
        e.stand_in
            .expire_refresh_tokens(ms_stand_in::ExpireRefreshTokens {
                user: MAILBOX.into(),
                client_id: None,
                reason: ms_stand_in::RefreshExpiry::Revoked,
            })
            .unwrap();
        let before = e.connection().await.unwrap();
        e.stand_in.advance(Duration::from_secs(3600));
        // Twenty callers at once: the dead refresh token is spent only once.
        let n0 = refresh_requests(&e);
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..20 {
            let (identity, id) = (e.identity.clone(), e.email_id.clone());
            set.spawn(async move { identity.access_token(&id).await });
        }
        while let Some(r) = set.join_next().await {
            assert!(matches!(
                r.unwrap(),
                Err(server::identity::TokenError::NeedsReauth(_))
            ));
        }
        assert_eq!(refresh_requests(&e) - n0, 1, "{}", e.label);
        let err = e.identity.access_token(&e.email_id).await.unwrap_err();
        match &err {
            server::identity::TokenError::NeedsReauth(why) => {
                assert!(why.contains("AADSTS70008"), "{why}")
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            e.status().await,
            ConnectionStatus::NeedsReauth,
            "{}",
            e.label
        );
        let after = e.connection().await.unwrap();
        assert_eq!(after.refresh_token, before.refresh_token, "kept");
        assert!(after.last_error.as_deref().unwrap().contains("AADSTS70008"));
        // Stopped: no further requests to Microsoft.
        let n = refresh_requests(&e);
        assert!(e.identity.access_token(&e.email_id).await.is_err());
        assert_eq!(refresh_requests(&e), n);
        // Re-authenticating heals it.
        let r = e.connect_as(&e.mailbox_oid).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(e.status().await, ConnectionStatus::Connected);
        assert!(e.identity.access_token(&e.email_id).await.is_ok());
    }
}

#[tokio::test]
async fn wrong_secret_on_refresh_is_credentials_invalid_and_5xx_is_retried() {
    let e = connected(support::sqlite().await).await;
    e.stand_in.add_fault(ms_stand_in::FaultSpec {
        endpoint: "token".into(),
        count: 2,
        fault: ms_stand_in::Fault::ServiceUnavailable { retry_after: None },
    });
    e.stand_in.advance(Duration::from_secs(3600));
    assert!(
        e.identity.access_token(&e.email_id).await.is_ok(),
        "retried past two 503s"
    );

    let view =
        e.p.backend
            .get_tenant_email(&e.tenant_id, &e.email_id)
            .await
            .unwrap();
    e.p.backend
        .update_tenant_email(
            &support::actor(),
            &e.tenant_id,
            &e.email_id,
            view.version,
            &email_input(&e.stand_in, "wrong-secret"),
        )
        .await
        .unwrap();
    e.stand_in.advance(Duration::from_secs(3600));
    match e.identity.access_token(&e.email_id).await.unwrap_err() {
        server::identity::TokenError::CredentialsInvalid(why) => {
            assert!(why.contains("AADSTS7000215"), "{why}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(e.status().await, ConnectionStatus::CredentialsInvalid);
    // The admin pastes the right secret: the next refresh heals the status.
    let view =
        e.p.backend
            .get_tenant_email(&e.tenant_id, &e.email_id)
            .await
            .unwrap();
    e.p.backend
        .update_tenant_email(
            &support::actor(),
            &e.tenant_id,
            &e.email_id,
            view.version,
            &email_input(&e.stand_in, SECRET),
        )
        .await
        .unwrap();
    // Replacing only the secret does not ask for re-authentication.
    assert_eq!(e.status().await, ConnectionStatus::CredentialsInvalid);
    assert!(e.identity.access_token(&e.email_id).await.is_ok());
    assert_eq!(e.status().await, ConnectionStatus::Connected);
    assert!(e.connection().await.unwrap().last_error.is_none());
    let changes = status_changes(&e.p.db).await;
    let n = changes.len();
    assert!(n >= 3, "{changes:?}");
    assert!(
        changes[n - 2].1.starts_with("now Credentials invalid: "),
        "{changes:?}"
    );
    assert_eq!(
        changes[n - 1],
        (
            "system".to_string(),
            "now Connected: a token refresh worked again".to_string()
        )
    );
}

/// Connection status changes in the audit log: (who, detail), oldest first.
async fn status_changes(db: &DatabaseConnection) -> Vec<(String, String)> {
    let mut events = server::db::entities::audit_event::Entity::find()
        .all(db)
        .await
        .unwrap();
    events.sort_by_key(|a| a.id);
    events
        .into_iter()
        .filter(|a| a.action == "connection.status_changed")
        .map(|a| (a.actor, a.detail.unwrap_or_default()))
        .collect()
}

#[tokio::test]
async fn changing_the_address_of_a_connected_email_needs_reauthentication() {
    for db in support::all().await {
        let e = connected(db).await;
        let view =
            e.p.backend
                .get_tenant_email(&e.tenant_id, &e.email_id)
                .await
                .unwrap();
        // Only the case changes: still the same mailbox, still connected.
        let mut same = email_input(&e.stand_in, "");
        same.address = view.values.address.to_uppercase();
        let view =
            e.p.backend
                .update_tenant_email(
                    &support::actor(),
                    &e.tenant_id,
                    &e.email_id,
                    view.version,
                    &same,
                )
                .await
                .unwrap();
        assert_eq!(e.status().await, ConnectionStatus::Connected);
        // Another mailbox: the stored tokens are not its tokens.
        let mut other = email_input(&e.stand_in, "");
        other.address = "someone.else@contoso.com".into();
        e.p.backend
            .update_tenant_email(
                &support::actor(),
                &e.tenant_id,
                &e.email_id,
                view.version,
                &other,
            )
            .await
            .unwrap();
        assert_eq!(e.status().await, ConnectionStatus::NeedsReauth);
        assert!(matches!(
            e.identity.access_token(&e.email_id).await,
            Err(server::identity::TokenError::NeedsReauth(_))
        ));
        // Both changes are in the audit log, each with who caused it and why.
        let changes = status_changes(&e.p.db).await;
        assert!(
            changes[0].1.starts_with("now Connected: signed in as "),
            "{}: {changes:?}",
            e.label
        );
        assert_eq!(
            changes.last().unwrap(),
            &(
                "tester".to_string(),
                "now Needs re-authentication: the address changed".to_string()
            ),
            "{}",
            e.label
        );
    }
}

#[tokio::test]
async fn changing_the_application_id_needs_reauthentication() {
    let e = connected(support::sqlite().await).await;
    let view =
        e.p.backend
            .get_tenant_email(&e.tenant_id, &e.email_id)
            .await
            .unwrap();
    let mut input = email_input(&e.stand_in, "");
    input.application_id = "d2d2d2d2-0000-4000-8000-000000000002".into();
    e.p.backend
        .update_tenant_email(
            &support::actor(),
            &e.tenant_id,
            &e.email_id,
            view.version,
            &input,
        )
        .await
        .unwrap();
    // Saving through the backend marks it at once.
    assert_eq!(e.status().await, ConnectionStatus::NeedsReauth);
    assert!(matches!(
        e.identity.access_token(&e.email_id).await,
        Err(server::identity::TokenError::NeedsReauth(_))
    ));
    assert_eq!(e.status().await, ConnectionStatus::NeedsReauth);
    assert_eq!(refresh_requests(&e), 0);
    let reconfigured: Vec<_> = status_changes(&e.p.db)
        .await
        .into_iter()
        .filter(|(_, d)| d.contains("Application ID or authority changed"))
        .collect();
    assert_eq!(
        reconfigured,
        [(
            "tester".to_string(),
            "now Needs re-authentication: the Application ID or authority changed".to_string()
        )]
    );
}

#[tokio::test]
async fn fifty_concurrent_callers_at_expiry_cause_exactly_one_refresh_even_across_two_instances() {
    for t in support::all().await {
        let e = connected(t).await;
        // A second instance: its own database pool and its own in-process locks.
        let db2 = server::db::connect(&e.t.config).await.unwrap();
        let clock: Arc<dyn Clock> = Arc::new(support::StandInClock(e.stand_in.control().clone()));
        let store2 = server::db::Store::new(db2, e.p.keys.clone(), clock);
        let second = Arc::new(Identity::new(store2, &e.t.config).unwrap());
        for (round, instances) in [
            vec![e.identity.clone()],
            vec![e.identity.clone(), second.clone()],
        ]
        .into_iter()
        .enumerate()
        {
            e.stand_in.advance(Duration::from_secs(3600));
            let before = refresh_requests(&e);
            let mut set = tokio::task::JoinSet::new();
            for i in 0..50 {
                let identity = instances[i % instances.len()].clone();
                let id = e.email_id.clone();
                set.spawn(async move { identity.access_token(&id).await });
            }
            let mut tokens = std::collections::HashSet::new();
            while let Some(r) = set.join_next().await {
                tokens.insert(r.unwrap().unwrap().token);
            }
            assert_eq!(
                refresh_requests(&e) - before,
                1,
                "{} round {round}: exactly one refresh reached Microsoft",
                e.label
            );
            assert_eq!(tokens.len(), 1, "everyone got the same token");
        }
    }
}

#[tokio::test]
async fn keep_alive_refreshes_connections_idle_for_the_configured_days() {
    for t in support::all().await {
        let e = connected(t).await;
        assert_eq!(e.t.config.token_keepalive_days, 30);
        e.stand_in.advance(Duration::from_secs(10 * 86_400));
        assert_eq!(
            server::identity::refresh::keep_alive(&e.identity, 30).await,
            (0, 0)
        );
        e.stand_in.advance(Duration::from_secs(21 * 86_400));
        assert_eq!(
            server::identity::refresh::keep_alive(&e.identity, 30).await,
            (1, 0)
        );
        assert_eq!(refresh_requests(&e), 1, "{}", e.label);
        assert_eq!(
            server::identity::refresh::keep_alive(&e.identity, 30).await,
            (0, 0)
        );
        // 89 more days without use would have killed it; the keep-alive keeps it going.
        for _ in 0..3 {
            e.stand_in.advance(Duration::from_secs(31 * 86_400));
            assert_eq!(
                server::identity::refresh::keep_alive(&e.identity, 30).await,
                (1, 0)
            );
        }
        assert_eq!(e.status().await, ConnectionStatus::Connected);
    }
}

#[tokio::test]
async fn a_flow_finishes_only_in_the_admin_session_that_started_it() {
    for t in support::all().await {
        let e = env(t).await;
        let started = e.begin().await;
        let back = e
            .sign_in(&started.authorize_url, &e.mailbox_oid, "accept")
            .await;
        // Same browser cookie, but another admin session (e.g. signed out and
        // someone else signed in): refused before any token request.
        let other_session = oauth_callback::routes::<()>(OAuthState {
            identity: e.identity.clone(),
        })
        .layer(axum::Extension(app::port::Actor {
            session_key: Some("another-session".into()),
            ..support::actor()
        }));
        let response = other_session
            .oneshot(
                Request::get(back.as_str())
                    .header("cookie", started.cookie.as_str())
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{}", e.label);
        assert_eq!(e.token_requests(), 0, "{}", e.label);
        assert_eq!(e.status().await, ConnectionStatus::NotAuthenticated);
        // Not used up by the refusal: the session that started it finishes it.
        let r = e.callback(&back, Some(&started.cookie)).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}: {}", e.label, r.body);
        assert_eq!(e.status().await, ConnectionStatus::Connected);
        // The audit log records the start and the failure.
        let actions: Vec<String> = server::db::entities::audit_event::Entity::find()
            .all(&e.p.db)
            .await
            .unwrap()
            .into_iter()
            .map(|a| format!("{}:{}", a.action, a.outcome))
            .collect();
        assert!(actions.contains(&"connection.authentication_started:success".to_string()));
        assert!(
            actions.contains(&"connection.authentication_failed:failure".to_string()),
            "{actions:?}"
        );
    }
}

#[tokio::test]
async fn a_spoofed_mail_attribute_from_another_tenant_is_not_trusted() {
    for t in support::all().await {
        let e = env(t).await;
        // Mallory's own tenant gives her user the mailbox's address as `mail`
        // (any tenant admin can); the authority is `common`, so her tenant may answer.
        e.stand_in
            .add_tenant(ms_stand_in::NewTenant {
                id: Some("99999999-2222-4333-8444-555555555555".into()),
                domains: vec!["evil.example".into()],
                display_name: Some("Evil".into()),
            })
            .unwrap();
        let mallory = e
            .stand_in
            .add_user(ms_stand_in::NewUser {
                tenant_id: "99999999-2222-4333-8444-555555555555".into(),
                oid: None,
                upn: "mallory@evil.example".into(),
                mail: Some(MAILBOX.into()),
                display_name: Some("Not the helpdesk".into()),
                password: None,
                proxy_addresses: None,
            })
            .unwrap();
        e.stand_in
            .set_signed_in(&[MAILBOX.to_owned(), "mallory@evil.example".to_owned()])
            .unwrap();
        e.stand_in
            .grant_consent(ConsentGrant {
                client_id: CLIENT.into(),
                tenant_id: Some("99999999-2222-4333-8444-555555555555".into()),
                ..ConsentGrant::default()
            })
            .unwrap();
        let r = e.connect_as(&mallory.oid).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}: {}", e.label, r.body);
        assert!(r.body.contains("Address not verified"), "{}", r.body);
        assert!(r.body.contains("only trusts the user principal name"));
        assert!(
            e.connection().await.is_none(),
            "{}: nothing stored",
            e.label
        );
        // The real mailbox still connects through the same `common` authority.
        let r = e.connect_as(&e.mailbox_oid).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    }
}

#[tokio::test]
async fn a_personal_microsoft_account_is_refused_under_an_organisation_authority() {
    for t in support::all().await {
        let e = env(t).await;
        // Personal accounts (outlook.com, hotmail.com) live in Microsoft's
        // consumer tenant; `common` lets them sign in.
        let personal = "9188040d-6c67-4c5b-b112-36a304b66dad";
        e.stand_in
            .add_tenant(ms_stand_in::NewTenant {
                id: Some(personal.into()),
                domains: vec!["outlook.com".into()],
                display_name: Some("Microsoft Accounts".into()),
            })
            .unwrap();
        let someone = e
            .stand_in
            .add_user(ms_stand_in::NewUser {
                tenant_id: personal.into(),
                oid: None,
                upn: "someone@outlook.com".into(),
                mail: Some("someone@outlook.com".into()),
                display_name: Some("A personal account".into()),
                password: None,
                proxy_addresses: None,
            })
            .unwrap();
        e.stand_in
            .set_signed_in(&["someone@outlook.com".to_owned()])
            .unwrap();
        e.stand_in
            .grant_consent(ConsentGrant {
                client_id: CLIENT.into(),
                tenant_id: Some(personal.into()),
                ..ConsentGrant::default()
            })
            .unwrap();
        let r = e.connect_as(&someone.oid).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}: {}", e.label, r.body);
        assert!(r.body.contains("personal Microsoft account"), "{}", r.body);
        assert!(
            e.connection().await.is_none(),
            "{}: nothing stored",
            e.label
        );
    }
}
