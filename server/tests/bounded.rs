//! Anyone who can reach the port gets bounded memory and CPU: oversized and
//! endless request bodies are refused with 413 before they are held, and a
//! flood of anonymous setup calls and wrong sign-ins neither takes the
//! memory nor slows the health check, nor fills the audit log. Run against
//! the real binary, whose resident size is read from `/proc`.
mod support;

use reqwest::StatusCode;
use sea_orm::{EntityTrait, PaginatorTrait};
use server::db::entities::audit_event;
use std::time::{Duration, Instant};
use support::process::Server;

/// The binary behind a trusted (loopback) proxy, so each request can come
/// from the client address the test names in `X-Forwarded-For`.
async fn started() -> (support::TestDb, Server) {
    let t = support::sqlite().await;
    let server = Server::start(&t, &[("TENANT_MAIL_TRUSTED_PROXIES", "127.0.0.1")]);
    server
        .wait_for_log("listening", Duration::from_secs(60))
        .await;
    (t, server)
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap()
}

/// A request body that never ends (chunked), one 64 KiB chunk after another.
fn endless() -> reqwest::Body {
    let chunk = axum::body::Bytes::from(vec![b' '; 64 * 1024]);
    let chunks = futures_util::stream::repeat_with(move || Ok::<_, std::io::Error>(chunk.clone()));
    reqwest::Body::wrap_stream(chunks)
}

#[tokio::test]
async fn oversized_and_endless_bodies_are_refused_before_they_are_held() {
    let (_t, server) = started().await;
    let http = client();
    let url = format!("{}/api/setup_status", server.base);
    let origin = server.base.clone();
    let (rss_before, _) = server.memory_kib();
    for _ in 0..10 {
        let r = http
            .post(&url)
            .header("origin", &origin)
            .header("content-type", "application/json")
            .body(vec![b' '; 4 * 1024 * 1024])
            .send()
            .await;
        // The server may answer (and close) before the upload is finished.
        if let Ok(r) = r {
            assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
            let text = r.text().await.unwrap_or_default();
            assert!(text.contains("larger than 64 KB"), "{text}");
        }
    }
    for _ in 0..3 {
        let r = http
            .post(&url)
            .header("origin", &origin)
            .header("content-type", "application/json")
            .body(endless())
            .send()
            .await
            .expect("the server answers an endless upload");
        assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }
    // Ordinary calls still work, and memory did not grow with the uploads.
    let ok = http
        .post(&url)
        .header("origin", &origin)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    let (rss_after, _) = server.memory_kib();
    assert!(
        rss_after < rss_before + 16 * 1024,
        "resident size grew from {rss_before} KiB to {rss_after} KiB"
    );
    // Forms too: the sign-in form past the limit.
    let r = http
        .post(format!("{}/auth/sign-in", server.base))
        .header("origin", &origin)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("username=a&password={}", "x".repeat(100 * 1024)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn a_flood_of_setups_and_wrong_sign_ins_keeps_memory_and_health_and_the_log() {
    let (t, server) = started().await;
    let http = client();
    let origin = server.base.clone();
    // Setups all from one address (as one attacker would), sign-ins each
    // from its own (as many would): every sign-in costs a password hash.
    let setup = |i: usize| {
        let (http, base, origin) = (http.clone(), server.base.clone(), origin.clone());
        async move {
            let body = serde_json::json!({
                "setup_token": format!("not-the-token-{i}"),
                "username": format!("intruder{i}"),
                "password": "a long enough passphrase",
                "password_confirm": "a long enough passphrase",
            });
            http.post(format!("{base}/api/complete_setup"))
                .header("origin", origin)
                .header("x-forwarded-for", "203.0.113.9")
                .json(&body)
                .send()
                .await
                .map(|r| r.status())
        }
    };
    let sign_in = |i: usize| {
        let (http, base, origin) = (http.clone(), server.base.clone(), origin.clone());
        async move {
            http.post(format!("{base}/auth/sign-in"))
                .header("origin", origin)
                .header("x-forwarded-for", format!("198.51.100.{i}"))
                .form(&[("username", format!("nobody{i}")), ("password", "guess".into())])
                .send()
                .await
                .map(|r| r.status())
        }
    };
    let mut flood = tokio::task::JoinSet::new();
    for i in 0..100 {
        flood.spawn(setup(i));
    }
    for i in 0..40 {
        flood.spawn(sign_in(i));
    }
    // The health check answers quickly all along.
    let mut slowest = Duration::ZERO;
    let mut checks = 0;
    while !flood.is_empty() {
        let started = Instant::now();
        let r = http
            .get(format!("{}/healthz", server.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        slowest = slowest.max(started.elapsed());
        checks += 1;
        while let Some(done) = flood.try_join_next() {
            let status = done.unwrap().expect("every flood request is answered");
            assert!(
                status.is_client_error() || status.is_redirection(),
                "{status}"
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (_, peak) = server.memory_kib();
    eprintln!("flood: peak resident size {peak} KiB; slowest of {checks} health checks {slowest:?}");
    assert!(peak < 300 * 1024, "peak resident size {peak} KiB");
    assert!(
        slowest < Duration::from_millis(50),
        "a health check took {slowest:?}"
    );
    // A hundred anonymous failures from one address: one audit row, not a hundred.
    let db = sea_orm::Database::connect(&t.config.database_url).await.unwrap();
    let setups = audit_event::Entity::find()
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "admin.setup")
        .count();
    assert_eq!(setups, 1, "{}", server.log());
    assert!(audit_event::Entity::find().count(&db).await.unwrap() <= 1 + 40);
}
