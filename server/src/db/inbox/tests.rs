//! The inbox store on an in-memory SQLite database with a clock the tests
//! move: which mailboxes are due, the sync lease, and page commits that store
//! nothing twice and nothing without the lease.
use super::{Continue, NewMessage, PageCommit};
use crate::db::testing::{mailbox, store};
use crate::db::{connections, Store};
use app::model::inbox::{ActionState, AfterProcessing, MailAddress};
use app::model::ConnectionStatus;
use chrono::Duration;

fn mail(graph_id: &str) -> NewMessage {
    NewMessage {
        graph_id: graph_id.into(),
        internet_message_id: format!("<{graph_id}@fabrikam.example>"),
        from: Some(MailAddress {
            name: "Fabrikam".into(),
            address: "support@fabrikam.example".into(),
        }),
        to: vec![MailAddress {
            name: String::new(),
            address: "desk@contoso.com".into(),
        }],
        cc: Vec::new(),
        reply_to: Vec::new(),
        subject: format!("About {graph_id}"),
        received_at: chrono::DateTime::UNIX_EPOCH,
        body_text: "Hello".into(),
        body_html: None,
        conversation_id: Some(format!("CNV-{graph_id}")),
        importance: "normal".into(),
        in_reply_to: None,
        references: None,
        attachments: Vec::new(),
    }
}

/// A connected receiving mailbox (connections are made by `connect`; the
/// status alone is what the due list reads).
async fn receiving(store: &Store) -> String {
    let mb = mailbox(store, "desk@contoso.com", "receive").await;
    let conn = &store.conn;
    let changed = connections::change_status(
        conn,
        store.now(),
        &crate::db::testing::admin(),
        &mb.id,
        ConnectionStatus::Connected,
        &[],
        None,
    )
    .await
    .unwrap();
    assert!(changed);
    mb.id
}

fn page<'a>(
    id: &'a str,
    owner: &'a str,
    messages: Vec<NewMessage>,
    next: Continue,
) -> PageCommit<'a> {
    PageCommit {
        tenant_email_id: id,
        owner,
        after: AfterProcessing::MarkRead,
        messages,
        removed: &[],
        next,
        lease: Duration::minutes(5),
    }
}

#[tokio::test]
async fn a_mailbox_is_due_when_new_requested_or_its_interval_passed_and_not_while_leased() {
    let (store, clock) = store().await;
    let id = receiving(&store).await;
    let inbox = store.inbox();
    let due = || async { inbox.due().await.unwrap().len() };
    assert_eq!(due().await, 1, "never synced");
    let lease = Duration::minutes(5);
    let state = inbox
        .claim(&id, "inbox", store.now(), "s1", lease)
        .await
        .unwrap()
        .unwrap();
    assert!(state.next_link.is_none() && state.delta_link.is_none());
    assert_eq!(due().await, 0, "leased");
    assert!(inbox
        .claim(&id, "inbox", store.now(), "s2", lease)
        .await
        .unwrap()
        .is_none());
    let done = page(
        &id,
        "s1",
        vec![mail("m1")],
        Continue::Delta("delta-1".into()),
    );
    assert_eq!(inbox.commit_page(done).await.unwrap(), Some(1));
    assert!(inbox.release(&id, "s1", None).await.unwrap());
    assert_eq!(due().await, 0, "synced just now");
    clock.advance(Duration::seconds(61));
    assert_eq!(due().await, 1, "the default interval passed");
    let s = inbox
        .claim(&id, "inbox", store.now(), "s3", lease)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(s.delta_link.as_deref(), Some("delta-1"));
    assert!(inbox.release(&id, "s3", None).await.unwrap());
    // Sync now makes it due at once; the next round answers it…
    inbox.request_sync(&id).await.unwrap();
    assert_eq!(due().await, 1, "Sync now");
    clock.advance(Duration::seconds(1));
    inbox
        .claim(&id, "inbox", store.now(), "s4", lease)
        .await
        .unwrap()
        .unwrap();
    assert!(inbox.round_started(&id, "s4").await.unwrap());
    let done = page(&id, "s4", Vec::new(), Continue::Delta("delta-2".into()));
    assert_eq!(inbox.commit_page(done).await.unwrap(), Some(0));
    let state = inbox.sync_state(&id).await.unwrap().unwrap();
    assert!(state.sync_requested_at.is_none(), "answered");
    // …but not one that began before the click.
    assert!(inbox.round_started(&id, "s4").await.unwrap());
    clock.advance(Duration::seconds(1));
    inbox.request_sync(&id).await.unwrap();
    let done = page(&id, "s4", Vec::new(), Continue::Delta("delta-3".into()));
    assert_eq!(inbox.commit_page(done).await.unwrap(), Some(0));
    let state = inbox.sync_state(&id).await.unwrap().unwrap();
    assert!(
        state.sync_requested_at.is_some(),
        "asked for during this round"
    );
    assert_eq!(state.delta_link.as_deref(), Some("delta-3"));
}

