//! The outbox sending through the stand-in's Graph, on SQLite and PostgreSQL:
//! every queued message is sent exactly once (the stand-in's ledger counts
//! sends) through 429 storms with Retry-After, 503s, connections dropped
//! before and after the request, a worker that dies at each step of a send,
//! and two workers (two instances) on one PostgreSQL; never more than four
//! Graph requests in flight per mailbox; a lost grant holds mail until
//! re-authentication; a permanent Graph error fails with its reason.
mod support;

use app::model::mail::{OutboxState, OutgoingMessage};
use ms_stand_in::fixture::MAILBOX;
use ms_stand_in::{Fault, FaultSpec};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use server::db::entities::outbox_message;
use server::db::outbox::GroupCommit;
use server::mail::graph::DraftState;
use server::mail::outbox::view::view;
use server::mail::outbox::worker::{Outbox, OutboxConfig};
use std::sync::Arc;
use std::time::Duration;

fn config() -> OutboxConfig {
    OutboxConfig {
        batch: 64,
        max_in_flight: 64,
        lease: chrono::Duration::seconds(30),
        max_age: chrono::Duration::hours(1),
        backoff_base: Duration::from_millis(20),
        backoff_cap: Duration::from_millis(200),
        idle_poll: Duration::from_millis(20),
    }
}

fn worker(c: &support::Mailbox) -> Arc<Outbox> {
    c.outbox(config())
}

fn message(i: usize) -> OutgoingMessage {
    OutgoingMessage {
        to: vec![format!("customer{i}@fabrikam.com")],
        subject: format!("Order {i} shipped"),
        text_body: Some(format!("Your order {i} is on its way.")),
        ..OutgoingMessage::default()
    }
}

async fn enqueue(c: &support::Mailbox, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(c.enqueue(message(i)).await);
    }
    ids
}

async fn states(c: &support::Mailbox, ids: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for id in ids {
        out.push(c.outbox_message(id).await.state.code().to_string());
    }
    out
}

