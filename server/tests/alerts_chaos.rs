//! Alerts across a real `kill -9`, on SQLite and PostgreSQL: the
//! `tenant-mail` binary decides an alert (state and deliveries committed) and
//! is killed before delivering it; the next process delivers it — once to the
//! webhook, one mail through the outbox — and never again.
//!
//! The stop is a `fail` crate failpoint (`alerts::after_decide`), compiled in
//! only with the `failpoints` feature that `make test` enables.
mod support;

use app::model::alerts::NewDestinationInput;
use app::model::ConnectionStatus;
use axum::http::StatusCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::process::Server;

async fn receiver() -> (Arc<Mutex<Vec<String>>>, String) {
    let got = Arc::new(Mutex::new(Vec::new()));
    let sink = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: String| {
            let sink = sink.clone();
            async move {
                sink.lock().unwrap().push(body);
                StatusCode::NO_CONTENT
            }
        }),
    );
    (got, format!("{}/hook", support::serve(app).await))
}

/// Alerts about the broken mailbox's connection in everything received
/// (the unconnected sender's held alert mail may raise its own outbox alert).
fn connection_alerts(got: &Mutex<Vec<String>>) -> usize {
    got.lock()
        .unwrap()
        .iter()
        .map(|b| serde_json::from_str::<serde_json::Value>(b).unwrap())
        .map(|b| {
            b["alerts"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|a| a["condition"] == "connection")
                .count()
        })
        .sum()
}

async fn alert_mails(p: &server::startup::Prepared, sender: &str) -> usize {
    p.store
        .outbox()
        .list(sender, 10)
        .await
        .unwrap()
        .iter()
        .filter(|m| m.subject.contains("re-authentication"))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "failpoints"),
    ignore = "needs the crash points: cargo test -p server --features failpoints (make test does)"
)]
async fn an_alert_decided_before_a_kill_9_is_delivered_once_by_the_next_process() {
    for t in support::all().await {
        let label = t.label;
        let p = support::prepare(&t).await;
        let actor = support::actor();
        let (tenant, broken) = support::tenant_with_mailbox(&p, "send_receive").await;
        let sender = support::mailbox_in(&p, &tenant, "send").await;
        let (got, url) = receiver().await;
        for input in [
            NewDestinationInput {
                kind: "webhook".into(),
                name: "Pager".into(),
                addresses: String::new(),
                sender_email_id: String::new(),
                url,
            },
            NewDestinationInput {
                kind: "email".into(),
                name: "On call".into(),
                addresses: "oncall@contoso.com".into(),
                sender_email_id: sender.clone(),
                url: String::new(),
            },
        ] {
            p.backend
                .create_alert_destination(&actor, &input)
                .await
                .unwrap();
        }
        p.store
            .connections()
            .record_problem(
                &broken,
                Some(ConnectionStatus::NeedsReauth),
                Some("The refresh token was revoked (AADSTS50173)."),
                None,
            )
            .await
            .unwrap();

        // Decides, then stops before delivering; killed there.
        let server = Server::start(&t, &[("FAILPOINTS", "alerts::after_decide=1*return")]);
        server
            .wait_for_log(
                "failpoint=\"alerts::after_decide\"",
                Duration::from_secs(60),
            )
            .await;
        server.kill9();
        assert!(got.lock().unwrap().is_empty(), "{label}: not delivered yet");
        assert_eq!(p.backend.attention().await.unwrap().len(), 1, "{label}");

        // The next process delivers what the dead one decided.
        let server = Server::start(&t, &[]);
        let start = Instant::now();
        while got.lock().unwrap().is_empty() {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "{label}: {}",
                server.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // Give it more rounds' worth of chances to repeat itself.
        tokio::time::sleep(Duration::from_secs(2)).await;
        server.kill9();
        assert_eq!(connection_alerts(&got), 1, "{label}");
        assert!(
            got.lock().unwrap()[0].contains("\"kind\":\"raised\""),
            "{label}"
        );
        assert_eq!(alert_mails(&p, &sender).await, 1, "{label}: one alert mail");

        // And a third process finds nothing left to send.
        let server = Server::start(&t, &[]);
        server
            .wait_for_log("listening", Duration::from_secs(60))
            .await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        server.kill9();
        assert_eq!(connection_alerts(&got), 1, "{label}");
        assert_eq!(alert_mails(&p, &sender).await, 1, "{label}");
    }
}
