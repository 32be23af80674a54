//! The outbox's durable queue on SQLite and PostgreSQL: validation refuses
//! before anything is stored, idempotency keys, leases (two claimers never
//! share a message; a dead worker's lease is recovered; a stale worker cannot
//! overwrite), held messages released after re-authentication, admin retry
//! and cancel.
mod support;

use app::model::mail::{OutboxState, OutgoingAttachment, OutgoingMessage};
use app::model::TenantEmailInput;
use chrono::{Duration, Utc};
use sea_orm::{EntityTrait, PaginatorTrait};
use server::db::entities::{outbox_attachment, outbox_message};
use server::mail::outbox::store::{self, EnqueueError};
use std::collections::HashSet;

fn message(subject: &str) -> OutgoingMessage {
    OutgoingMessage {
        to: vec!["customer@fabrikam.com".into()],
        subject: subject.into(),
        text_body: Some("Hello".into()),
        ..OutgoingMessage::default()
    }
}

async fn mailbox(p: &server::startup::Prepared, direction: &str) -> String {
    let tenant = p
        .backend
        .create_tenant(&support::actor(), &format!("T {}", uuid::Uuid::new_v4()))
        .await
        .unwrap();
    let input = TenantEmailInput {
        address: format!("desk-{}@contoso.com", uuid::Uuid::new_v4().simple()),
        direction: direction.into(),
        application_id: "79c6ff55-b7e0-4517-bfd7-b4fffb6fee40".into(),
        client_secret: "fake-secret-for-tests".into(),
        authority_url: "https://login.microsoftonline.com/common".into(),
        ..TenantEmailInput::defaults()
    };
    p.backend
        .create_tenant_email(&support::actor(), &tenant.id, &input)
        .await
        .unwrap()
        .id
}

