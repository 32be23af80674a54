//! The Graph mail client against the loopback stand-in: draft then send, lookups, throttling,
//! dropped connections, refusals and upload sessions.

mod support;

use std::time::Duration;

use app::model::mail::OutgoingMessage;
use ms_stand_in::fixture::{CLIENT, MAILBOX};
use ms_stand_in::{Clock, Fault, FaultSpec, StandIn, StandInConfig};
use serde_json::Value;
use server::clock::SystemClock;
use server::identity::graph_target::GraphTarget;
use server::identity::AccessToken;
use server::mail::graph::{DraftState, GraphClient, GraphError, PreparedAttachment};
use std::sync::Arc;

const MIB: usize = 1024 * 1024;

struct Env {
    stand_in: StandIn,
    graph: GraphClient,
    token: AccessToken,
}

/// A bearer token for the Graph at `base`, the signed-in account's mailbox.
fn bearer(token: &str, base: &str) -> AccessToken {
    AccessToken {
        token: token.into(),
        expires_at: support::now() + chrono::Duration::hours(1),
        graph: GraphTarget::me(base).unwrap(),
    }
}

async fn env() -> Env {
    let stand_in = StandIn::start(StandInConfig {
        clock: Clock::system(),
        ..Default::default()
    })
    .await
    .unwrap();
    ms_stand_in::fixture::seed_contoso(stand_in.control(), "http://127.0.0.1:3000/cb").unwrap();
    let token = bearer(
        &stand_in.issue_access_token(MAILBOX, CLIENT).unwrap(),
        &stand_in.graph_base(),
    );
    let graph = GraphClient::new(Arc::new(SystemClock)).unwrap();
    Env {
        stand_in,
        graph,
        token,
    }
}

impl Env {
    fn fault(&self, endpoint: &str, fault: Fault) {
        self.stand_in.add_fault(FaultSpec {
            endpoint: endpoint.into(),
            count: 1,
            fault,
        });
    }

    async fn draft(&self, attachments: &[PreparedAttachment]) -> String {
        self.graph
            .create_draft(
                &self.token,
                &message("Invoice 42"),
                attachments,
                "tag-42",
                None,
            )
            .await
            .unwrap()
    }

    async fn state(&self, id: &str) -> DraftState {
        self.graph.draft_state(&self.token, id).await.unwrap()
    }

    fn folder(&self, folder: &str) -> Vec<Value> {
        self.stand_in.messages(MAILBOX, folder).unwrap()
    }

    /// (method, path, status) of the Graph requests whose path contains `part`.
    fn requests(&self, part: &str) -> Vec<(String, String, u16)> {
        self.stand_in
            .ledger()
            .graph_requests
            .into_iter()
            .filter(|r| r.path.contains(part))
            .map(|r| (r.method, r.path, r.status))
            .collect()
    }
}

fn message(subject: &str) -> OutgoingMessage {
    OutgoingMessage {
        to: vec!["customer@example.org".into()],
        cc: vec!["copy@example.org".into()],
        subject: subject.into(),
        text_body: Some("Please find the invoice attached.".into()),
        ..OutgoingMessage::default()
    }
}

fn attachment(name: &str, size: usize) -> PreparedAttachment {
    PreparedAttachment {
        name: name.into(),
        content_type: "application/pdf".into(),
        bytes: (0..size).map(|i| (i % 251) as u8).collect(),
    }
}

#[tokio::test]
async fn draft_then_send_is_one_mail_and_the_immutable_id_follows_it() {
    let e = env().await;
    let id = e.draft(&[]).await;
    assert_eq!(e.state(&id).await, DraftState::Draft);
    e.graph.send_draft(&e.token, &id).await.unwrap();
    assert_eq!(e.state(&id).await, DraftState::Sent);

    let ledger = e.stand_in.ledger();
    assert_eq!(ledger.sent.len(), 1);
    assert_eq!(ledger.sent[0].send_count, 1);
    assert_eq!(ledger.sent[0].via, ["draft"]);
    assert_eq!(ledger.sent[0].cc, ["copy@example.org"]);
    // Prefer: IdType="ImmutableId" was honoured: the id we kept is the Sent Items copy's id.
    assert_eq!(e.folder("sentitems")[0]["id"], id.as_str());
    assert!(e.folder("drafts").is_empty());
}

