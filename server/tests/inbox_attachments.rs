//! Received attachments on SQLite and PostgreSQL, through the stand-in's
//! Graph and the inbox sync: the list is read without `contentBytes` and each
//! file through `$value`; a large file is written to a blob in 1 MiB chunks
//! and downloaded whole (host API and admin UI) with its exact bytes; a
//! download cut off mid-way stores nothing and leaves no blob, and the next
//! sync stores the message once; a blob left by a sync that died is swept,
//! one an attachment points to is kept; deleting the mailbox removes its blobs;
//! a message whose only part is an inline image (Graph says it has no
//! attachments) keeps it with its Content-ID, and the reader shows it in place
//! while remote images stay blocked and counted.
mod support;

use ms_stand_in::{Fault, FaultSpec, IncomingAttachment, IncomingMail};
use reqwest::StatusCode;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::json;
use server::db::entities::{inbox_attachment, inbox_blob, inbox_blob_chunk, inbox_message};
use server::mail::inbox::sync::{Inbox, InboxConfig, SyncOutcome};
use std::sync::Arc;
use std::time::Duration;

const MIB: usize = 1024 * 1024;

fn inbox(c: &support::Mailbox) -> Arc<Inbox> {
    c.inbox(InboxConfig {
        tick: Duration::from_millis(20),
        lease: chrono::Duration::seconds(30),
        ..InboxConfig::default()
    })
}

/// Bytes that differ at every position, so a chunk out of order or repeated shows.
fn file_bytes(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[1] ^ seed)
        .collect()
}

fn file(name: &str, content_type: &str, content: Vec<u8>, is_inline: bool) -> IncomingAttachment {
    IncomingAttachment {
        name: name.into(),
        content_type: content_type.into(),
        content,
        is_inline,
        content_id: None,
        is_item: false,
    }
}

fn with_files(subject: &str, attachments: Vec<IncomingAttachment>) -> IncomingMail {
    IncomingMail {
        attachments,
        ..support::incoming(subject)
    }
}

async fn message_with(c: &support::Mailbox, subject: &str) -> inbox_message::Model {
    inbox_message::Entity::find()
        .filter(inbox_message::Column::TenantEmailId.eq(&c.email_id))
        .filter(inbox_message::Column::Subject.eq(subject))
        .one(&c.p.db)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{}: {subject} is not stored", c.t.label))
}

async fn attachments_of(c: &support::Mailbox, message_id: &str) -> Vec<inbox_attachment::Model> {
    let mut rows = inbox_attachment::Entity::find()
        .filter(inbox_attachment::Column::MessageId.eq(message_id))
        .all(&c.p.db)
        .await
        .unwrap();
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    rows
}

async fn blob_count(c: &support::Mailbox) -> u64 {
    inbox_blob::Entity::find()
        .filter(inbox_blob::Column::TenantEmailId.eq(&c.email_id))
        .count(&c.p.db)
        .await
        .unwrap()
}

async fn chunk_count(c: &support::Mailbox, blob_id: &str) -> u64 {
    inbox_blob_chunk::Entity::find()
        .filter(inbox_blob_chunk::Column::BlobId.eq(blob_id))
        .count(&c.p.db)
        .await
        .unwrap()
}

fn graph_paths(c: &support::Mailbox) -> Vec<String> {
    c.stand_in
        .ledger()
        .graph_requests
        .iter()
        .filter(|r| r.method == "GET" && r.path.contains("/attachments"))
        .map(|r| r.path.clone())
        .collect()
}