/// Runs worker rounds until every message is final (or `limit` passes).
async fn drain(workers: &[Arc<Outbox>], c: &support::Mailbox, ids: &[String], limit: Duration) {
    let start = std::time::Instant::now();
    loop {
        let rounds: Vec<_> = workers.iter().map(|w| w.run_once()).collect();
        futures_join(rounds).await;
        let now = states(c, ids).await;
        if now
            .iter()
            .all(|s| ["sent", "failed", "held", "cancelled"].contains(&s.as_str()))
        {
            return;
        }
        assert!(
            start.elapsed() < limit,
            "{}: not final in time: {now:?}",
            c.t.label
        );
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
}

async fn futures_join<F: std::future::Future>(futures: Vec<F>) {
    let mut set = Vec::new();
    for f in futures {
        set.push(f);
    }
    // Poll all rounds together (two instances working at the same time).
    let mut pinned: Vec<_> = set.into_iter().map(Box::pin).collect();
    std::future::poll_fn(|cx| {
        pinned.retain_mut(|f| f.as_mut().poll(cx).is_pending());
        if pinned.is_empty() {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
}

fn assert_sent_once(c: &support::Mailbox, n: usize) {
    let ledger = c.stand_in.ledger();
    let mine: Vec<_> = ledger
        .sent
        .iter()
        .filter(|s| s.mailbox == MAILBOX)
        .collect();
    assert_eq!(mine.len(), n, "{}: distinct messages sent", c.t.label);
    for s in &mine {
        assert_eq!(
            s.send_count, 1,
            "{}: {:?} sent {} times",
            c.t.label, s.subject, s.send_count
        );
    }
    let high = ledger
        .concurrency_high_water
        .get(MAILBOX)
        .copied()
        .unwrap_or(0);
    assert!(high <= 4, "{}: {high} Graph requests in flight", c.t.label);
}

#[tokio::test]
async fn every_message_is_sent_once_through_throttling_and_dropped_connections() {
    for t in support::all().await {
        let c = support::Mailbox::connected(t, "outbox-test-secret~1").await;
        c.stand_in.clear_ledger();
        for (endpoint, fault, count) in [
            (
                "createMessage",
                Fault::TooManyRequests {
                    retry_after: "0.2".into(),
                },
                3,
            ),
            (
                "sendDraft",
                Fault::TooManyRequests {
                    retry_after: "0.1".into(),
                },
                3,
            ),
            (
                "sendDraft",
                Fault::ServiceUnavailable { retry_after: None },
                2,
            ),
            ("sendDraft", Fault::DropAfterBody, 2),
            ("createMessage", Fault::DropBeforeBody, 1),
            (
                "getMessage",
                Fault::ServiceUnavailable { retry_after: None },
                1,
            ),
        ] {
            c.stand_in.add_fault(FaultSpec {
                endpoint: endpoint.into(),
                count,
                fault,
            });
        }
        let ids = enqueue(&c, 16).await;
        drain(&[worker(&c)], &c, &ids, Duration::from_secs(60)).await;
        assert!(
            states(&c, &ids).await.iter().all(|s| s == "sent"),
            "{}",
            c.t.label
        );
        assert_sent_once(&c, 16);
        // Some messages needed more than one try, and say nothing is wrong now.
        let rows = outbox_message::Entity::find().all(&c.p.db).await.unwrap();
        assert!(
            rows.iter().any(|r| r.attempts > 1),
            "{}: faults were hit",
            c.t.label
        );
        assert!(rows
            .iter()
            .all(|r| r.last_error.is_none() && r.sent_at.is_some()));
    }
}

#[tokio::test]
async fn a_worker_dying_at_any_step_never_causes_a_second_send() {
    for t in support::all().await {
        let c = support::Mailbox::connected(t, "outbox-test-secret~2").await;
        c.stand_in.clear_ledger();
        let graph = c.graph();
        let token = c.access_token().await;
        let short = chrono::Duration::milliseconds(300);
        let commits = GroupCommit::start(c.store());
        let ids = enqueue(&c, 4).await;
        // A dead worker claimed everything (then was killed at a different step per message).
        let claimed = c
            .store()
            .outbox()
            .claim("dead-worker", short, 10)
            .await
            .unwrap();
        assert_eq!(claimed.len(), 4);
        let by_id = |id: &str| claimed.iter().find(|m| m.id == id).unwrap().clone();
        // 0: died right after claiming.
        // 1: died after creating the draft, before storing its id (an orphan draft).
        let m1 = by_id(&ids[1]);
        let msg1: OutgoingMessage = m1.message().unwrap();
        let orphan = graph
            .create_draft(&token, &msg1, &[], &m1.id, None)
            .await
            .unwrap();
        // 2: died after storing the draft id, before sending.
        let m2 = by_id(&ids[2]);
        let msg2: OutgoingMessage = m2.message().unwrap();
        let d2 = graph
            .create_draft(&token, &msg2, &[], &m2.id, None)
            .await
            .unwrap();
        assert!(commits.record_draft(&m2, &d2).await.unwrap());
        // 3: died after Graph accepted the send, before recording it.
        let m3 = by_id(&ids[3]);
        let msg3: OutgoingMessage = m3.message().unwrap();
        let d3 = graph
            .create_draft(&token, &msg3, &[], &m3.id, None)
            .await
            .unwrap();
        assert!(commits.record_draft(&m3, &d3).await.unwrap());
        graph.send_draft(&token, &d3).await.unwrap();
        assert_eq!(
            graph.draft_state(&token, &d3).await.unwrap(),
            DraftState::Sent
        );

        // The restarted instance takes over once the leases run out.
        tokio::time::sleep(Duration::from_millis(400)).await;
        drain(&[worker(&c)], &c, &ids, Duration::from_secs(30)).await;
        assert!(
            states(&c, &ids).await.iter().all(|s| s == "sent"),
            "{}",
            c.t.label
        );
        assert_sent_once(&c, 4);
        // The orphan draft of message 1 was never sent, and was deleted when
        // message 1 was tried again: nothing is left in Drafts.
        assert_eq!(
            graph.draft_state(&token, &orphan).await.unwrap(),
            DraftState::Draft,
            "{}: the orphan is in Deleted Items, unsent",
            c.t.label
        );
        assert!(graph
            .tagged_drafts(&token, &m1.id)
            .await
            .unwrap()
            .is_empty());
        let drafts = c.stand_in.messages(MAILBOX, "drafts").unwrap();
        assert!(drafts.is_empty(), "{}: {drafts:?}", c.t.label);
        let deleted = c.stand_in.messages(MAILBOX, "deleteditems").unwrap();
        assert_eq!(deleted.len(), 1, "{}", c.t.label);
        // Message 3 was not sent twice.
        assert_eq!(
            c.outbox_message(&ids[3]).await.graph_message_id.as_deref(),
            Some(d3.as_str())
        );
    }
}

#[tokio::test]
async fn a_lost_grant_holds_mail_until_reauthentication() {
    for t in support::all().await {
        let c = support::Mailbox::connected(t, "outbox-test-secret~3").await;
        c.stand_in.clear_ledger();
        c.stand_in.revoke_grant(MAILBOX).unwrap();
        c.stand_in.expire_access_tokens(MAILBOX).unwrap();
        // The cached access token is still valid in Tenant Mail's eyes: Graph
        // refuses it (401), the refresh finds the grant gone → held.
        let ids = enqueue(&c, 3).await;
        drain(&[worker(&c)], &c, &ids, Duration::from_secs(30)).await;
        assert!(
            states(&c, &ids).await.iter().all(|s| s == "held"),
            "{}",
            c.t.label
        );
        let held = c.outbox_message(&ids[0]).await;
        assert!(
            held.last_error.unwrap().to_lowercase().contains("sign"),
            "the reason is shown"
        );
        assert!(
            c.stand_in.ledger().sent.is_empty(),
            "nothing sent, nothing lost"
        );

        c.connect().await;
        drain(&[worker(&c)], &c, &ids, Duration::from_secs(30)).await;
        assert!(
            states(&c, &ids).await.iter().all(|s| s == "sent"),
            "{}",
            c.t.label
        );
        assert_sent_once(&c, 3);
    }
}

#[tokio::test]
async fn a_permanent_graph_error_fails_the_message_with_its_reason() {
    for t in support::all().await {
        let c = support::Mailbox::connected(t, "outbox-test-secret~4").await;
        let ids = enqueue(&c, 2).await;
        // Graph refuses this recipient (Tenant Mail's own validation would not let it in).
        let mut bad = message(0);
        bad.to = vec!["not-resolvable".into()];
        outbox_message::Entity::update_many()
            .col_expr(
                outbox_message::Column::Message,
                Expr::value(serde_json::to_string(&bad).unwrap()),
            )
            .filter(outbox_message::Column::Id.eq(ids[0].as_str()))
            .exec(&c.p.db)
            .await
            .unwrap();
        drain(&[worker(&c)], &c, &ids, Duration::from_secs(30)).await;
        let failed = view(&c.outbox_message(&ids[0]).await);
        assert_eq!(failed.state, OutboxState::Failed, "{}", c.t.label);
        let reason = failed.last_error.unwrap();
        assert!(reason.contains("ErrorInvalidRecipients"), "{reason}");
        assert_eq!(failed.attempts, 1, "a 400 is not retried");
        assert_eq!(states(&c, &ids[1..]).await, vec!["sent"]);
    }
}

#[tokio::test]
async fn two_instances_on_one_postgres_share_the_four_slots() {
    let Some(t) = support::postgres().await else {
        return;
    };
    let c = support::Mailbox::connected(t, "outbox-test-secret~5").await;
    c.stand_in.clear_ledger();
    // Slow Graph answers make the two instances overlap.
    c.stand_in.add_fault(FaultSpec {
        endpoint: "graph".into(),
        count: 200,
        fault: Fault::Delay { millis: 40 },
    });
    let ids = enqueue(&c, 24).await;
    drain(&[worker(&c), worker(&c)], &c, &ids, Duration::from_secs(90)).await;
    assert!(states(&c, &ids).await.iter().all(|s| s == "sent"));
    assert_sent_once(&c, 24);
    let high = c.stand_in.ledger().concurrency_high_water[MAILBOX];
    assert!(high >= 2, "the instances did work in parallel ({high})");
}

#[tokio::test]
async fn the_running_worker_picks_up_new_mail_as_it_comes() {
    let c = support::Mailbox::connected(support::sqlite().await, "outbox-test-secret~6").await;
    c.stand_in.clear_ledger();
    let w = worker(&c);
    let running = w.clone().spawn();
    let mut ids = enqueue(&c, 5).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    for i in 100..105 {
        ids.push(c.enqueue(message(i)).await);
    }
    let start = std::time::Instant::now();
    while states(&c, &ids).await.iter().any(|s| s != "sent") {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "not sent in time"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    running.abort();
    assert_eq!(w.sent_total(), 10);
    assert_sent_once(&c, 10);
}

#[tokio::test]
async fn a_vanished_draft_fails_and_retry_sends_a_new_copy() {
    for t in support::all().await {
        let c = support::Mailbox::connected(t, "outbox-test-secret~7").await;
        c.stand_in.clear_ledger();
        let graph = c.graph();
        let token = c.access_token().await;
        let commits = GroupCommit::start(c.store());
        let ids = enqueue(&c, 1).await;
        // A worker recorded a draft and died; the draft is gone for good since
        // (purged from Deleted Items): Graph answers 404 for its id.
        let claimed = c
            .store()
            .outbox()
            .claim(
                "00000000-dead-4000-8000-000000000000",
                chrono::Duration::milliseconds(200),
                1,
            )
            .await
            .unwrap();
        let gone = "AAkALgAAAAAAHYQDEapmEc2byACqAC-EWg0AGoneGoneGoneGone";
        assert!(commits.record_draft(&claimed[0], gone).await.unwrap());
        assert_eq!(
            graph.draft_state(&token, gone).await.unwrap(),
            DraftState::Missing
        );
        tokio::time::sleep(Duration::from_millis(250)).await;

        drain(&[worker(&c)], &c, &ids, Duration::from_secs(30)).await;
        let failed = c.outbox_message(&ids[0]).await;
        assert_eq!(failed.state, OutboxState::Failed, "{}", c.t.label);
        assert!(failed
            .last_error
            .unwrap()
            .contains("Retry sends a new copy"));
        assert!(
            failed.graph_message_id.is_none(),
            "the vanished draft is forgotten"
        );
        assert!(c.stand_in.ledger().sent.is_empty());

        // The admin's Retry makes a new draft and sends it once.
        assert!(c
            .store()
            .outbox()
            .admin_transition(&c.email_id, &ids[0], OutboxState::Queued)
            .await
            .unwrap());
        drain(&[worker(&c)], &c, &ids, Duration::from_secs(30)).await;
        assert_eq!(states(&c, &ids).await, vec!["sent"], "{}", c.t.label);
        assert_sent_once(&c, 1);
    }
}
