//! Receiving through the stand-in's Graph, on SQLite and PostgreSQL: only mail
//! newer than the start is imported; every message is stored once through
//! replayed pages, a lost delta state (410) and a sync that dies mid-round;
//! after-processing actions end with each message read or moved once; Sync
//! now and the Inbox server functions.
mod support;

use ms_stand_in::fixture::MAILBOX;
use ms_stand_in::{Address, Fault, FaultSpec, IncomingAttachment, IncomingMail};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use server::db::entities::{inbox_attachment, inbox_message, inbox_sync, tenant_email};
use server::db::inbox::{Continue, NewMessage, PageCommit};
use server::mail::inbox::sync::{Inbox, InboxConfig, SyncOutcome};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

fn inbox(c: &support::Mailbox, lease: chrono::Duration) -> Arc<Inbox> {
    c.inbox(InboxConfig {
        tick: Duration::from_millis(20),
        lease,
        action_batch: 50,
        max_resyncs: 2,
        ..InboxConfig::default()
    })
}

/// The sync state row as stored (with its lease).
async fn sync_row(c: &support::Mailbox) -> inbox_sync::Model {
    inbox_sync::Entity::find_by_id(c.email_id.clone())
        .one(&c.p.db)
        .await
        .unwrap()
        .unwrap()
}

fn mail(subject: &str, received_at: Option<i64>) -> IncomingMail {
    IncomingMail {
        received_at,
        ..support::incoming(subject)
    }
}

fn deliver(c: &support::Mailbox, n: usize, prefix: &str) -> Vec<String> {
    (0..n)
        .map(|i| {
            c.stand_in
                .deliver(mail(&format!("{prefix} {i}"), None))
                .unwrap()
        })
        .collect()
}