#[tokio::test]
async fn a_large_file_is_stored_in_chunks_and_downloaded_whole() {
    for t in support::all().await {
        let c = support::Mailbox::connected(t, "inbox-files-secret~1").await;
        let i = inbox(&c);
        c.sync_round(&i).await;
        let large = file_bytes(5 * MIB + 12_345, 3);
        let logo = file_bytes(2_000, 9);
        c.stand_in
            .deliver(with_files(
                "Scans",
                vec![
                    file("scan.pdf", "application/pdf", large.clone(), false),
                    file("logo.png", "image/png", logo.clone(), true),
                ],
            ))
            .unwrap();
        assert!(matches!(
            c.sync_round(&i).await,
            SyncOutcome::Synced { new: 1, .. }
        ));
        let message = message_with(&c, "Scans").await;
        let rows = attachments_of(&c, &message.id).await;
        let (logo_row, scan_row) = (&rows[0], &rows[1]);
        // The small file stays in its row; the large one is in six chunks.
        assert_eq!(
            logo_row.content.as_deref(),
            Some(logo.as_slice()),
            "{}",
            c.t.label
        );
        assert!(logo_row.blob_id.is_none() && logo_row.is_inline);
        assert!(scan_row.content.is_none(), "{}", c.t.label);
        assert_eq!(scan_row.size, large.len() as i64);
        let blob = scan_row.blob_id.clone().expect("a blob");
        assert_eq!(chunk_count(&c, &blob).await, 6, "{}", c.t.label);

        // Graph was asked for the list without contents, then each file by `$value`.
        let paths = graph_paths(&c);
        assert_eq!(
            paths.iter().filter(|p| p.ends_with("/attachments")).count(),
            1,
            "{paths:?}"
        );
        assert_eq!(
            paths.iter().filter(|p| p.ends_with("/$value")).count(),
            2,
            "{paths:?}"
        );

        // The host API streams it back whole, with its length.
        let created = c
            .call(
                "create_api_token",
                json!({"tenant_id": c.tenant_id, "name": "files"}),
            )
            .await;
        let token = created["secret"].as_str().unwrap().to_string();
        let http = reqwest::Client::new();
        for (row, expected, kind) in [
            (scan_row, &large, "application/pdf"),
            (logo_row, &logo, "image/png"),
        ] {
            let r = http
                .get(format!(
                    "{}/v1/received/{}/attachments/{}",
                    c.base, message.id, row.id
                ))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK, "{}", c.t.label);
            assert_eq!(r.headers()["content-type"], kind);
            assert_eq!(
                r.headers()["content-length"],
                expected.len().to_string().as_str()
            );
            assert_eq!(r.headers()["x-content-type-options"], "nosniff");
            let body = r.bytes().await.unwrap();
            assert!(
                body.as_ref() == expected.as_slice(),
                "{}: {} bytes differ",
                c.t.label,
                row.name
            );
        }
        // And so does the admin UI's download.
        let r = c
            .admin
            .get(format!(
                "{}/admin/tenants/{}/emails/{}/inbox/{}/attachments/{}",
                c.base, c.tenant_id, c.email_id, message.id, scan_row.id
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{}", c.t.label);
        assert!(r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("scan.pdf"));
        assert!(r.bytes().await.unwrap().as_ref() == large.as_slice());

        // A sync that runs again keeps the blob (an attachment points to it).
        c.sync_round(&i).await;
        assert_eq!(blob_count(&c).await, 1, "{}", c.t.label);
    }
}

#[tokio::test]
async fn a_download_cut_off_midway_stores_nothing_and_the_next_sync_stores_it_once() {
    for t in support::all().await {
        let c = support::Mailbox::connected(t, "inbox-files-secret~2").await;
        let i = inbox(&c);
        c.sync_round(&i).await;
        let large = file_bytes(3 * MIB + 7, 5);
        c.stand_in
            .deliver(with_files(
                "Cut off",
                vec![file(
                    "big.bin",
                    "application/octet-stream",
                    large.clone(),
                    false,
                )],
            ))
            .unwrap();
        // The list passes; the file's answer stops after 2.5 MiB (two chunks written).
        c.stand_in.add_fault(FaultSpec {
            endpoint: "attachments".into(),
            count: 1,
            fault: Fault::Delay { millis: 0 },
        });
        c.stand_in.add_fault(FaultSpec {
            endpoint: "attachments".into(),
            count: 1,
            fault: Fault::CutBody {
                after_bytes: 5 * MIB / 2,
            },
        });
        let first = i.sync_mailbox(&c.email_id).await;
        match &first {
            SyncOutcome::Failed(why) => assert!(
                why.contains("big.bin") && why.contains("could not be read"),
                "{}: {why}",
                c.t.label
            ),
            other => panic!("{}: {other:?}", c.t.label),
        }
        assert_eq!(
            inbox_message::Entity::find()
                .filter(inbox_message::Column::TenantEmailId.eq(&c.email_id))
                .count(&c.p.db)
                .await
                .unwrap(),
            0,
            "{}: nothing stored",
            c.t.label
        );
        assert_eq!(
            blob_count(&c).await,
            0,
            "{}: the half-written blob is gone",
            c.t.label
        );

        assert!(matches!(
            c.sync_round(&i).await,
            SyncOutcome::Synced { new: 1, .. }
        ));
        let message = message_with(&c, "Cut off").await;
        let rows = attachments_of(&c, &message.id).await;
        let blob = rows[0].blob_id.clone().unwrap();
        assert_eq!(chunk_count(&c, &blob).await, 4, "{}", c.t.label);
        let mut joined = Vec::new();
        for seq in 0..4 {
            joined.extend(
                c.p.store
                    .inbox()
                    .blob_chunk(&blob, seq)
                    .await
                    .unwrap()
                    .unwrap(),
            );
        }
        assert!(joined == large, "{}: the stored file differs", c.t.label);
        assert_eq!(blob_count(&c).await, 1);
    }
}

#[tokio::test]
async fn blobs_left_by_a_dead_sync_are_swept_and_go_with_their_mailbox() {
    for t in support::all().await {
        let c = support::Mailbox::connected(t, "inbox-files-secret~3").await;
        let i = inbox(&c);
        c.stand_in
            .deliver(with_files(
                "Kept",
                vec![file(
                    "kept.bin",
                    "application/octet-stream",
                    file_bytes(MIB + 1, 1),
                    false,
                )],
            ))
            .unwrap();
        c.sync_round(&i).await;
        let kept = attachments_of(&c, &message_with(&c, "Kept").await.id).await[0]
            .blob_id
            .clone()
            .unwrap();
        // What a sync killed mid-download leaves: a blob with a chunk and no attachment.
        let store = c.p.store.inbox();
        let old = support::now() - chrono::Duration::hours(1);
        for (id, created_at) in [
            ("left-by-a-dead-sync", old),
            ("still-being-written", support::now()),
        ] {
            inbox_blob::ActiveModel {
                id: Set(id.into()),
                tenant_email_id: Set(c.email_id.clone()),
                created_at: Set(created_at),
            }
            .insert(&c.p.db)
            .await
            .unwrap();
            store.blob_append(id, 0, vec![1; 100]).await.unwrap();
        }
        // The kept blob is older than the lease too: only what nothing points to goes.
        inbox_blob::Entity::update_many()
            .col_expr(
                inbox_blob::Column::CreatedAt,
                sea_orm::sea_query::Expr::value(old),
            )
            .filter(inbox_blob::Column::Id.eq(&kept))
            .exec(&c.p.db)
            .await
            .unwrap();
        c.sync_round(&i).await;
        let left: Vec<String> = inbox_blob::Entity::find()
            .filter(inbox_blob::Column::TenantEmailId.eq(&c.email_id))
            .all(&c.p.db)
            .await
            .unwrap()
            .into_iter()
            .map(|b| b.id)
            .collect();
        let mut left = left;
        left.sort();
        let mut expected = vec![kept.clone(), "still-being-written".to_string()];
        expected.sort();
        assert_eq!(left, expected, "{}", c.t.label);
        assert_eq!(
            chunk_count(&c, "left-by-a-dead-sync").await,
            0,
            "{}",
            c.t.label
        );
        // A chunk for a blob swept away is refused, not kept without an owner.
        assert!(store
            .blob_append("left-by-a-dead-sync", 1, vec![2; 10])
            .await
            .is_err());

        // Deleting the mailbox deletes its blobs and their chunks.
        c.p.backend
            .delete_tenant_email(&support::actor(), &c.tenant_id, &c.email_id)
            .await
            .unwrap();
        assert_eq!(blob_count(&c).await, 0, "{}", c.t.label);
        assert_eq!(chunk_count(&c, &kept).await, 0, "{}", c.t.label);
    }
}

#[tokio::test]
async fn a_pasted_screenshot_is_kept_and_shown_in_place() {
    use base64::Engine as _;
    for t in support::all().await {
        let c = support::Mailbox::connected(t, "inbox-files-secret~4").await;
        let i = inbox(&c);
        c.sync_round(&i).await;
        let screenshot = file_bytes(40_000, 7);
        c.stand_in
            .deliver(IncomingMail {
                content_type: Some("html".into()),
                body: concat!(
                    r#"<p>See the error:</p><img src="cid:image001.png@01DA5E2F.C0FFEE00">"#,
                    r#"<img src="https://tracker.example/open.gif"><img src="cid:gone@x">"#,
                )
                .into(),
                attachments: vec![IncomingAttachment {
                    content_id: Some("<image001.png@01DA5E2F.C0FFEE00>".into()),
                    ..file("image001.png", "image/png", screenshot.clone(), true)
                }],
                ..support::incoming("Pasted screenshot")
            })
            .unwrap();
        assert!(matches!(
            c.sync_round(&i).await,
            SyncOutcome::Synced { new: 1, .. }
        ));
        let message = message_with(&c, "Pasted screenshot").await;
        let rows = attachments_of(&c, &message.id).await;
        assert_eq!(rows.len(), 1, "{}: the inline image is kept", c.t.label);
        assert_eq!(
            rows[0].content_id.as_deref(),
            Some("image001.png@01DA5E2F.C0FFEE00"),
            "{}",
            c.t.label
        );
        assert!(rows[0].is_inline);

        let read = c
            .call(
                "read_received",
                json!({"tenant_id": c.tenant_id, "email_id": c.email_id, "message_id": message.id}),
            )
            .await;
        let html = read["safe_html"].as_str().unwrap();
        let expected = format!(
            "data:image/png;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(&screenshot)
        );
        assert!(
            html.contains(&expected),
            "{}: the image is in place",
            c.t.label
        );
        assert!(
            !html.contains("cid:") && !html.contains("tracker.example"),
            "{}",
            c.t.label
        );
        assert_eq!(read["remote_images"], 1, "{}", c.t.label);

        // The host API names the part by its Content-ID.
        let created = c
            .call(
                "create_api_token",
                json!({"tenant_id": c.tenant_id, "name": "inline"}),
            )
            .await;
        let token = created["secret"].as_str().unwrap().to_string();
        let feed: serde_json::Value = reqwest::Client::new()
            .get(format!("{}/v1/mailboxes/{}/received", c.base, c.email_id))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let part = feed["messages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["subject"] == "Pasted screenshot")
            .map(|m| m["attachments"][0].clone())
            .unwrap();
        assert_eq!(part["content_id"], "image001.png@01DA5E2F.C0FFEE00");
        assert_eq!(part["is_inline"], true);
    }
}

#[tokio::test]
async fn a_forwarded_message_attached_as_an_item_is_kept_as_eml() {
    for t in support::all().await {
        let c = support::Mailbox::connected(t, "inbox-files-secret~5").await;
        let i = inbox(&c);
        c.sync_round(&i).await;
        let mime =
            b"From: Alice <alice@fabrikam.example>\r\nSubject: Quote 17\r\n\r\nThe quote.\r\n"
                .to_vec();
        c.stand_in
            .deliver(with_files(
                "Fwd: Quote 17",
                vec![IncomingAttachment {
                    is_item: true,
                    ..file("Quote 17", "", mime.clone(), false)
                }],
            ))
            .unwrap();
        c.sync_round(&i).await;
        let message = message_with(&c, "Fwd: Quote 17").await;
        let rows = attachments_of(&c, &message.id).await;
        assert_eq!(rows[0].name, "Quote 17.eml", "{}", c.t.label);
        assert_eq!(rows[0].content_type, "message/rfc822");
        assert_eq!(
            rows[0].content.as_deref(),
            Some(mime.as_slice()),
            "{}",
            c.t.label
        );
        let r = c
            .admin
            .get(format!(
                "{}/admin/tenants/{}/emails/{}/inbox/{}/attachments/{}",
                c.base, c.tenant_id, c.email_id, message.id, rows[0].id
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{}", c.t.label);
        assert_eq!(r.headers()["content-type"], "message/rfc822");
        assert!(r.bytes().await.unwrap().as_ref() == mime.as_slice());
    }
}
