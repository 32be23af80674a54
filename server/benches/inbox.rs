//! `cargo bench -p server --bench inbox`: time and peak memory to ingest
//! 10,000 received messages through Tenant Mail's inbox sync, next to a raw
//! reqwest loop fetching the same delta pages (same page size, same
//! `$select`) and parsing them, in one run. Each figure is the median of
//! `RUNS` runs. `INBOX_REPLIES=1` makes every message a reply, whose
//! headers the sync reads one message at a time; `INBOX_MESSAGES=n` changes
//! the count (10,000 replies are past Graph's 10,000 requests per mailbox
//! in ten minutes, which the stand-in enforces: the sync stops with 429).
//!
//! Tenant Mail's number includes everything the sync does per page: the
//! lease, the dedupe lookup, rendering HTML to text, and one durable commit
//! per page (messages + continuation link), on SQLite with synchronous=FULL.
//! Peak memory is the highest resident size sampled (every 2 ms) during the
//! run minus the resident size before it; the stand-in serving the pages
//! lives in the same process, so both columns include its share.
//!
//! `BENCH_DATABASE=postgres` runs it on the PostgreSQL that `.ci/postgres.sh`
//! started (`make bench-db`); `BENCH_INSTANCES=3` starts three syncs of the
//! mailbox at once, as three instances polling it would: one holds the
//! sync lease and the others step aside.
#[path = "shared/peak.rs"]
mod peak;
mod shared;

use peak::PeakRss;

use shared::{bench_db, instances, support};

use ms_stand_in::fixture::MAILBOX;
use ms_stand_in::{Address, IncomingMail};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use server::db::entities::{inbox_message, inbox_sync};
use server::mail::inbox::sync::{InboxConfig, SyncOutcome};
use std::time::{Duration, Instant};

