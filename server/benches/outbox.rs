//! `cargo bench -p server --bench outbox`: outbox throughput against the
//! Microsoft stand-in, next to a raw reqwest loop making the same Graph calls
//! (create draft + send) with the same concurrency (4 per mailbox), in one
//! run, for 1 and for 50 mailboxes. Prints messages/s and the ratio
//! (Tenant Mail / raw). Each figure is the median of `RUNS` runs.
//!
//! Tenant Mail's number includes everything the outbox does per message:
//! leased claim, draft, storing the draft id (a durable commit), send, and
//! recording "sent" (another durable commit), on SQLite with synchronous=FULL.
//!
//! `BENCH_DATABASE=postgres` runs it on the PostgreSQL that `.ci/postgres.sh`
//! started (`make bench-db` does both); `BENCH_INSTANCES=3` runs three
//! outbox workers at once on the same database, as three instances would
//! (each with its own request slots and wake-up; they share one pool).
mod shared;

use shared::{bench_db, instances, support};

use app::model::mail::OutgoingMessage;
use ms_stand_in::fixture::TENANT;
use ms_stand_in::NewUser;
use server::mail::outbox::enqueue::enqueue;
use server::mail::outbox::worker::OutboxConfig;
use std::sync::Arc;
use std::time::{Duration, Instant};

const RUNS: usize = 3;

fn message(mailbox: usize, i: usize, run: &str) -> OutgoingMessage {
    OutgoingMessage {
        to: vec![format!("customer{i}@fabrikam.com")],
        subject: format!("Bench {run} mailbox {mailbox} message {i}"),
        text_body: Some("A short transactional message, as applications send them.".into()),
        ..OutgoingMessage::default()
    }
}

struct Setup {
    c: support::Mailbox,
    /// (tenant email id, upn) per mailbox.
    mailboxes: Vec<(String, String)>,
}

async fn setup(n: usize) -> Setup {
    let c = support::Mailbox::connected(bench_db().await, "bench-secret~0123456789").await;
    let mut mailboxes = vec![(
        c.email_id.clone(),
        ms_stand_in::fixture::MAILBOX.to_string(),
    )];
    for i in 1..n {
        let upn = format!("desk{i}@contoso.com");
        let user = c
            .stand_in
            .add_user(NewUser {
                tenant_id: TENANT.into(),
                oid: None,
                upn: upn.clone(),
                mail: Some(upn.clone()),
                display_name: Some(format!("Desk {i}")),
                password: None,
                proxy_addresses: None,
            })
            .unwrap();
        c.stand_in
            .set_signed_in(std::slice::from_ref(&upn))
            .unwrap();
        let email = c
            .call(
                "save_tenant_email",
                serde_json::json!({
                    "tenant_id": c.tenant_id, "email_id": null, "version": null, "replace_secret": false,
                    "input": {
                        "account_type": "microsoft365_graph", "address": upn, "direction": "send",
                        "application_id": c.client_id, "client_secret": "bench-secret~0123456789",
                        "secret_expires_on": "", "authority_url": c.stand_in.authority("common"),
                        "authorization_endpoint": "/oauth2/v2.0/authorize",
                        "token_endpoint": "/oauth2/v2.0/token",
                        "scopes": "openid profile offline_access user.read mail.send mail.readwrite"
                    }
                }),
            )
            .await;
        let id = email["id"].as_str().unwrap().to_string();
        c.connect_email(&id, &user.oid).await;
        mailboxes.push((id, upn));
    }
    Setup { c, mailboxes }
}

