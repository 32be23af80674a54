//! The outbox's durable queue on SQLite and PostgreSQL: validation refuses
//! before anything is stored, idempotency keys, leases (two claimers never
//! share a message; a dead worker's lease is recovered; a stale worker cannot
//! overwrite), held messages released after re-authentication, admin retry
//! and cancel, mailboxes taking turns.
mod support;

use app::model::mail::{OutboxState, OutgoingAttachment, OutgoingMessage};
use chrono::Duration;
use sea_orm::{EntityTrait, PaginatorTrait};
use server::db::entities::{outbox_attachment, outbox_message};
use server::db::outbox::{Enqueued, GroupCommit, OutboxMessage, Release};
use server::db::Store;
use server::mail::outbox::enqueue::{enqueue, EnqueueError};
use server::mail::outbox::view::view;
use std::collections::HashSet;

use support::outgoing as message;

async fn mailbox(p: &server::startup::Prepared, direction: &str) -> String {
    support::tenant_with_mailbox(p, direction).await.1
}

/// Queues and returns the id.
async fn queued(store: &Store, mailbox: &str, m: &OutgoingMessage) -> String {
    match enqueue(store, mailbox, m.clone()).await.unwrap() {
        Enqueued::Queued(id) => id,
        other => panic!("not queued: {other:?}"),
    }
}

async fn get(store: &Store, id: &str) -> OutboxMessage {
    store.outbox().get(id).await.unwrap().unwrap()
}

#[tokio::test]
async fn enqueue_validates_dedupes_and_stores_attachments() {
    for t in support::all().await {
        let label = t.label;
        let p = support::prepare(&t).await;
        let (db, store) = (&p.db, &p.store);
        let mb = mailbox(&p, "send_receive").await;

        // Bad input: field reasons, nothing stored.
        let bad = OutgoingMessage {
            to: vec!["nope".into()],
            ..message("x")
        };
        match enqueue(store, &mb, bad).await {
            Err(EnqueueError::Invalid(f)) => assert!(f.get("to").is_some(), "{label}"),
            other => panic!("{label}: {other:?}"),
        }
        assert_eq!(outbox_message::Entity::find().count(db).await.unwrap(), 0);
        // Unknown mailbox; receive-only mailbox.
        assert_eq!(
            enqueue(store, "00000000-0000-4000-8000-000000000000", message("x"))
                .await
                .unwrap(),
            Enqueued::NoMailbox
        );
        let receive_only = mailbox(&p, "receive").await;
        assert_eq!(
            enqueue(store, &receive_only, message("x")).await.unwrap(),
            Enqueued::NotSending
        );

        // Idempotency: same key + same content → same id; other content → refused.
        let keyed = OutgoingMessage {
            idempotency_key: Some("order-42".into()),
            attachments: vec![OutgoingAttachment {
                name: "invoice.pdf".into(),
                content_type: "application/pdf".into(),
                content_base64: "JVBERi0xLjQK".into(),
            }],
            ..message("Invoice 42")
        };
        let first = queued(store, &mb, &keyed).await;
        assert_eq!(
            enqueue(store, &mb, keyed.clone()).await.unwrap(),
            Enqueued::Existing(first.clone()),
            "{label}"
        );
        let changed = OutgoingMessage {
            subject: "Invoice 43".into(),
            ..keyed.clone()
        };
        assert_eq!(
            enqueue(store, &mb, changed).await.unwrap(),
            Enqueued::KeyReused
        );
        // The same key in another mailbox is another message.
        let other = mailbox(&p, "send").await;
        assert_ne!(queued(store, &other, &keyed).await, first);

        let attachments = store.outbox().attachments(&first).await.unwrap();
        assert_eq!(attachments.len(), 1);
        assert_eq!(attachments[0].bytes, b"%PDF-1.4\n");
        let row = outbox_message::Entity::find_by_id(first.clone())
            .one(db)
            .await
            .unwrap()
            .unwrap();
        assert!(
            !row.message.contains("JVBERi0xLjQK"),
            "bytes are not duplicated into the JSON"
        );
        assert_eq!(get(store, &first).await.state, OutboxState::Queued);
        let stored = outbox_attachment::Entity::find().all(db).await.unwrap();
        assert!(stored.iter().all(|a| a.size == 9), "{label}");
        assert_eq!(
            outbox_attachment::Entity::find().count(db).await.unwrap(),
            2
        );
    }
}