const RUNS: usize = 3;
/// `INBOX_MESSAGES` (default 10,000).
fn messages() -> usize {
    std::env::var("INBOX_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000)
}

fn body(i: usize) -> String {
    format!(
        "<html><body><p>Hello,</p><p>This is message {i}: a customer writes about their order, \
         with a paragraph of ordinary text that a helpdesk would receive every day. \
         It mentions an order number, a delivery date and a polite request for help.</p>\
         <ul><li>Order: {i}</li><li>Priority: normal</li></ul><p>Kind regards,<br>A customer</p></body></html>"
    )
}

async fn forget_received(c: &support::Mailbox) {
    inbox_message::Entity::delete_many()
        .filter(inbox_message::Column::TenantEmailId.eq(&c.email_id))
        .exec(&c.p.db)
        .await
        .unwrap();
    inbox_sync::Entity::delete_many()
        .filter(inbox_sync::Column::TenantEmailId.eq(&c.email_id))
        .exec(&c.p.db)
        .await
        .unwrap();
}

async fn tenant_mail_run(c: &support::Mailbox) -> (Duration, f64) {
    forget_received(c).await;
    let inboxes: Vec<_> = (0..instances())
        .map(|_| c.inbox(InboxConfig::default()))
        .collect();
    let memory = PeakRss::start();
    let start = Instant::now();
    let outcomes =
        futures_util::future::join_all(inboxes.iter().map(|i| i.sync_mailbox(&c.email_id))).await;
    let took = start.elapsed();
    let peak = memory.finish();
    let stored: usize = outcomes
        .iter()
        .map(|o| match o {
            SyncOutcome::Synced { new, .. } => *new,
            SyncOutcome::Skipped => 0,
            other => panic!("{other:?}"),
        })
        .sum();
    assert_eq!(stored, messages(), "{outcomes:?}");
    (took, peak)
}

async fn raw_run(c: &support::Mailbox) -> (Duration, f64) {
    let graph = c.graph();
    let since = chrono::DateTime::from_timestamp(0, 0).unwrap();
    let token = c
        .stand_in
        .issue_access_token(MAILBOX, &c.client_id)
        .unwrap();
    let bearer = server::identity::AccessToken {
        token: token.clone(),
        expires_at: support::now() + chrono::Duration::hours(1),
        graph: server::identity::graph_target::GraphTarget::me(&c.stand_in.graph_base()).unwrap(),
    };
    let mut link = graph.delta_start(&bearer, "inbox", since).unwrap();
    let http = reqwest::Client::new();
    let memory = PeakRss::start();
    let start = Instant::now();
    let mut seen = 0;
    loop {
        let page: serde_json::Value = http
            .get(&link)
            .bearer_auth(&token)
            .header(
                "Prefer",
                format!(
                    "IdType=\"ImmutableId\", odata.maxpagesize={}",
                    server::mail::graph::PAGE_SIZE
                ),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        seen += page["value"].as_array().map(Vec::len).unwrap_or(0);
        match page["@odata.nextLink"].as_str() {
            Some(next) => link = next.to_string(),
            None => break,
        }
    }
    let took = start.elapsed();
    let peak = memory.finish();
    assert_eq!(seen, messages());
    (took, peak)
}

/// `INBOX_REPLIES=1`: every message answers another (`RE: …`), so the sync
/// also reads each one's `In-Reply-To` / `References` — one more Graph
/// request per message, up to four at a time per mailbox.
fn replies() -> bool {
    std::env::var("INBOX_REPLIES").is_ok_and(|v| v == "1")
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

async fn setup() -> support::Mailbox {
    let c = support::Mailbox::connected(bench_db().await, "bench-secret~0123456789").await;
    // Everything delivered is imported: the start is long before.
    c.import_everything().await;
    for i in 0..messages() {
        c.stand_in
            .deliver(IncomingMail {
                to_user: MAILBOX.into(),
                from: Address {
                    name: format!("Customer {i}"),
                    address: format!("customer{i}@fabrikam.example"),
                },
                subject: if replies() {
                    format!("RE: Order {i}: a question")
                } else {
                    format!("Order {i}: a question")
                },
                body: body(i),
                content_type: Some("html".into()),
                ..IncomingMail::default()
            })
            .unwrap();
    }
    c
}

/// Peak memory needs a fresh process per figure: in a long-lived one the
/// allocator reuses what earlier runs freed and the resident size stays flat.
fn peak_in_child(mode: &str) -> f64 {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .env("INBOX_BENCH_CHILD", mode)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("peak_mib "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(f64::NAN)
}

#[tokio::main]
async fn main() {
    if let Ok(mode) = std::env::var("INBOX_BENCH_CHILD") {
        let c = setup().await;
        let (_, peak) = if mode == "raw" {
            raw_run(&c).await
        } else {
            tenant_mail_run(&c).await
        };
        println!("peak_mib {peak:.1}");
        return;
    }
    println!(
        "inbox ingest of {} {} vs raw fetching of the same delta pages (median of {RUNS} runs; stand-in on loopback; {}, {} instance(s))",
        messages(),
        if replies() { "replies" } else { "messages" },
        std::env::var("BENCH_DATABASE").unwrap_or_else(|_| "sqlite".into()),
        instances()
    );
    let (ours_peak, raw_peak) = (peak_in_child("ours"), peak_in_child("raw"));
    println!(
        "peak memory above the process's size before the run (fresh process each): Tenant Mail +{ours_peak:.1} MiB, raw fetch +{raw_peak:.1} MiB"
    );
    let c = setup().await;
    for latency_ms in [0u64, 50] {
        if latency_ms > 0 {
            // Every request waits: a page, and a message's headers.
            for endpoint in ["delta", "getMessage"] {
                c.stand_in.add_fault(ms_stand_in::FaultSpec {
                    endpoint: endpoint.into(),
                    count: u32::MAX,
                    fault: ms_stand_in::Fault::Delay { millis: latency_ms },
                });
            }
        }
        let (mut ours, mut raw) = (Vec::new(), Vec::new());
        for _ in 0..RUNS {
            raw.push(raw_run(&c).await.0.as_secs_f64());
            ours.push(tenant_mail_run(&c).await.0.as_secs_f64());
        }
        let (o, w) = (median(ours), median(raw));
        println!(
            "Graph latency {latency_ms:>2} ms per page: Tenant Mail {o:>6.2} s ({:>6.0} msg/s)   raw fetch {w:>6.2} s ({:>6.0} msg/s)   time ratio {:.2}",
            messages() as f64 / o,
            messages() as f64 / w,
            o / w
        );
    }
}
