//! Anyone who can reach the port gets bounded memory and CPU: oversized and
//! endless request bodies are refused with 413 before they are held, and a
//! flood of anonymous setup calls and wrong sign-ins neither takes the
//! memory, nor stops the health check answering, nor fills the audit log
//! (how fast health answers under the flood is measured by `make load`, not
//! asserted here). Run against the real binary, whose resident size is read
//! from `/proc`.
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
        // A refused sign-in redirects back to the form: the answer itself counts.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The answer to a JSON upload of `length` bytes (`None`: a chunked body that
/// never ends), read while the upload is still being written: a server that
/// refuses early answers and closes before the upload is done, and a client
/// that only reads once it has written everything would see a broken pipe.
async fn answer_to_upload(server: &Server, path: &str, length: Option<usize>) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = server.base.trim_start_matches("http://").to_string();
    let stream = tokio::net::TcpStream::connect(&host).await.unwrap();
    let (mut from_server, mut to_server) = stream.into_split();
    let framing = match length {
        Some(n) => format!("Content-Length: {n}"),
        None => "Transfer-Encoding: chunked".into(),
    };
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nOrigin: {}\r\n\
         Content-Type: application/json\r\n{framing}\r\n\r\n",
        server.base
    );
    let upload = tokio::spawn(async move {
        to_server.write_all(head.as_bytes()).await?;
        let chunk = vec![b' '; 64 * 1024];
        let mut sent = 0;
        loop {
            match length {
                Some(n) if sent >= n => return Ok::<_, std::io::Error>(sent),
                Some(n) => {
                    let part = (n - sent).min(chunk.len());
                    to_server.write_all(&chunk[..part]).await?;
                    sent += part;
                }
                None => {
                    let size = format!("{:x}\r\n", chunk.len());
                    to_server.write_all(size.as_bytes()).await?;
                    to_server.write_all(&chunk).await?;
                    to_server.write_all(b"\r\n").await?;
                    sent += chunk.len();
                }
            }
        }
    });
    // Read the head, then as much body as it announces.
    let mut answer = Vec::new();
    let mut buf = [0u8; 8192];
    let complete = |answer: &[u8]| {
        let text = String::from_utf8_lossy(answer);
        let Some((head, body)) = text.split_once("\r\n\r\n") else {
            return false;
        };
        let announced = head
            .lines()
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse::<usize>().ok())?
            })
            .unwrap_or(0);
        body.len() >= announced
    };
    while !complete(&answer) {
        let n = tokio::time::timeout(Duration::from_secs(30), from_server.read(&mut buf))
            .await
            .expect("the server answers while the upload goes on")
            .expect("the answer can be read");
        assert!(
            n > 0,
            "closed without a full answer: {:?}",
            String::from_utf8_lossy(&answer)
        );
        answer.extend_from_slice(&buf[..n]);
    }
    upload.abort();
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    (status, text)
}

#[tokio::test]
async fn oversized_and_endless_bodies_are_refused_before_they_are_held() {
    let (_t, server) = started().await;
    let http = client();
    let url = format!("{}/api/setup_status", server.base);
    let origin = server.base.clone();
    let (rss_before, _) = server.memory_kib();
    for _ in 0..10 {
        let (status, text) = answer_to_upload(&server, "/api/setup_status", Some(4 << 20)).await;
        assert_eq!(status, 413, "{text}");
        assert!(text.contains("larger than 64 KB"), "{text}");
    }
    for _ in 0..3 {
        let (status, text) = answer_to_upload(&server, "/api/setup_status", None).await;
        assert_eq!(status, 413, "{text}");
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
                .form(&[
                    ("username", format!("nobody{i}")),
                    ("password", "guess".into()),
                ])
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
    // The health check answers all along. (How fast is measured by the
    // `flood` bench binary, not asserted here: timings on a shared CI
    // machine are not behaviour.)
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
    eprintln!(
        "flood: peak resident size {peak} KiB; slowest of {checks} health checks {slowest:?}"
    );
    assert!(peak < 300 * 1024, "peak resident size {peak} KiB");
    // A hundred anonymous failures from one address: one audit row, not a hundred.
    let db = sea_orm::Database::connect(&t.config.database_url)
        .await
        .unwrap();
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