#[tokio::test]
async fn a_draft_is_found_by_its_outbox_tag_and_can_be_deleted() {
    let e = env().await;
    let tagged = e.draft(&[]).await;
    let other = e
        .graph
        .create_draft(&e.token, &message("Other"), &[], "tag-7", None)
        .await
        .unwrap();
    assert_eq!(
        e.graph.tagged_drafts(&e.token, "tag-42").await.unwrap(),
        std::slice::from_ref(&tagged)
    );
    assert!(e
        .graph
        .tagged_drafts(&e.token, "tag-0")
        .await
        .unwrap()
        .is_empty());
    // A quote in a tag is escaped, not a way out of the filter.
    assert!(e
        .graph
        .tagged_drafts(&e.token, "x' or 'a' eq 'a")
        .await
        .unwrap()
        .is_empty());
    e.graph.discard(&e.token, &tagged).await;
    assert!(e
        .graph
        .tagged_drafts(&e.token, "tag-42")
        .await
        .unwrap()
        .is_empty());
    // Deleted as Outlook deletes a draft: out of Drafts (into Deleted Items).
    let drafts: Vec<_> = e
        .folder("drafts")
        .iter()
        .map(|m| m["subject"].clone())
        .collect();
    assert_eq!(drafts, ["Other"]);
    assert_eq!(e.state(&other).await, DraftState::Draft);
}

#[tokio::test]
async fn unknown_message_is_missing() {
    let e = env().await;
    assert_eq!(e.state("AAMkADnothinghere=").await, DraftState::Missing);
}

#[tokio::test]
async fn throttled_create_is_busy_with_the_decimal_retry_after() {
    let e = env().await;
    e.fault(
        "createMessage",
        Fault::TooManyRequests {
            retry_after: "2.5".into(),
        },
    );
    let err = e
        .graph
        .create_draft(&e.token, &message("x"), &[], "tag", None)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, GraphError::Busy { status: 429, code, .. } if code == "TooManyRequests"),
        "{err:?}"
    );
    assert_eq!(err.retry_after(), Some(Duration::from_millis(2500)));
    assert!(e.folder("drafts").is_empty());
}

