//! The outbox store on an in-memory SQLite database with a clock the tests
//! move. (`tests/outbox_store.rs` runs the claims on PostgreSQL too.)
use super::{
    release_held, Enqueued, GroupCommit, NewAttachment, NewMessage, OutboxMessage, Release,
};
use crate::db::testing::{mailbox, store};
use crate::db::{Store, StoreError};
use app::model::mail::{OutboxState, OutgoingMessage};
use chrono::Duration;

fn message(subject: &str) -> OutgoingMessage {
    OutgoingMessage {
        to: vec!["customer@fabrikam.com".into()],
        subject: subject.into(),
        text_body: Some("Hello".into()),
        ..OutgoingMessage::default()
    }
}

async fn queue(store: &Store, mailbox: &str, subject: &str) -> String {
    let m = message(subject);
    let new = NewMessage {
        tenant_email_id: mailbox,
        message: &m,
        attachments: vec![NewAttachment {
            name: "a.txt".into(),
            content_type: "text/plain".into(),
            bytes: b"attached".to_vec(),
        }],
        request_hash: format!("hash of {subject}"),
    };
    match store.outbox().enqueue(new).await.unwrap() {
        Enqueued::Queued(id) => id,
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn every_way_out_of_a_lease_and_only_for_its_holder() {
    let (store, clock) = store().await;
    let mb = mailbox(&store, "desk@contoso.com", "send").await;
    for s in ["retry", "held", "vanished"] {
        queue(&store, &mb.id, s).await;
    }
    let lease = Duration::seconds(60);
    let claimed = store.outbox().claim("w1", lease, 10).await.unwrap();
    assert_eq!(claimed.len(), 3);
    let by = |s: &str| claimed.iter().find(|m| m.subject == s).unwrap().clone();
    let commits = GroupCommit::start(&store);
    assert!(commits
        .record_draft(&by("vanished"), "AAMkDraft")
        .await
        .unwrap());

    // Retry: queued again, due later, the reason kept meanwhile.
    let due = store.now() + Duration::seconds(30);
    let retry = Release::Retry {
        at: due,
        why: "Graph busy (429)",
    };
    assert!(store
        .outbox()
        .release(&by("retry"), retry.clone())
        .await
        .unwrap());
    // Held: waits for re-authentication, never claimed.
    let held = Release::Finish {
        state: OutboxState::Held,
        why: "Needs re-authentication",
    };
    assert!(store.outbox().release(&by("held"), held).await.unwrap());
    // The draft vanished: failed, and the draft forgotten.
    let vanished = Release::DraftVanished { why: "gone" };
    assert!(store
        .outbox()
        .release(&by("vanished"), vanished)
        .await
        .unwrap());
    // A lease let go of is no one's any more: the old holder changes nothing.
    assert!(!store.outbox().release(&by("retry"), retry).await.unwrap());
    assert!(!commits.mark_sent(&by("retry")).await.unwrap());

    let get = |id: String| {
        let store = store.clone();
        async move { store.outbox().get(&id).await.unwrap().unwrap() }
    };
    let r = get(by("retry").id).await;
    assert_eq!(
        (r.state, r.next_attempt_at, r.last_error.as_deref()),
        (OutboxState::Queued, due, Some("Graph busy (429)"))
    );
    assert_eq!(get(by("held").id).await.state, OutboxState::Held);
    let v = get(by("vanished").id).await;
    assert_eq!((v.state, v.graph_message_id), (OutboxState::Failed, None));

    // Not due yet; then due, with its attempts counted.
    assert!(store
        .outbox()
        .claim("w2", lease, 10)
        .await
        .unwrap()
        .is_empty());
    clock.advance(Duration::seconds(31));
    let again = store.outbox().claim("w2", lease, 10).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!((again[0].subject.as_str(), again[0].attempts), ("retry", 2));
}

#[tokio::test]
async fn an_expired_lease_is_taken_over_and_the_slow_holder_is_refused() {
    let (store, clock) = store().await;
    let mb = mailbox(&store, "desk@contoso.com", "send").await;
    queue(&store, &mb.id, "slow").await;
    let lease = Duration::seconds(60);
    let first = store.outbox().claim("slow", lease, 1).await.unwrap();
    assert!(store
        .outbox()
        .claim("fast", lease, 1)
        .await
        .unwrap()
        .is_empty());
    clock.advance(Duration::seconds(61));
    let second = store.outbox().claim("fast", lease, 1).await.unwrap();
    assert_eq!(second[0].id, first[0].id);
    let commits = GroupCommit::start(&store);
    // Both writes of a send, batched or not, need the current lease.
    assert!(!commits.record_draft(&first[0], "AAMkSlow").await.unwrap());
    assert!(commits.record_draft(&second[0], "AAMkFast").await.unwrap());
    assert!(!commits.mark_sent(&first[0]).await.unwrap());
    assert!(commits.mark_sent(&second[0]).await.unwrap());
    let sent = store.outbox().get(&first[0].id).await.unwrap().unwrap();
    assert_eq!(sent.state, OutboxState::Sent);
    assert_eq!(sent.graph_message_id.as_deref(), Some("AAMkFast"));
    assert_eq!(sent.sent_at, Some(store.now()));
}

#[tokio::test]
async fn writes_that_arrive_together_share_a_commit_and_each_hears_its_own_outcome() {
    let (store, _) = store().await;
    // Three mailboxes: one may have only `PER_MAILBOX` in flight.
    let mut boxes = Vec::new();
    for name in ["desk", "sales", "billing"] {
        let mb = mailbox(&store, &format!("{name}@contoso.com"), "send").await;
        for i in 0..14 {
            queue(&store, &mb.id, &format!("{name} {i}")).await;
        }
        boxes.push(mb);
    }
    let claimed = store
        .outbox()
        .claim("w", Duration::seconds(60), 40)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 40);
    let commits = GroupCommit::start(&store);
    let mut stale = claimed[0].clone();
    stale.lease_owner = Some("someone else".into());
    let mut tasks = tokio::task::JoinSet::new();
    for m in claimed.iter().skip(1).cloned().chain([stale]) {
        let commits = commits.clone();
        tasks.spawn(async move { commits.mark_sent(&m).await.unwrap() });
    }
    let mut applied = 0;
    while let Some(done) = tasks.join_next().await {
        applied += usize::from(done.unwrap());
    }
    assert_eq!(applied, 39, "every write but the stale one");
    let mut sent = 0;
    for mb in &boxes {
        let list = store.outbox().list(&mb.id, 100).await.unwrap();
        sent += list.iter().filter(|m| m.state == OutboxState::Sent).count();
    }
    assert_eq!(sent, 39);
}

/// One mailbox never has more than `PER_MAILBOX` messages under a live
/// lease, whoever claims: a burst for it waits in the queue, not in leases
/// that would run out before a Graph slot is free. What finishes makes room.
#[tokio::test]
async fn a_mailbox_has_at_most_per_mailbox_messages_in_flight() {
    let (store, clock) = store().await;
    let desk = mailbox(&store, "desk@contoso.com", "send").await;
    let sales = mailbox(&store, "sales@contoso.com", "send").await;
    let cap = crate::db::outbox::PER_MAILBOX as usize;
    for i in 0..cap + 10 {
        queue(&store, &desk.id, &format!("desk {i}")).await;
    }
    queue(&store, &sales.id, "sales 0").await;
    let first = store
        .outbox()
        .claim("a", Duration::seconds(60), 200)
        .await
        .unwrap();
    let of =
        |list: &[OutboxMessage], id: &str| list.iter().filter(|m| m.tenant_email_id == id).count();
    assert_eq!(of(&first, &desk.id), cap);
    assert_eq!(of(&first, &sales.id), 1);
    // Another instance finds nothing more for the busy mailbox.
    let second = store
        .outbox()
        .claim("b", Duration::seconds(60), 200)
        .await
        .unwrap();
    assert!(second.is_empty(), "{}", second.len());
    // One sent: room for exactly one more.
    let commits = GroupCommit::start(&store);
    let one = first.iter().find(|m| m.tenant_email_id == desk.id).unwrap();
    assert!(commits.mark_sent(one).await.unwrap());
    let third = store
        .outbox()
        .claim("b", Duration::seconds(60), 200)
        .await
        .unwrap();
    assert_eq!(third.len(), 1);
    // Leases that ran out no longer count: their messages are due again.
    clock.advance(Duration::seconds(61));
    let fourth = store
        .outbox()
        .claim("c", Duration::seconds(60), 200)
        .await
        .unwrap();
    assert_eq!(of(&fourth, &desk.id), cap);
}

#[tokio::test]
async fn held_mail_is_released_for_its_mailbox_only() {
    let (store, _) = store().await;
    let a = mailbox(&store, "a@contoso.com", "send").await;
    let b = mailbox(&store, "b@fabrikam.com", "send").await;
    for mb in [&a, &b] {
        queue(&store, &mb.id, "held").await;
    }
    queue(&store, &a.id, "cancelled").await;
    let claimed = store
        .outbox()
        .claim("w", Duration::seconds(60), 10)
        .await
        .unwrap();
    for m in &claimed {
        let to = Release::Finish {
            state: OutboxState::Held,
            why: "Needs re-authentication",
        };
        assert!(store.outbox().release(m, to).await.unwrap());
    }
    let cancel = claimed.iter().find(|m| m.subject == "cancelled").unwrap();
    assert!(store
        .outbox()
        .admin_transition(&a.id, &cancel.id, OutboxState::Cancelled)
        .await
        .unwrap());
    assert_eq!(
        release_held(&store.conn, &a.id, store.now()).await.unwrap(),
        1
    );
    let states = |id: String| {
        let store = store.clone();
        async move {
            let list = store.outbox().list(&id, 10).await.unwrap();
            let mut s: Vec<_> = list.iter().map(|m| m.state).collect();
            s.sort_by_key(|s| s.code());
            s
        }
    };
    assert_eq!(
        states(a.id.clone()).await,
        vec![OutboxState::Cancelled, OutboxState::Queued]
    );
    assert_eq!(states(b.id.clone()).await, vec![OutboxState::Held]);
}

#[tokio::test]
async fn an_unreadable_stored_message_is_a_corrupt_row_not_a_panic() {
    use crate::db::entities::outbox_message;
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let (store, _) = store().await;
    let mb = mailbox(&store, "desk@contoso.com", "send").await;
    let id = queue(&store, &mb.id, "x").await;
    outbox_message::Entity::update_many()
        .col_expr(outbox_message::Column::Message, Expr::value("{not json"))
        .filter(outbox_message::Column::Id.eq(id.as_str()))
        .exec(&store.conn)
        .await
        .unwrap();
    let m = store.outbox().get(&id).await.unwrap().unwrap();
    assert!(matches!(m.message(), Err(StoreError::Corrupt(_))));
    // The receive-only mailbox and an unknown one are told apart from a queued message.
    let inbound = mailbox(&store, "in@contoso.com", "receive").await;
    let msg = message("y");
    let new = |id| NewMessage {
        tenant_email_id: id,
        message: &msg,
        attachments: Vec::new(),
        request_hash: "h".into(),
    };
    assert_eq!(
        store.outbox().enqueue(new(&inbound.id)).await.unwrap(),
        Enqueued::NotSending
    );
    assert_eq!(
        store
            .outbox()
            .enqueue(new("no-such-mailbox"))
            .await
            .unwrap(),
        Enqueued::NoMailbox
    );
}