async fn tenant_mail_run(s: &Setup, per_mailbox: usize, run: &str) -> Duration {
    let mut ids = Vec::new();
    for (m, (email_id, _)) in s.mailboxes.iter().enumerate() {
        for i in 0..per_mailbox {
            let queued = enqueue(&s.c.p.store, email_id, message(m, i, run))
                .await
                .unwrap();
            ids.push(queued);
        }
    }
    let outboxes: Vec<_> = (0..instances())
        .map(|_| s.c.outbox(OutboxConfig::default()))
        .collect();
    // The production loop, as `main` runs it, once per instance.
    let start = Instant::now();
    let running: Vec<_> = outboxes.iter().map(|o| o.clone().spawn()).collect();
    while outboxes
        .iter()
        .map(|o| o.sent_total() as usize)
        .sum::<usize>()
        < ids.len()
    {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let took = start.elapsed();
    running.iter().for_each(|r| r.abort());
    took
}

async fn raw_run(s: &Setup, per_mailbox: usize, run: &str) -> Duration {
    let graph = s.c.stand_in.graph_base();
    let http = reqwest::Client::new();
    let mut tasks = tokio::task::JoinSet::new();
    let start = Instant::now();
    for (m, (_, upn)) in s.mailboxes.iter().enumerate() {
        let token =
            s.c.stand_in
                .issue_access_token(upn, &s.c.client_id)
                .unwrap();
        let queue = Arc::new(tokio::sync::Mutex::new(
            (0..per_mailbox).collect::<Vec<_>>(),
        ));
        // The same concurrency Tenant Mail uses: four requests per mailbox.
        for _ in 0..4 {
            let (http, graph, token, queue, run) = (
                http.clone(),
                graph.clone(),
                token.clone(),
                queue.clone(),
                run.to_string(),
            );
            tasks.spawn(async move {
                loop {
                    let Some(i) = queue.lock().await.pop() else {
                        break;
                    };
                    let msg = message(m, i, &run);
                    let body = serde_json::json!({
                        "subject": msg.subject,
                        "body": {"contentType": "Text", "content": msg.text_body},
                        "toRecipients": [{"emailAddress": {"address": msg.to[0]}}],
                    });
                    let draft: serde_json::Value = http
                        .post(format!("{graph}/me/messages"))
                        .bearer_auth(&token)
                        .header("Prefer", "IdType=\"ImmutableId\"")
                        .json(&body)
                        .send()
                        .await
                        .unwrap()
                        .json()
                        .await
                        .unwrap();
                    let id = draft["id"].as_str().unwrap().to_string();
                    let r = http
                        .post(format!("{graph}/me/messages/{id}/send"))
                        .bearer_auth(&token)
                        .header("Prefer", "IdType=\"ImmutableId\"")
                        .header("Content-Length", "0")
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(r.status(), 202);
                }
            });
        }
    }
    while tasks.join_next().await.is_some() {}
    start.elapsed()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

#[tokio::main]
async fn main() {
    // Quiet: the numbers are the output.
    println!(
        "outbox throughput vs raw reqwest loop (messages/s, median of {RUNS} runs; stand-in on loopback; {}, {} instance(s))",
        std::env::var("BENCH_DATABASE").unwrap_or_else(|_| "sqlite".into()),
        instances()
    );
    // Without latency the figure is Tenant Mail's own cost per message (the
    // in-process stand-in answers in microseconds); with 50 ms per Graph
    // request (real Graph takes 100–400 ms) it is what a deployment sees.
    for (latency_ms, mailboxes, per_mailbox) in [
        (0u64, 1usize, 200usize),
        (0, 50, 40),
        (50, 1, 100),
        (50, 50, 40),
    ] {
        let s = setup(mailboxes).await;
        if latency_ms > 0 {
            s.c.stand_in.add_fault(ms_stand_in::FaultSpec {
                endpoint: "graph".into(),
                count: u32::MAX,
                fault: ms_stand_in::Fault::Delay { millis: latency_ms },
            });
        }
        let total = (mailboxes * per_mailbox) as f64;
        let (mut ours, mut raw) = (Vec::new(), Vec::new());
        for r in 0..RUNS {
            let t = tenant_mail_run(&s, per_mailbox, &format!("tm{r}")).await;
            ours.push(total / t.as_secs_f64());
            let t = raw_run(&s, per_mailbox, &format!("raw{r}")).await;
            raw.push(total / t.as_secs_f64());
        }
        let (o, w) = (median(ours), median(raw));
        let high =
            s.c.stand_in
                .ledger()
                .concurrency_high_water
                .values()
                .copied()
                .max()
                .unwrap_or(0);
        let throttled =
            s.c.stand_in
                .ledger()
                .graph_requests
                .iter()
                .filter(|r| r.status == 429)
                .count();
        println!(
            "Graph latency {latency_ms:>2} ms, {mailboxes:>3} mailbox(es) × {per_mailbox:>3} messages: Tenant Mail {o:>8.1}/s   raw loop {w:>8.1}/s   ratio {:.2}   (max in flight per mailbox: {high}; 429s: {throttled})",
            o / w
        );
    }
}