#[tokio::test]
async fn unavailable_send_is_busy_and_the_draft_stays_a_draft() {
    let e = env().await;
    let id = e.draft(&[]).await;
    e.fault("sendDraft", Fault::ServiceUnavailable { retry_after: None });
    let err = e.graph.send_draft(&e.token, &id).await.unwrap_err();
    assert!(
        matches!(
            err,
            GraphError::Busy {
                status: 503,
                retry_after: None,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(e.state(&id).await, DraftState::Draft);
    e.graph.send_draft(&e.token, &id).await.unwrap();
    assert_eq!(e.stand_in.ledger().sent[0].send_count, 1);
}

#[tokio::test]
async fn connection_dropped_after_sending_is_ambiguous_and_the_lookup_says_sent() {
    let e = env().await;
    let id = e.draft(&[]).await;
    e.fault("sendDraft", Fault::DropAfterBody);
    let err = e.graph.send_draft(&e.token, &id).await.unwrap_err();
    eprintln!("drop_after_body: {err:?}");
    assert!(matches!(err, GraphError::Ambiguous(_)), "{err:?}");
    assert_eq!(e.stand_in.ledger().sent[0].send_count, 1, "it was sent");
    assert_eq!(e.state(&id).await, DraftState::Sent);
}

/// The stand-in closes the connection after reading the request head but before answering.
/// reqwest has by then written the whole (small) request, so it cannot tell this from a drop
/// after processing: Ambiguous, and the lookup finds the draft unsent.
#[tokio::test]
async fn connection_dropped_before_processing_is_ambiguous_and_the_lookup_says_draft() {
    let e = env().await;
    let id = e.draft(&[]).await;
    e.fault("sendDraft", Fault::DropBeforeBody);
    let err = e.graph.send_draft(&e.token, &id).await.unwrap_err();
    eprintln!("drop_before_body: {err:?}");
    assert!(matches!(err, GraphError::Ambiguous(_)), "{err:?}");
    assert!(e.stand_in.ledger().sent.is_empty());
    assert_eq!(e.state(&id).await, DraftState::Draft);
    e.graph.send_draft(&e.token, &id).await.unwrap();
    assert_eq!(e.stand_in.ledger().sent[0].send_count, 1);
}

/// A drop while a large draft is still being written surfaces as a write error or reset rather
/// than "closed before message completed"; it is still Ambiguous, never Unreachable.
#[tokio::test]
async fn connection_dropped_during_a_large_create_is_ambiguous() {
    let e = env().await;
    e.fault("createMessage", Fault::DropBeforeBody);
    let err = e
        .graph
        .create_draft(
            &e.token,
            &message("x"),
            &[attachment("a.pdf", 2 * MIB)],
            "tag",
            None,
        )
        .await
        .unwrap_err();
    eprintln!("drop_before_body on a 2.7 MB create: {err:?}");
    assert!(matches!(err, GraphError::Ambiguous(_)), "{err:?}");
    assert!(e.folder("drafts").is_empty());
}

#[tokio::test]
async fn nothing_listening_is_unreachable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let graph = GraphClient::new(Arc::new(SystemClock)).unwrap();
    let nowhere = bearer("token", &format!("http://127.0.0.1:{port}/v1.0"));
    let err = graph.draft_state(&nowhere, "id").await.unwrap_err();
    eprintln!("refused: {err:?}");
    assert!(matches!(err, GraphError::Unreachable(_)), "{err:?}");
}

#[tokio::test]
async fn invalid_recipient_is_rejected_with_graphs_error() {
    let e = env().await;
    let mut m = message("x");
    m.to = vec!["not-an-address".into()];
    let err = e
        .graph
        .create_draft(&e.token, &m, &[], "tag", None)
        .await
        .unwrap_err();
    let GraphError::Rejected {
        status,
        code,
        message,
        request_id,
    } = &err
    else {
        panic!("{err:?}");
    };
    assert_eq!(*status, 400);
    assert_eq!(code, "ErrorInvalidRecipients");
    assert!(message.contains("not-an-address"), "{message}");
    assert!(request_id.is_some());
    assert!(
        err.describe()
            .starts_with("Graph refused the message (400 ErrorInvalidRecipients): "),
        "{}",
        err.describe()
    );
}

#[tokio::test]
async fn large_attachment_goes_through_an_upload_session_in_chunks() {
    let e = env().await;
    let big = attachment("scan.pdf", 5 * MIB);
    let small = attachment("note.txt", 1000);
    let id = e.draft(&[big, small]).await;

    let sessions = e.requests("createUploadSession");
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].2, 201);
    let chunks: Vec<u16> = e
        .requests("/upload/")
        .into_iter()
        .map(|(method, _, status)| {
            assert_eq!(method, "PUT");
            status
        })
        .collect();
    assert_eq!(chunks, [200, 201], "two chunks of at most 4 MB");

    e.graph.send_draft(&e.token, &id).await.unwrap();
    let sent = &e.stand_in.ledger().sent[0];
    let mut names = sent.attachment_names.clone();
    names.sort();
    assert_eq!(names, ["note.txt", "scan.pdf"]);
    let listed: Value = reqwest::Client::new()
        .get(format!(
            "{}/me/messages/{id}/attachments",
            e.stand_in.graph_base()
        ))
        .bearer_auth(&e.token.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sizes: Vec<u64> = listed["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["size"].as_u64().unwrap())
        .collect();
    assert!(sizes.contains(&(5 * MIB as u64)), "{listed}");
}

#[tokio::test]
async fn small_attachments_that_overflow_the_draft_are_added_separately() {
    let e = env().await;
    let id = e
        .draft(&[attachment("a.pdf", 2 * MIB), attachment("b.pdf", 2 * MIB)])
        .await;
    let added: Vec<(String, u16)> = e
        .requests("/attachments")
        .into_iter()
        .map(|(method, _, status)| (method, status))
        .collect();
    assert_eq!(added, [("POST".to_owned(), 201)]);
    e.graph.send_draft(&e.token, &id).await.unwrap();
    assert_eq!(e.stand_in.ledger().sent[0].attachment_names.len(), 2);
}

#[tokio::test]
async fn a_failed_upload_discards_the_draft() {
    let e = env().await;
    e.fault(
        "uploadChunk",
        Fault::ServiceUnavailable {
            retry_after: Some("3".into()),
        },
    );
    let err = e
        .graph
        .create_draft(
            &e.token,
            &message("x"),
            &[attachment("scan.pdf", 4 * MIB)],
            "tag",
            None,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, GraphError::Busy { status: 503, .. }),
        "{err:?}"
    );
    assert_eq!(err.retry_after(), Some(Duration::from_secs(3)));
    assert!(e.folder("drafts").is_empty(), "no half-built draft left");
}

#[tokio::test]
async fn garbage_and_expired_tokens_are_unauthorized() {
    let e = env().await;
    let garbage = "EwA.garbage-token-value";
    let err = e
        .graph
        .create_draft(
            &bearer(garbage, &e.stand_in.graph_base()),
            &message("x"),
            &[],
            "tag",
            None,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, GraphError::Unauthorized { code, .. } if code == "InvalidAuthenticationToken"),
        "{err:?}"
    );
    assert!(!err.describe().contains(garbage));

    let id = e.draft(&[]).await;
    e.stand_in.expire_access_tokens(MAILBOX).unwrap();
    let err = e.graph.draft_state(&e.token, &id).await.unwrap_err();
    let GraphError::Unauthorized { message, .. } = &err else {
        panic!("{err:?}");
    };
    assert!(message.contains("expired"), "{message}");
    assert!(!err.describe().contains(&e.token.token));
}