#[tokio::test]
async fn leases_keep_claimers_apart_and_recover_dead_workers() {
    for t in support::all().await {
        let label = t.label;
        let p = support::prepare(&t).await;
        let clock = support::ManualClock::at(support::now());
        let store = p.store.with_clock(clock.clone());
        let store = &store;
        let mb = mailbox(&p, "send").await;
        // As many as one mailbox may have in flight.
        let n = server::db::outbox::PER_MAILBOX as usize;
        for i in 0..n {
            queued(store, &mb, &message(&format!("m{i}"))).await;
        }
        let lease = Duration::seconds(60);
        // Two claimers at once (two instances): disjoint sets, all taken.
        let (outbox_a, outbox_b) = (store.outbox(), store.outbox());
        let (a, b) = tokio::join!(
            outbox_a.claim("worker-a", lease, n as u64 * 3 / 4),
            outbox_b.claim("worker-b", lease, n as u64 * 3 / 4)
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        let ids_a: HashSet<_> = a.iter().map(|m| m.id.clone()).collect();
        let ids_b: HashSet<_> = b.iter().map(|m| m.id.clone()).collect();
        assert!(ids_a.is_disjoint(&ids_b), "{label}");
        assert_eq!(ids_a.len() + ids_b.len(), n, "{label}");
        assert!(a
            .iter()
            .all(|m| m.state == OutboxState::Sending && m.attempts == 1));
        assert!(store
            .outbox()
            .claim("worker-c", lease, 100)
            .await
            .unwrap()
            .is_empty());

        // Both die; after their leases, worker-c takes their messages over…
        clock.advance(Duration::seconds(61));
        let recovered = store.outbox().claim("worker-c", lease, 100).await.unwrap();
        let ids_c: HashSet<_> = recovered.iter().map(|m| m.id.clone()).collect();
        assert_eq!(ids_c, ids_a.union(&ids_b).cloned().collect(), "{label}");
        assert!(recovered.iter().all(|m| m.attempts == 2));
        // …and a dead worker, waking up, can no longer change them.
        let commits = GroupCommit::start(store);
        let one = recovered[0].clone();
        let stale = a.iter().chain(&b).find(|m| m.id == one.id).unwrap();
        assert!(!commits.mark_sent(stale).await.unwrap());
        assert!(commits.record_draft(&one, "AAMkADraft=").await.unwrap());
        assert!(commits.mark_sent(&one).await.unwrap());
        let sent = get(store, &one.id).await;
        assert_eq!(sent.state, OutboxState::Sent);
        assert_eq!(sent.graph_message_id.as_deref(), Some("AAMkADraft="));
        assert!(sent.lease_owner.is_none() && sent.sent_at.is_some());

        // Rescheduled messages wait until they are due.
        let two = recovered[1].clone();
        let at = store.now() + Duration::seconds(30);
        let busy = Release::Retry {
            at,
            why: "Graph busy (429)",
        };
        assert!(store.outbox().release(&two, busy).await.unwrap());
        clock.advance(Duration::seconds(1));
        assert!(store
            .outbox()
            .claim("worker-d", lease, 1)
            .await
            .unwrap()
            .iter()
            .all(|m| m.id != two.id));
        let shown = view(&get(store, &two.id).await);
        assert_eq!(shown.state, OutboxState::Queued);
        assert_eq!(shown.last_error.as_deref(), Some("Graph busy (429)"));
    }
}

#[tokio::test]
async fn held_messages_wait_for_reauthentication_and_admins_retry_or_cancel() {
    for t in support::all().await {
        let label = t.label;
        let p = support::prepare(&t).await;
        let store = &p.store;
        let mb = mailbox(&p, "send").await;
        let a = queued(store, &mb, &message("a")).await;
        let b = queued(store, &mb, &message("b")).await;
        let lease = Duration::seconds(60);
        let claimed = store.outbox().claim("w", lease, 10).await.unwrap();
        assert_eq!(claimed.len(), 2);
        for m in &claimed {
            let held = Release::Finish {
                state: OutboxState::Held,
                why: "Needs re-authentication",
            };
            assert!(store.outbox().release(m, held).await.unwrap());
        }
        assert!(
            store
                .outbox()
                .claim("w", lease, 10)
                .await
                .unwrap()
                .is_empty(),
            "held is not due"
        );

        // Admin cancels one held message and retries the other (a
        // re-authentication releases held mail the same way: `db::outbox`'s
        // unit tests and `outbox_send` cover that).
        assert!(store
            .outbox()
            .admin_transition(&mb, &b, OutboxState::Cancelled)
            .await
            .unwrap());
        assert!(
            store
                .outbox()
                .admin_transition(&mb, &a, OutboxState::Queued)
                .await
                .unwrap(),
            "{label}"
        );
        let again = store.outbox().claim("w2", lease, 10).await.unwrap();
        assert_eq!(
            again.iter().map(|m| m.id.clone()).collect::<Vec<_>>(),
            vec![a.clone()]
        );

        // A message being sent cannot be touched; a failed one can be retried.
        assert!(!store
            .outbox()
            .admin_transition(&mb, &a, OutboxState::Cancelled)
            .await
            .unwrap());
        let failed = Release::Finish {
            state: OutboxState::Failed,
            why: "Graph refused (400)",
        };
        assert!(store.outbox().release(&again[0], failed).await.unwrap());
        assert!(store
            .outbox()
            .admin_transition(&mb, &a, OutboxState::Queued)
            .await
            .unwrap());
        assert_eq!(get(store, &a).await.state, OutboxState::Queued);
        // Wrong mailbox: nothing happens.
        let other = mailbox(&p, "send").await;
        assert!(!store
            .outbox()
            .admin_transition(&other, &a, OutboxState::Cancelled)
            .await
            .unwrap());
        assert_eq!(store.outbox().list(&mb, 10).await.unwrap().len(), 2);
        assert_eq!(
            outbox_message::Entity::find().count(&p.db).await.unwrap(),
            2
        );
    }
}

#[tokio::test]
async fn mailboxes_take_turns_in_a_claim() {
    for t in support::all().await {
        let label = t.label;
        let p = support::prepare(&t).await;
        let clock = support::ManualClock::at(support::now() - Duration::minutes(1));
        let store = p.store.with_clock(clock.clone());
        let store = &store;
        let (busy, quiet) = (mailbox(&p, "send").await, mailbox(&p, "send").await);
        // A burst for one mailbox, queued before a few for another.
        for i in 0..6 {
            queued(store, &busy, &message(&format!("burst {i}"))).await;
            clock.advance(Duration::seconds(1));
        }
        clock.advance(Duration::seconds(4));
        for i in 0..2 {
            queued(store, &quiet, &message(&format!("quiet {i}"))).await;
            clock.advance(Duration::seconds(1));
        }
        clock.advance(Duration::minutes(1));
        let claimed = store
            .outbox()
            .claim("worker", Duration::seconds(60), 4)
            .await
            .unwrap();
        let per = |mb: &str| claimed.iter().filter(|m| m.tenant_email_id == mb).count();
        assert_eq!(
            (per(&busy), per(&quiet)),
            (2, 2),
            "{label}: each mailbox's first messages before any mailbox's third"
        );
        // Within a mailbox the order stays first-in, first-out.
        let mut subjects: Vec<_> = claimed
            .iter()
            .filter(|m| m.tenant_email_id == busy)
            .map(|m| m.subject.clone())
            .collect();
        subjects.sort();
        assert_eq!(subjects, ["burst 0", "burst 1"], "{label}");
    }
}
