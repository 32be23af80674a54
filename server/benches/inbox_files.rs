//! `cargo bench -p server --bench inbox_files`: peak memory and time to
//! receive mail with large attachments through Tenant Mail's inbox sync —
//! one message with 50 files of 3 MiB, and 50 messages with a 35 MiB file
//! each — into an empty database (SQLite unless `BENCH_DATABASE=postgres`).
//!
//! Each case runs in a fresh process (an allocator keeps what earlier runs
//! freed). Peak memory is the highest resident size sampled every 2 ms during
//! the sync minus the size before it, after the stand-in (in the same
//! process) holds the mail: it serves `$value` from shared bytes, without a
//! copy per request, so the figure is Tenant Mail's. The bench checks that
//! every file arrived whole. Beside it, a raw loop fetching the same files
//! the same way (list, then `$value` a chunk at a time) and dropping them
//! shows what the transport alone costs. `INBOX_FILES_MESSAGES=n` changes
//! the second case's message count (peak memory should not follow it).
#[path = "shared/peak.rs"]
mod peak;
mod shared;

use peak::PeakRss;
use sea_orm::EntityTrait;
use server::db::entities::inbox_attachment;
use server::mail::inbox::sync::{InboxConfig, SyncOutcome};
use shared::{bench_db, support};
use std::time::Instant;

const MIB: usize = 1024 * 1024;

#[derive(Clone, Copy)]
struct Case {
    name: &'static str,
    messages: usize,
    files_per_message: usize,
    file_bytes: usize,
}

const CASES: [Case; 2] = [
    Case {
        name: "one message, 50 files of 3 MiB",
        messages: 1,
        files_per_message: 50,
        file_bytes: 3 * MIB,
    },
    Case {
        name: "50 messages, one 35 MiB file each",
        messages: 50,
        files_per_message: 1,
        file_bytes: 35 * MIB,
    },
];

async fn run(case: &Case) -> (f64, f64) {
    let c = support::Mailbox::connected(bench_db().await, "bench-secret~0123456789").await;
    c.import_everything().await;
    for m in 0..case.messages {
        let attachments = (0..case.files_per_message)
            .map(|f| ms_stand_in::IncomingAttachment {
                name: format!("scan-{m}-{f}.pdf"),
                content_type: "application/pdf".into(),
                content: vec![(m * 31 + f + 1) as u8; case.file_bytes],
                is_inline: false,
                content_id: None,
                is_item: false,
            })
            .collect();
        c.stand_in
            .deliver(ms_stand_in::IncomingMail {
                attachments,
                ..support::incoming(&format!("Scans {m}"))
            })
            .unwrap();
    }
    if std::env::var("INBOX_FILES_RAW").is_ok() {
        return raw(&c, case).await;
    }
    let inbox = c.inbox(InboxConfig::default());
    let memory = PeakRss::start();
    let start = Instant::now();
    let outcome = inbox.sync_mailbox(&c.email_id).await;
    let took = start.elapsed().as_secs_f64();
    let peak = memory.finish();
    assert_eq!(
        outcome,
        SyncOutcome::Synced {
            new: case.messages,
            pages: 1
        }
    );
    let stored: Vec<i64> = inbox_attachment::Entity::find()
        .all(&c.p.db)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.size)
        .collect();
    assert_eq!(stored.len(), case.messages * case.files_per_message);
    assert!(stored.iter().all(|&s| s == case.file_bytes as i64));
    (took, peak)
}

/// The same files fetched the same way (list, then `$value` read a chunk at a
/// time) and dropped: what the transport alone costs.
async fn raw(c: &support::Mailbox, case: &Case) -> (f64, f64) {
    let graph = c.graph();
    let token = server::identity::AccessToken {
        token: c
            .stand_in
            .issue_access_token(ms_stand_in::fixture::MAILBOX, &c.client_id)
            .unwrap(),
        expires_at: support::now() + chrono::Duration::hours(1),
        graph: server::identity::graph_target::GraphTarget::me(&c.stand_in.graph_base()).unwrap(),
    };
    let since = chrono::DateTime::from_timestamp(0, 0).unwrap();
    let memory = PeakRss::start();
    let start = Instant::now();
    let page = graph
        .delta_page(&token, &graph.delta_start(&token, "inbox", since).unwrap())
        .await
        .unwrap();
    let mut total = 0;
    for m in &page.messages {
        for a in graph.attachment_list(&token, &m.id).await.unwrap() {
            let mut r = graph.attachment_value(&token, &m.id, &a.id).await.unwrap();
            while let Some(piece) = r.chunk().await.unwrap() {
                total += piece.len();
            }
        }
    }
    let took = start.elapsed().as_secs_f64();
    let peak = memory.finish();
    assert_eq!(
        total,
        case.messages * case.files_per_message * case.file_bytes
    );
    (took, peak)
}

#[tokio::main]
async fn main() {
    if let Ok(index) = std::env::var("INBOX_FILES_CHILD") {
        let case = &CASES[index.parse::<usize>().unwrap()];
        let messages = std::env::var("INBOX_FILES_MESSAGES")
            .ok()
            .and_then(|v| v.parse().ok());
        let case = &Case {
            messages: messages.unwrap_or(case.messages),
            ..*case
        };
        let (took, peak) = run(case).await;
        println!("result {took:.2} {peak:.1}");
        return;
    }
    println!(
        "inbox ingest of large attachments ({}; a fresh process per case)",
        std::env::var("BENCH_DATABASE").unwrap_or_else(|_| "sqlite".into())
    );
    for (i, case) in CASES.iter().enumerate() {
        let (took, peak) = child(i, case, false);
        let (raw_took, raw_peak) = child(i, case, true);
        let total = (case.messages * case.files_per_message * case.file_bytes) as f64 / MIB as f64;
        println!(
            "{:<34} {total:>5.0} MiB: Tenant Mail {took:>6.2} s ({:>5.0} MiB/s), peak +{peak:.1} MiB   raw fetch {raw_took:>5.2} s, peak +{raw_peak:.1} MiB",
            case.name,
            total / took
        );
    }
}

/// Runs case `i` in a fresh process: the sync, or the raw fetch.
fn child(i: usize, case: &Case, raw: bool) -> (f64, f64) {
    let mut command = std::process::Command::new(std::env::current_exe().unwrap());
    command.env("INBOX_FILES_CHILD", i.to_string());
    if raw {
        command.env("INBOX_FILES_RAW", "1");
    }
    let out = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let Some(result) = stdout.lines().find_map(|l| l.strip_prefix("result ")) else {
        panic!(
            "{}: no result\n{stdout}\n{}",
            case.name,
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let mut parts = result.split_whitespace().map(|p| p.parse::<f64>().unwrap());
    (parts.next().unwrap(), parts.next().unwrap())
}
