//! `GET /metrics` on SQLite and PostgreSQL: off (404) without a configured
//! token, 401 without or with a wrong bearer token, and with it the
//! OpenMetrics text where a message sent through the stand-in's Graph shows
//! in the outbox gauge, the Graph answers, the send latency and the token
//! refreshes. And JSON logs (`log_format`), one object per line.
mod support;

use app::model::mail::OutgoingMessage;
use reqwest::StatusCode;
use std::time::Duration;

const TOKEN: &str = "metrics-scraper-token-0123456789-abcdef";

async fn scrape(base: &str, bearer: Option<&str>) -> (StatusCode, String, String) {
    let mut request = reqwest::Client::new().get(format!("{base}/metrics"));
    if let Some(b) = bearer {
        request = request.header("authorization", format!("Bearer {b}"));
    }
    let r = request.send().await.unwrap();
    let status = r.status();
    let headers = format!("{:?}", r.headers());
    (status, headers, r.text().await.unwrap())
}

/// The value of one sample line (`name{labels} value`), 0 when absent.
fn sample(text: &str, line_start: &str) -> f64 {
    text.lines()
        .find_map(|l| {
            l.strip_prefix(line_start)
                .filter(|rest| rest.starts_with(' '))
        })
        .and_then(|rest| rest.trim().parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn metrics_need_their_token_and_count_a_send() {
    for mut t in support::all().await {
        let label = t.label;
        t.config.metrics_token = Some(TOKEN.to_string().into());
        let c = support::Mailbox::connected(t, "metrics-test-secret~1").await;

        let (status, headers, _) = scrape(&c.base, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{label}");
        assert!(headers.contains("www-authenticate"), "{label}: {headers}");
        let (status, _, _) = scrape(&c.base, Some("not-the-token-at-all-0123456789abcdef")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{label}");

        let (status, headers, before) = scrape(&c.base, Some(TOKEN)).await;
        assert_eq!(status, StatusCode::OK, "{label}");
        assert!(
            headers.contains("application/openmetrics-text"),
            "{label}: {headers}"
        );
        assert!(before.ends_with("# EOF\n"), "{label}: {before}");

        let id = c
            .enqueue(OutgoingMessage {
                to: vec!["customer@fabrikam.com".into()],
                subject: "Metrics".into(),
                text_body: Some("Counted.".into()),
                ..OutgoingMessage::default()
            })
            .await;
        let worker = c.outbox(server::mail::outbox::worker::OutboxConfig {
            idle_poll: Duration::from_millis(20),
            ..server::mail::outbox::worker::OutboxConfig::default()
        });
        for _ in 0..200 {
            worker.run_once().await;
            if c.outbox_message(&id).await.state.code() == "sent" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(c.outbox_message(&id).await.state.code(), "sent", "{label}");

        let (_, _, after) = scrape(&c.base, Some(TOKEN)).await;
        // The gauge is the database's: exactly this test's one message.
        assert_eq!(
            sample(&after, "tenant_mail_outbox_messages{state=\"sent\"}"),
            1.0,
            "{label}: {after}"
        );
        assert_eq!(
            sample(&after, "tenant_mail_outbox_messages{state=\"queued\"}"),
            0.0,
            "{label}"
        );
        // Counters are the process's (tests share it): they grew.
        for line in [
            "tenant_mail_outbox_messages_finished_total{result=\"sent\"}",
            "tenant_mail_outbox_send_latency_seconds_count",
        ] {
            assert!(
                sample(&after, line) > sample(&before, line),
                "{label}: {line}\n{after}"
            );
        }
        // Drafting and sending are two Graph answers at least.
        let graph = |text: &str| -> f64 {
            text.lines()
                .filter(|l| l.starts_with("tenant_mail_graph_responses_total{"))
                .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
                .sum()
        };
        assert!(graph(&after) >= graph(&before) + 2.0, "{label}\n{after}");
    }
}

#[tokio::test]
async fn metrics_are_off_without_a_token() {
    let t = support::sqlite().await;
    let p = support::prepare(&t).await;
    let base = support::serve(p.router.clone()).await;
    let (status, _, body) = scrape(&base, Some(TOKEN)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("metrics_token"), "{body}");
}

/// `log_format = json`: the real binary writes one JSON object per line (the
/// event's fields at the top level) and no plain-text line among them.
#[tokio::test]
async fn json_logs_are_one_object_per_line() {
    let t = support::sqlite().await;
    let server = support::process::Server::start(&t, &[("TENANT_MAIL_LOG_FORMAT", "json")]);
    server
        .wait_for_log("\"listening\"", Duration::from_secs(60))
        .await;
    let log = server.log();
    let lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(lines.len() >= 2, "{log}");
    for line in &lines {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(
            v["level"].is_string() && v["timestamp"].is_string(),
            "{line}"
        );
    }
    let listening = lines
        .iter()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v["message"] == "listening")
        .expect("the listening event");
    assert_eq!(listening["level"], "INFO");
    assert!(
        listening["bind"]
            .as_str()
            .unwrap()
            .starts_with("127.0.0.1:"),
        "{listening}"
    );
}