/// Syncs (as the poll would) until a round completes.
async fn sync(i: &Arc<Inbox>, c: &support::Mailbox) -> SyncOutcome {
    for _ in 0..20 {
        let outcome = i.sync_mailbox(&c.email_id).await;
        if matches!(outcome, SyncOutcome::Synced { .. }) {
            return outcome;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{}: the sync never completed", c.t.label);
}

async fn stored(c: &support::Mailbox) -> Vec<inbox_message::Model> {
    inbox_message::Entity::find()
        .filter(inbox_message::Column::TenantEmailId.eq(&c.email_id))
        .order_by_asc(inbox_message::Column::Seq)
        .all(&c.p.db)
        .await
        .unwrap()
}

/// Every message stored once, positions 1..n without gaps.
async fn assert_each_once(c: &support::Mailbox, expected: usize) {
    let rows = stored(c).await;
    assert_eq!(rows.len(), expected, "{}: stored count", c.t.label);
    let ids: HashSet<&str> = rows.iter().map(|m| m.graph_id.as_str()).collect();
    assert_eq!(ids.len(), expected, "{}: no duplicates", c.t.label);
    let seqs: Vec<i64> = rows.iter().map(|m| m.seq).collect();
    assert_eq!(
        seqs,
        (1..=expected as i64).collect::<Vec<_>>(),
        "{}: positions",
        c.t.label
    );
}

async fn set_receiving(c: &support::Mailbox, after: &str, move_to: Option<&str>) {
    tenant_email::Entity::update_many()
        .col_expr(tenant_email::Column::AfterProcessing, Expr::value(after))
        .col_expr(
            tenant_email::Column::MoveToFolder,
            Expr::value(move_to.map(str::to_string)),
        )
        .filter(tenant_email::Column::Id.eq(&c.email_id))
        .exec(&c.p.db)
        .await
        .unwrap();
}

fn graph_calls(c: &support::Mailbox, method: &str, suffix: &str, id: &str) -> usize {
    c.stand_in
        .ledger()
        .graph_requests
        .iter()
        .filter(|r| r.method == method && r.path.contains(id) && r.path.ends_with(suffix))
        .count()
}

#[tokio::test]
async fn imports_new_mail_with_its_details_and_skips_the_backlog() {
    for t in support::all().await {
        let c = support::Mailbox::connected(t, "inbox-test-secret~1").await;
        let yesterday = c.stand_in.now() - 86_400;
        c.stand_in
            .deliver(mail("An old backlog message", Some(yesterday)))
            .unwrap();
        let i = inbox(&c, chrono::Duration::seconds(30));
        assert_eq!(sync(&i, &c).await, SyncOutcome::Synced { new: 0, pages: 1 });
        assert!(
            stored(&c).await.is_empty(),
            "{}: the backlog is not imported",
            c.t.label
        );

        let pdf: Vec<u8> = (0..5000u32).map(|b| (b % 251) as u8).collect();
        c.stand_in
            .deliver(IncomingMail {
                subject: "Invoice 42".into(),
                body: "<p>Please find the <b>invoice</b> attached.</p><script>alert(1)</script>"
                    .into(),
                content_type: Some("html".into()),
                cc: vec![Address {
                    name: "Accounts".into(),
                    address: "accounts@fabrikam.example".into(),
                }],
                internet_message_id: Some("<invoice-42@fabrikam.example>".into()),
                importance: Some("high".into()),
                attachments: vec![IncomingAttachment {
                    name: "invoice-42.pdf".into(),
                    content_type: "application/pdf".into(),
                    content: pdf.clone(),
                    is_inline: false,
                    content_id: None,
                    is_item: false,
                }],
                ..mail("", None)
            })
            .unwrap();
        deliver(&c, 2, "Plain");
        assert_eq!(sync(&i, &c).await, SyncOutcome::Synced { new: 3, pages: 1 });
        assert_each_once(&c, 3).await;

        let rows = stored(&c).await;
        let invoice = rows.iter().find(|m| m.subject == "Invoice 42").unwrap();
        assert_eq!(
            invoice.from_address.as_deref(),
            Some("support@fabrikam.example")
        );
        assert_eq!(invoice.internet_message_id, "<invoice-42@fabrikam.example>");
        assert!(invoice.cc_json.contains("accounts@fabrikam.example"));
        assert!(invoice
            .body_html
            .as_deref()
            .unwrap()
            .contains("<b>invoice</b>"));
        assert!(invoice.body_text.contains("invoice") && !invoice.body_text.contains("<b>"));
        assert_eq!(invoice.attachment_count, 1);
        // The thread and the sender's urgency are kept; plain mail is normal.
        assert_eq!(invoice.importance.as_deref(), Some("high"));
        let threads: HashSet<_> = rows
            .iter()
            .map(|m| m.conversation_id.clone().unwrap())
            .collect();
        assert_eq!(threads.len(), 3, "three messages, three threads");
        assert!(rows
            .iter()
            .filter(|m| m.subject != "Invoice 42")
            .all(|m| m.importance.as_deref() == Some("normal")));
        let files = inbox_attachment::Entity::find()
            .filter(inbox_attachment::Column::MessageId.eq(&invoice.id))
            .all(&c.p.db)
            .await
            .unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].name, "invoice-42.pdf");
        assert_eq!(
            files[0].content.as_deref(),
            Some(pdf.as_slice()),
            "bytes kept"
        );
        assert_eq!(files[0].size, 5000);

        // Nothing new: nothing stored, and the Inbox server functions show it.
        assert_eq!(sync(&i, &c).await, SyncOutcome::Synced { new: 0, pages: 1 });
        let page = c
            .call(
                "load_inbox",
                serde_json::json!({"tenant_id": c.tenant_id, "email_id": c.email_id, "before": null}),
            )
            .await;
        assert_eq!(page["status"]["total"], 3);
        assert_eq!(page["messages"].as_array().unwrap().len(), 3);
        assert!(page["status"]["last_sync_at"].is_string());
        let read = c
            .call(
                "read_received",
                serde_json::json!({"tenant_id": c.tenant_id, "email_id": c.email_id, "message_id": invoice.id}),
            )
            .await;
        let html = read["safe_html"].as_str().unwrap();
        assert!(
            html.contains("<b>invoice</b>") && !html.contains("script"),
            "{html}"
        );
        assert_eq!(read["attachments"][0]["name"], "invoice-42.pdf");
        assert_eq!(read["importance"], "high");
        assert_eq!(
            read["conversation_id"],
            invoice.conversation_id.clone().unwrap()
        );
    }
}

