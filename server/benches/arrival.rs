//! `cargo bench -p server --bench arrival`: how long received mail takes from
//! delivery into the mailbox to stored in Tenant Mail with near-instant
//! arrival — the stand-in posts a Graph change notification to the served
//! application, which wakes that mailbox's delta sync — against the mailbox's
//! own poll (set to an hour, so polling cannot be what brings it). The inbox
//! loop runs as in production (5 s tick). `ARRIVAL_MESSAGES` (default 30)
//! messages, one at a time; median, 95th percentile and worst. SQLite unless
//! `BENCH_DATABASE=postgres`.
mod shared;

use server::mail::inbox::sync::InboxConfig;
use shared::{bench_db, support};
use std::time::{Duration, Instant};

async fn stored(c: &support::Mailbox, subject: &str) -> bool {
    c.store()
        .inbox()
        .newest(&c.email_id, None, 5)
        .await
        .unwrap()
        .iter()
        .any(|m| m.subject == subject)
}

#[tokio::main]
async fn main() {
    let messages: usize = std::env::var("ARRIVAL_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    let t = bench_db().await;
    let label = t.label;
    let c = support::Mailbox::connected(t, "bench-secret~0123456789").await;
    c.edit_settings(|input| {
        input.receiving.arrival = "notify".into();
        input.receiving.poll_interval_seconds = "3600".into();
    })
    .await;
    c.import_everything().await;
    let inbox = c.inbox_woken_by_app(InboxConfig::default());
    c.sync_round(&inbox).await;
    assert_eq!(c.stand_in.subscriptions().len(), 1, "subscribed");
    let running = inbox.clone().spawn();
    let mut took = Vec::with_capacity(messages);
    for i in 0..messages {
        let subject = format!("Arrival {i}");
        let start = Instant::now();
        c.stand_in.deliver(support::incoming(&subject)).unwrap();
        while !stored(&c, &subject).await {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "{subject} never arrived"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        took.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    running.abort();
    took.sort_by(f64::total_cmp);
    let at = |q: f64| took[((took.len() - 1) as f64 * q).round() as usize];
    println!(
        "arrival ({label}, {messages} messages, poll every 3600 s): delivery → stored median {:.0} ms, p95 {:.0} ms, worst {:.0} ms",
        at(0.5),
        at(0.95),
        took[took.len() - 1]
    );
}
