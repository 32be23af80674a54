//! The Receiving tab's folder picker, on SQLite and PostgreSQL, through the
//! stand-in's Graph: the mailbox's folders are listed by name and nested
//! (each folder followed by its children, whatever the depth), a folder
//! picked by id is what the sync then reads; a mailbox not connected yet
//! gets a reason on the folder field instead of a list.
mod support;

use ms_stand_in::fixture::MAILBOX;
use ms_stand_in::IncomingMail;
use serde_json::{json, Value};
use server::mail::inbox::sync::{InboxConfig, SyncOutcome};
use std::time::Duration;
use support::{Mailbox, Time};

async fn folders(c: &Mailbox) -> Value {
    c.call(
        "list_mail_folders",
        json!({"tenant_id": c.tenant_id, "email_id": c.email_id}),
    )
    .await
}

fn paths(list: &Value) -> Vec<String> {
    list["folders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            f["path"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p.as_str().unwrap())
                .collect::<Vec<_>>()
                .join(" / ")
        })
        .collect()
}

#[tokio::test]
async fn folders_are_listed_by_name_nested_and_a_picked_id_is_what_the_sync_reads() {
    for t in support::all().await {
        let c = Mailbox::connected(t, "folders-secret~1").await;
        let tickets = c
            .stand_in
            .add_folder(MAILBOX, "Tickets", Some("inbox"))
            .unwrap();
        let urgent = c
            .stand_in
            .add_folder(MAILBOX, "Urgent", Some(&tickets))
            .unwrap();
        let deep = c
            .stand_in
            .add_folder(MAILBOX, "Today", Some(&urgent))
            .unwrap();
        // More top-level folders than one of Graph's default pages holds.
        for i in 0..12 {
            c.stand_in
                .add_folder(MAILBOX, &format!("Project {i:02}"), None)
                .unwrap();
        }
        let list = folders(&c).await;
        assert_eq!(list["truncated"], false, "{}", c.label);
        let paths = paths(&list);
        let at = |p: &str| {
            paths
                .iter()
                .position(|x| x == p)
                .unwrap_or_else(|| panic!("{}: {p} not in {paths:?}", c.label))
        };
        // Each folder right after its parent.
        assert_eq!(at("Inbox / Tickets"), at("Inbox") + 1, "{paths:?}");
        assert_eq!(at("Inbox / Tickets / Urgent"), at("Inbox / Tickets") + 1);
        assert_eq!(
            at("Inbox / Tickets / Urgent / Today"),
            at("Inbox / Tickets / Urgent") + 1
        );
        for i in 0..12 {
            at(&format!("Project {i:02}"));
        }
        at("Sent Items");
        let id_of = |p: &str| list["folders"][at(p)]["id"].as_str().unwrap().to_string();
        assert_eq!(id_of("Inbox / Tickets"), tickets);
        assert_eq!(id_of("Inbox / Tickets / Urgent / Today"), deep);

        // The picked id is stored and read from.
        c.edit_settings(|input| input.receiving.folder = tickets.clone())
            .await;
        c.import_everything().await;
        c.stand_in
            .deliver(IncomingMail {
                folder: Some(tickets.clone()),
                ..support::incoming("Filed under Tickets")
            })
            .unwrap();
        c.stand_in
            .deliver(support::incoming("Left in the Inbox"))
            .unwrap();
        let inbox = c.inbox(InboxConfig {
            tick: Duration::from_millis(20),
            ..InboxConfig::default()
        });
        assert_eq!(
            c.sync_round(&inbox).await,
            SyncOutcome::Synced { new: 1, pages: 1 },
            "{}",
            c.label
        );
        let stored = c
            .store()
            .inbox()
            .newest(&c.email_id, None, 10)
            .await
            .unwrap();
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].subject, "Filed under Tickets");
    }
}

#[tokio::test]
async fn a_mailbox_not_connected_gets_a_reason_instead_of_folders() {
    for t in support::all().await {
        let c = Mailbox::start(t, Time::System).await;
        let r = c
            .admin
            .post(format!("{}/api/list_mail_folders", c.base))
            .json(&json!({"tenant_id": c.tenant_id, "email_id": c.email_id}))
            .send()
            .await
            .unwrap();
        let reply = support::Reply::of(r).await;
        assert!(
            reply.status.is_client_error(),
            "{}: {}",
            c.label,
            reply.status
        );
        assert!(
            reply.body.contains("Connect the mailbox first"),
            "{}",
            reply.body
        );
        // Someone else's tenant email: not found, like a missing one.
        let r = c
            .admin
            .post(format!("{}/api/list_mail_folders", c.base))
            .json(&json!({"tenant_id": c.tenant_id, "email_id": "00000000-0000-4000-8000-000000000000"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{}", c.label);
    }
}