/// A page whose bodies and attachments pass the byte budget is stored in
/// parts before the next message is fetched, the page's link moving only
/// with its last part: a failure mid-page keeps what was stored, and the
/// page fetched again stores only the rest.
#[tokio::test]
async fn a_page_over_its_byte_budget_is_stored_in_parts_and_repeats_nothing() {
    for t in support::all().await {
        let c = support::Mailbox::connected(t, "inbox-test-secret~9").await;
        let i = c.inbox(InboxConfig {
            tick: Duration::from_millis(20),
            lease: chrono::Duration::seconds(30),
            // Every message is a part of its own.
            page_bytes: 1,
            ..InboxConfig::default()
        });
        sync(&i, &c).await;
        let link_before = sync_row(&c).await.delta_link;
        deliver(&c, 3, "Part");
        let file = vec![7u8; 3000];
        c.stand_in
            .deliver(IncomingMail {
                subject: "Part with a file".into(),
                attachments: vec![IncomingAttachment {
                    name: "file.bin".into(),
                    content_type: "application/octet-stream".into(),
                    content: file.clone(),
                    is_inline: false,
                    content_id: None,
                    is_item: false,
                }],
                ..mail("", None)
            })
            .unwrap();
        deliver(&c, 1, "Last part");
        // The fourth message's attachments are lost on the way: the sync
        // stops there, with the three before it stored.
        c.stand_in.add_fault(FaultSpec {
            endpoint: "attachments".into(),
            count: 1,
            fault: Fault::DropAfterBody,
        });
        let first = i.sync_mailbox(&c.email_id).await;
        assert!(
            matches!(first, SyncOutcome::Failed(_)),
            "{}: {first:?}",
            c.t.label
        );
        assert_each_once(&c, 3).await;
        let state = sync_row(&c).await;
        assert_eq!(
            state.delta_link, link_before,
            "{}: the link stayed",
            c.t.label
        );
        assert_eq!(state.next_link, None, "{}", c.t.label);

        assert_eq!(sync(&i, &c).await, SyncOutcome::Synced { new: 2, pages: 1 });
        assert_each_once(&c, 5).await;
        let rows = stored(&c).await;
        let with_file = rows
            .iter()
            .find(|m| m.subject == "Part with a file")
            .unwrap();
        let files = inbox_attachment::Entity::find()
            .filter(inbox_attachment::Column::MessageId.eq(&with_file.id))
            .all(&c.p.db)
            .await
            .unwrap();
        assert_eq!(files[0].content.as_deref(), Some(file.as_slice()));
    }
}

#[tokio::test]
async fn a_lost_delta_state_resyncs_without_duplicates() {
    for t in support::all().await {
        let c = support::Mailbox::connected(t, "inbox-test-secret~2").await;
        let i = inbox(&c, chrono::Duration::seconds(30));
        sync(&i, &c).await;
        deliver(&c, 120, "First batch");
        // 120 messages at 50 a page: three pages, each committed with its link.
        assert_eq!(
            sync(&i, &c).await,
            SyncOutcome::Synced { new: 120, pages: 3 }
        );

        c.stand_in.expire_delta_state(MAILBOX).unwrap();
        deliver(&c, 7, "After the reset");
        // The delta link is refused (410): a full round again, and only the 7 are new.
        assert_eq!(sync(&i, &c).await, SyncOutcome::Synced { new: 7, pages: 3 });
        assert_each_once(&c, 127).await;
        let resynced = c
            .stand_in
            .ledger()
            .graph_requests
            .iter()
            .any(|r| r.path.ends_with("/messages/delta") && r.status == 410);
        assert!(resynced, "{}: the stand-in did answer 410", c.t.label);
    }
}