#[tokio::test]
async fn enqueue_validates_dedupes_and_stores_attachments() {
    for t in support::all().await {
        let label = t.label;
        let p = server::startup::prepare(&t.config, support::leptos_options())
            .await
            .unwrap();
        let db = &p.db;
        let now = Utc::now();
        let mb = mailbox(&p, "send_receive").await;

        // Bad input: field reasons, nothing stored.
        let bad = OutgoingMessage {
            to: vec!["nope".into()],
            ..message("x")
        };
        match store::enqueue(db, now, &mb, &bad).await {
            Err(EnqueueError::Invalid(f)) => assert!(f.get("to").is_some(), "{label}"),
            other => panic!("{label}: {other:?}"),
        }
        assert_eq!(outbox_message::Entity::find().count(db).await.unwrap(), 0);
        // Unknown mailbox; receive-only mailbox.
        assert!(matches!(
            store::enqueue(
                db,
                now,
                "00000000-0000-4000-8000-000000000000",
                &message("x")
            )
            .await,
            Err(EnqueueError::NotFound)
        ));
        let receive_only = mailbox(&p, "receive").await;
        assert!(matches!(
            store::enqueue(db, now, &receive_only, &message("x")).await,
            Err(EnqueueError::NotSending)
        ));

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
        let first = store::enqueue(db, now, &mb, &keyed).await.unwrap();
        assert!(!first.existing);
        let again = store::enqueue(db, now, &mb, &keyed).await.unwrap();
        assert_eq!(again.id, first.id, "{label}");
        assert!(again.existing);
        let changed = OutgoingMessage {
            subject: "Invoice 43".into(),
            ..keyed.clone()
        };
        assert!(matches!(
            store::enqueue(db, now, &mb, &changed).await,
            Err(EnqueueError::KeyReused)
        ));
        // The same key in another mailbox is another message.
        let other = mailbox(&p, "send").await;
        assert_ne!(
            store::enqueue(db, now, &other, &keyed).await.unwrap().id,
            first.id
        );

        let attachments = store::attachments(db, &first.id).await.unwrap();
        assert_eq!(attachments.len(), 1);
        assert_eq!(attachments[0].content, b"%PDF-1.4\n");
        assert_eq!(attachments[0].size, 9);
        let row = store::get(db, &first.id).await.unwrap().unwrap();
        assert!(
            !row.message.contains("JVBERi0xLjQK"),
            "bytes are not duplicated into the JSON"
        );
        assert_eq!(row.state, "queued");
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
        let p = server::startup::prepare(&t.config, support::leptos_options())
            .await
            .unwrap();
        let db = &p.db;
        let now = Utc::now();
        let mb = mailbox(&p, "send").await;
        for i in 0..20 {
            store::enqueue(db, now, &mb, &message(&format!("m{i}")))
                .await
                .unwrap();
        }
        let lease = Duration::seconds(60);
        // Two claimers at once (two instances): disjoint sets, all 20 taken.
        let (a, b) = tokio::join!(
            store::claim(db, "worker-a", now, lease, 12),
            store::claim(db, "worker-b", now, lease, 12)
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        let ids_a: HashSet<_> = a.iter().map(|m| m.id.clone()).collect();
        let ids_b: HashSet<_> = b.iter().map(|m| m.id.clone()).collect();
        assert!(ids_a.is_disjoint(&ids_b), "{label}");
        assert_eq!(ids_a.len() + ids_b.len(), 20, "{label}");
        assert!(a.iter().all(|m| m.state == "sending" && m.attempts == 1));
        assert!(store::claim(db, "worker-c", now, lease, 50)
            .await
            .unwrap()
            .is_empty());

        // worker-a dies; after its lease, worker-c takes its messages over…
        let later = now + Duration::seconds(61);
        let recovered = store::claim(db, "worker-c", later, lease, 50)
            .await
            .unwrap();
        let ids_c: HashSet<_> = recovered.iter().map(|m| m.id.clone()).collect();
        assert_eq!(ids_c, ids_a.union(&ids_b).cloned().collect(), "{label}");
        assert!(recovered.iter().all(|m| m.attempts == 2));
        // …and the dead worker, waking up, can no longer change them.
        let one = recovered[0].id.clone();
        assert!(!store::mark_sent(db, &one, "worker-a", later).await.unwrap());
        assert!(
            store::record_draft(db, &one, "worker-c", "AAMkADraft=", later)
                .await
                .unwrap()
        );
        assert!(store::mark_sent(db, &one, "worker-c", later).await.unwrap());
        let sent = store::get(db, &one).await.unwrap().unwrap();
        assert_eq!(sent.state, "sent");
        assert_eq!(sent.graph_message_id.as_deref(), Some("AAMkADraft="));
        assert!(sent.lease_owner.is_none() && sent.sent_at.is_some());

        // Rescheduled messages wait until they are due.
        let two = recovered[1].id.clone();
        let due = later + Duration::seconds(30);
        assert!(
            store::reschedule(db, &two, "worker-c", due, "Graph busy (429)", later)
                .await
                .unwrap()
        );
        assert!(
            store::claim(db, "worker-d", later + Duration::seconds(1), lease, 1)
                .await
                .unwrap()
                .iter()
                .all(|m| m.id != two)
        );
        let view = store::view(&store::get(db, &two).await.unwrap().unwrap());
        assert_eq!(view.state, OutboxState::Queued);
        assert_eq!(view.last_error.as_deref(), Some("Graph busy (429)"));
    }
}

#[tokio::test]
async fn held_messages_wait_for_reauthentication_and_admins_retry_or_cancel() {
    for t in support::all().await {
        let label = t.label;
        let p = server::startup::prepare(&t.config, support::leptos_options())
            .await
            .unwrap();
        let db = &p.db;
        let now = Utc::now();
        let mb = mailbox(&p, "send").await;
        let a = store::enqueue(db, now, &mb, &message("a"))
            .await
            .unwrap()
            .id;
        let b = store::enqueue(db, now, &mb, &message("b"))
            .await
            .unwrap()
            .id;
        let lease = Duration::seconds(60);
        let claimed = store::claim(db, "w", now, lease, 10).await.unwrap();
        assert_eq!(claimed.len(), 2);
        for id in [&a, &b] {
            assert!(store::finish(
                db,
                id,
                "w",
                OutboxState::Held,
                "Needs re-authentication",
                now
            )
            .await
            .unwrap());
        }
        assert!(
            store::claim(db, "w", now, lease, 10)
                .await
                .unwrap()
                .is_empty(),
            "held is not due"
        );

        // Admin cancels one held message; re-authentication releases the other.
        assert!(
            store::admin_transition(db, &mb, &b, OutboxState::Cancelled, now)
                .await
                .unwrap()
        );
        assert_eq!(
            store::release_held(db, &mb, now).await.unwrap(),
            1,
            "{label}"
        );
        let again = store::claim(db, "w2", now, lease, 10).await.unwrap();
        assert_eq!(
            again.iter().map(|m| m.id.clone()).collect::<Vec<_>>(),
            vec![a.clone()]
        );

        // A failed message can be retried, a sending one cannot be touched.
        assert!(
            !store::admin_transition(db, &mb, &a, OutboxState::Cancelled, now)
                .await
                .unwrap()
        );
        assert!(store::finish(
            db,
            &a,
            "w2",
            OutboxState::Failed,
            "Graph refused (400)",
            now
        )
        .await
        .unwrap());
        assert!(
            store::admin_transition(db, &mb, &a, OutboxState::Queued, now)
                .await
                .unwrap()
        );
        assert_eq!(store::get(db, &a).await.unwrap().unwrap().state, "queued");
        // Wrong mailbox: nothing happens.
        let other = mailbox(&p, "send").await;
        assert!(
            !store::admin_transition(db, &other, &a, OutboxState::Cancelled, now)
                .await
                .unwrap()
        );
        let listed = store::list(db, &mb, 10).await.unwrap();
        assert_eq!(listed.len(), 2);
    }
}

#[tokio::test]
async fn mailboxes_take_turns_in_a_claim() {
    for t in support::all().await {
        let label = t.label;
        let p = server::startup::prepare(&t.config, support::leptos_options())
            .await
            .unwrap();
        let db = &p.db;
        let (busy, quiet) = (mailbox(&p, "send").await, mailbox(&p, "send").await);
        let start = Utc::now() - Duration::minutes(1);
        // A burst for one mailbox, queued before a few for another.
        for i in 0..6 {
            store::enqueue(
                db,
                start + Duration::seconds(i),
                &busy,
                &message(&format!("burst {i}")),
            )
            .await
            .unwrap();
        }
        for i in 0..2 {
            store::enqueue(
                db,
                start + Duration::seconds(10 + i),
                &quiet,
                &message(&format!("quiet {i}")),
            )
            .await
            .unwrap();
        }
        let claimed = store::claim(db, "worker", Utc::now(), Duration::seconds(60), 4)
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