#[tokio::test]
async fn pages_store_each_message_once_in_order_and_only_under_the_lease() {
    let (store, clock) = store().await;
    let id = receiving(&store).await;
    let inbox = store.inbox();
    let lease = Duration::minutes(5);
    inbox
        .claim(&id, "inbox", store.now(), "s1", lease)
        .await
        .unwrap()
        .unwrap();
    // A page naming a message twice, then a page repeating one already kept.
    let first = page(
        &id,
        "s1",
        vec![mail("a"), mail("b"), mail("a")],
        Continue::Next("n1".into()),
    );
    assert_eq!(inbox.commit_page(first).await.unwrap(), Some(2));
    let state = inbox.sync_state(&id).await.unwrap().unwrap();
    assert_eq!(state.next_link.as_deref(), Some("n1"));
    let known = inbox
        .known_ids(&id, &["a".into(), "z".into()])
        .await
        .unwrap();
    assert_eq!(known.into_iter().collect::<Vec<_>>(), vec!["a".to_string()]);
    let removed = ["b".to_string()];
    let second = PageCommit {
        removed: &removed,
        ..page(
            &id,
            "s1",
            vec![mail("b"), mail("c")],
            Continue::Delta("d1".into()),
        )
    };
    assert_eq!(inbox.commit_page(second).await.unwrap(), Some(1));
    let stored = inbox.after(&id, 0, 10, false).await.unwrap();
    let order: Vec<_> = stored.iter().map(|m| (m.seq, m.subject.as_str())).collect();
    assert_eq!(order, vec![(1, "About a"), (2, "About b"), (3, "About c")]);
    assert!(stored[1].left_folder, "b left the folder");
    assert!(stored.iter().all(|m| m.action == ActionState::Pending));
    assert_eq!(
        stored[0].from.as_ref().map(|f| f.name.as_str()),
        Some("Fabrikam")
    );
    // Another sync took over after the lease ran out: the old one stores nothing.
    clock.advance(Duration::minutes(6));
    inbox
        .claim(&id, "inbox", store.now(), "s2", lease)
        .await
        .unwrap()
        .unwrap();
    let late = page(&id, "s1", vec![mail("d")], Continue::Delta("d2".into()));
    assert_eq!(inbox.commit_page(late).await.unwrap(), None);
    assert_eq!(inbox.count(&id).await.unwrap(), 3);
    // After-processing bookkeeping: pending in order, each outcome once.
    let pending = inbox.pending_actions(&id, 10).await.unwrap();
    assert_eq!(pending.len(), 3);
    inbox
        .action_outcome(&pending[0].0, ActionState::Done, None)
        .await
        .unwrap();
    inbox
        .action_outcome(&pending[0].0, ActionState::Failed, Some("late"))
        .await
        .unwrap();
    let first = inbox.message(&id, &pending[0].0).await.unwrap().unwrap();
    assert_eq!(
        (first.action, first.action_error),
        (ActionState::Done, None)
    );
    assert_eq!(
        inbox
            .acknowledge(&id, std::slice::from_ref(&first.id))
            .await
            .unwrap(),
        1
    );
    assert_eq!(inbox.acknowledge(&id, &[first.id]).await.unwrap(), 0);
}