#[tokio::test]
async fn replayed_and_refetched_pages_store_nothing_twice() {
    for t in support::all().await {
        let c = support::Mailbox::connected(t, "inbox-test-secret~3").await;
        let i = inbox(&c, chrono::Duration::seconds(30));
        sync(&i, &c).await;
        deliver(&c, 60, "Replayed");
        // The first page's answer is lost after Graph built it (the page is
        // fetched again), then Graph is briefly throttling.
        c.stand_in.add_fault(FaultSpec {
            endpoint: "delta".into(),
            count: 1,
            fault: Fault::DropAfterBody,
        });
        c.stand_in.add_fault(FaultSpec {
            endpoint: "delta".into(),
            count: 1,
            fault: Fault::TooManyRequests {
                retry_after: "1".into(),
            },
        });
        let first = i.sync_mailbox(&c.email_id).await;
        assert!(
            matches!(first, SyncOutcome::Failed(_)),
            "{}: {first:?}",
            c.t.label
        );
        let second = i.sync_mailbox(&c.email_id).await;
        assert!(
            matches!(second, SyncOutcome::Busy(_)),
            "{}: {second:?}",
            c.t.label
        );
        let state = sync_row(&c).await;
        assert!(
            state.last_error.unwrap().contains("busy"),
            "the reason is kept"
        );
        sync(&i, &c).await;
        assert_each_once(&c, 60).await;

        // Graph replays a page already stored (a documented delta behaviour):
        // committing it again stores nothing.
        let owner = "replayer";
        inbox_sync::Entity::update_many()
            .col_expr(
                inbox_sync::Column::LeaseUntil,
                Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
            )
            .filter(inbox_sync::Column::TenantEmailId.eq(&c.email_id))
            .exec(&c.p.db)
            .await
            .unwrap();
        let state = c
            .store()
            .inbox()
            .claim(
                &c.email_id,
                "inbox",
                c.store().now(),
                owner,
                chrono::Duration::seconds(30),
            )
            .await
            .unwrap()
            .unwrap();
        let graph = c.graph();
        let token = c.access_token().await;
        let start = graph.delta_start(&token, "inbox", state.since).unwrap();
        let page = graph.delta_page(&token, &start).await.unwrap();
        assert!(!page.messages.is_empty());
        let replay: Vec<NewMessage> = page
            .messages
            .into_iter()
            .map(|m| NewMessage {
                graph_id: m.id,
                internet_message_id: m.internet_message_id,
                from: None,
                to: Vec::new(),
                cc: Vec::new(),
                reply_to: Vec::new(),
                subject: m.subject,
                received_at: m.received_at,
                body_text: m.body,
                body_html: None,
                conversation_id: m.conversation_id,
                importance: m.importance,
                in_reply_to: None,
                references: None,
                attachments: Vec::new(),
            })
            .collect();
        let new = c
            .store()
            .inbox()
            .commit_page(PageCommit {
                tenant_email_id: &c.email_id,
                owner,
                after: app::model::inbox::AfterProcessing::Leave,
                messages: replay,
                removed: &[],
                next: Continue::Next(page.next_link.unwrap()),
                lease: chrono::Duration::seconds(30),
            })
            .await
            .unwrap()
            .expect("the replayer holds the lease");
        assert_eq!(new, 0, "{}: a replayed page stores nothing", c.t.label);
        assert_each_once(&c, 60).await;
    }
}

#[tokio::test]
async fn a_sync_that_dies_before_the_delta_link_is_stored_loses_and_repeats_nothing() {
    for t in support::all().await {
        let c = support::Mailbox::connected(t, "inbox-test-secret~4").await;
        let lease = chrono::Duration::seconds(1);
        let i = inbox(&c, lease);
        sync(&i, &c).await;
        deliver(&c, 130, "Crash");
        // Page 2 takes a while: the sync is killed while waiting for it, after
        // page 1 and its link were committed, before the round's delta link.
        c.stand_in.add_fault(FaultSpec {
            endpoint: "delta".into(),
            count: 1,
            fault: Fault::Delay { millis: 0 },
        });
        c.stand_in.add_fault(FaultSpec {
            endpoint: "delta".into(),
            count: 1,
            fault: Fault::Delay { millis: 3000 },
        });
        let dying = i.clone();
        let id = c.email_id.clone();
        let task = tokio::spawn(async move { dying.sync_mailbox(&id).await });
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while stored(&c).await.len() < 50 {
            assert!(
                std::time::Instant::now() < deadline,
                "page 1 never committed"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        task.abort();
        let _ = task.await;
        let state = sync_row(&c).await;
        assert!(state.next_link.is_some(), "{}: mid-round", c.t.label);
        assert!(
            state.lease_owner.is_some(),
            "{}: the dead sync still holds the lease",
            c.t.label
        );

        // Another instance: waits out the lease, then continues.
        let other = inbox(&c, lease);
        assert_eq!(other.sync_mailbox(&c.email_id).await, SyncOutcome::Skipped);
        tokio::time::sleep(Duration::from_millis(1100)).await;
        sync(&other, &c).await;
        assert_each_once(&c, 130).await;
    }
}

#[tokio::test]
async fn marking_read_is_applied_once_per_message() {
    for t in support::all().await {
        let c = support::Mailbox::connected(t, "inbox-test-secret~5").await;
        set_receiving(&c, "mark_read", None).await;
        let i = inbox(&c, chrono::Duration::seconds(30));
        sync(&i, &c).await;
        let ids = deliver(&c, 5, "Read me");
        sync(&i, &c).await;
        // Marking read changes the messages, so the next round names them
        // again: they are recognised, not stored or marked again.
        sync(&i, &c).await;
        sync(&i, &c).await;
        assert_each_once(&c, 5).await;
        for m in stored(&c).await {
            assert_eq!(m.action_state, "done", "{}", c.t.label);
        }
        let inbox_now = c.stand_in.messages(MAILBOX, "inbox").unwrap();
        for id in &ids {
            let m = inbox_now.iter().find(|m| m["id"] == id.as_str()).unwrap();
            assert_eq!(m["isRead"], true, "{}", c.t.label);
            assert_eq!(
                graph_calls(&c, "PATCH", id, id),
                1,
                "{}: one PATCH",
                c.t.label
            );
        }
    }
}

#[tokio::test]
async fn moving_ends_with_each_message_moved_once_even_when_an_answer_is_lost() {
    for t in support::all().await {
        let c = support::Mailbox::connected(t, "inbox-test-secret~6").await;
        set_receiving(&c, "move", Some("archive")).await;
        let i = inbox(&c, chrono::Duration::seconds(30));
        sync(&i, &c).await;
        let ids = deliver(&c, 4, "File me");
        // One move is carried out but its answer never arrives: it stays
        // pending and is repeated; with immutable ids the repeat finds the
        // message where the first move put it.
        c.stand_in.add_fault(FaultSpec {
            endpoint: "moveMessage".into(),
            count: 1,
            fault: Fault::DropAfterBody,
        });
        let first = i.sync_mailbox(&c.email_id).await;
        assert!(
            matches!(first, SyncOutcome::Failed(_)),
            "{}: {first:?}",
            c.t.label
        );
        sync(&i, &c).await;
        sync(&i, &c).await;
        assert_each_once(&c, 4).await;
        let archived = c.stand_in.messages(MAILBOX, "archive").unwrap();
        let in_inbox = c.stand_in.messages(MAILBOX, "inbox").unwrap();
        for id in &ids {
            assert_eq!(
                archived.iter().filter(|m| m["id"] == id.as_str()).count(),
                1,
                "{}: once in Archive",
                c.t.label
            );
            assert!(!in_inbox.iter().any(|m| m["id"] == id.as_str()));
        }
        for m in stored(&c).await {
            assert_eq!(m.action_state, "done", "{}", c.t.label);
            // The next round reported the move as a departure from the Inbox.
            assert!(m.left_folder_at.is_some(), "{}", c.t.label);
        }
    }
}

#[tokio::test]
async fn sync_now_is_answered_and_refused_where_it_makes_no_sense() {
    for t in support::all().await {
        let c = support::Mailbox::connected(t, "inbox-test-secret~7").await;
        let i = inbox(&c, chrono::Duration::seconds(30));
        sync(&i, &c).await;
        deliver(&c, 2, "Now");
        // Not due yet (60 s interval): only Sync now makes the next run pick it up.
        assert!(i.run_once().await.is_empty(), "{}", c.t.label);
        c.call(
            "sync_now",
            serde_json::json!({"tenant_id": c.tenant_id, "email_id": c.email_id}),
        )
        .await;
        let page = c
            .call(
                "load_inbox",
                serde_json::json!({"tenant_id": c.tenant_id, "email_id": c.email_id, "before": null}),
            )
            .await;
        assert_eq!(page["status"]["sync_requested"], true);
        let ran = i.run_once().await;
        assert_eq!(ran.len(), 1, "{}", c.t.label);
        assert_eq!(ran[0].1, SyncOutcome::Synced { new: 2, pages: 1 });
        let state = sync_row(&c).await;
        assert!(state.sync_requested_at.is_none(), "{}: answered", c.t.label);
        assert!(i.run_once().await.is_empty());

        // A send-only mailbox has nothing to sync.
        tenant_email::Entity::update_many()
            .col_expr(tenant_email::Column::Direction, Expr::value("send"))
            .filter(tenant_email::Column::Id.eq(&c.email_id))
            .exec(&c.p.db)
            .await
            .unwrap();
        let r = c
            .admin
            .post(format!("{}/api/sync_now", c.base))
            .json(&serde_json::json!({"tenant_id": c.tenant_id, "email_id": c.email_id}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422, "{}", c.t.label);
        assert!(r.text().await.unwrap().contains("only sends"));
        assert_eq!(
            inbox_message::Entity::find()
                .filter(inbox_message::Column::TenantEmailId.eq(&c.email_id))
                .count(&c.p.db)
                .await
                .unwrap(),
            2
        );
    }
}
