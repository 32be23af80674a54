//! Replies and forwards, on SQLite and PostgreSQL, through the stand-in's
//! Graph: a reply queued through the host API (`reply_to` as the received
//! message's id) is made by `createReply`, so it goes out once in the
//! original's conversation with `In-Reply-To` equal to the original's
//! Message-ID, carrying its importance and `x-` headers; reply all leaves the
//! mailbox itself out; a forward carries the original's files; the Inbox
//! reader's Reply (a server function) queues and audits one; a received reply
//! keeps `In-Reply-To` and `References` (host API, and the reader's link to the
//! message it answers), read only for messages that may answer another; every bad reply, forward, importance or header gets a
//! 422 naming its field; an original deleted from Tenant Mail fails the reply
//! with the reason.
mod support;

use app::model::mail::OutboxState;
use ms_stand_in::fixture::MAILBOX;
use ms_stand_in::{Address, IncomingAttachment, IncomingMail, MessageHeader, SentMail};
use reqwest::StatusCode;
use serde_json::{json, Value};
use server::mail::inbox::sync::InboxConfig;
use server::mail::outbox::worker::OutboxConfig;
use std::time::Duration;

struct Fixture {
    c: support::Mailbox,
    token: String,
    http: reqwest::Client,
}

async fn fixture(t: support::TestDb) -> Fixture {
    let c = support::Mailbox::connected(t, "replies-test-secret~1").await;
    c.import_everything().await;
    let created = c
        .call(
            "create_api_token",
            json!({"tenant_id": c.tenant_id, "name": "helpdesk"}),
        )
        .await;
    let token = created["secret"].as_str().unwrap().to_string();
    Fixture {
        c,
        token,
        http: reqwest::Client::new(),
    }
}

impl Fixture {
    fn label(&self) -> &'static str {
        self.c.t.label
    }

    /// Delivers `mail` to the mailbox and syncs it in; returns its id in Tenant Mail.
    async fn receive(&self, mail: IncomingMail) -> String {
        let subject = mail.subject.clone();
        self.c.stand_in.deliver(mail).unwrap();
        let inbox = self.c.inbox(InboxConfig {
            tick: Duration::from_millis(20),
            lease: chrono::Duration::seconds(30),
            ..InboxConfig::default()
        });
        self.c.sync_round(&inbox).await;
        let (_, body) = self.received().await;
        body["messages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["subject"] == subject.as_str())
            .unwrap_or_else(|| panic!("{}: {subject} was not received", self.label()))["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// The received message with this id, as the host API lists it.
    async fn received_one(&self, id: &str) -> Value {
        let (_, page) = self.received().await;
        page["messages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == id)
            .unwrap_or_else(|| panic!("{}: {id} is not in the received list", self.label()))
            .clone()
    }

    async fn received(&self) -> (StatusCode, Value) {
        let r = self
            .http
            .get(format!(
                "{}/v1/mailboxes/{}/received?limit=100",
                self.c.base, self.c.email_id
            ))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        (r.status(), r.json().await.unwrap())
    }

    async fn post(&self, message: Value) -> (StatusCode, Value) {
        let r = self
            .http
            .post(format!(
                "{}/v1/mailboxes/{}/messages",
                self.c.base, self.c.email_id
            ))
            .bearer_auth(&self.token)
            .json(&message)
            .send()
            .await
            .unwrap();
        (r.status(), r.json().await.unwrap())
    }

    /// Queues through the host API and sends; returns the outbox state.
    async fn send(&self, message: Value) -> (String, OutboxState, Option<String>) {
        let (status, body) = self.post(message).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{}: {body}", self.label());
        let id = body["id"].as_str().unwrap().to_string();
        self.drain(&id).await
    }

    async fn drain(&self, id: &str) -> (String, OutboxState, Option<String>) {
        let worker = self.c.outbox(OutboxConfig {
            backoff_base: Duration::from_millis(20),
            backoff_cap: Duration::from_millis(200),
            idle_poll: Duration::from_millis(20),
            ..OutboxConfig::default()
        });
        for _ in 0..100 {
            worker.run_once().await;
            let m = self.c.outbox_message(id).await;
            if m.state != OutboxState::Queued && m.state != OutboxState::Sending {
                return (id.to_string(), m.state, m.last_error);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("{}: {id} never finished", self.label());
    }

    /// The ledger's entry for what was sent with `subject`: exactly one send.
    fn sent_once(&self, subject: &str) -> SentMail {
        let sent: Vec<SentMail> = self
            .c
            .stand_in
            .ledger()
            .sent
            .into_iter()
            .filter(|s| s.subject == subject)
            .collect();
        assert_eq!(sent.len(), 1, "{}: {subject}: {sent:?}", self.label());
        assert_eq!(sent[0].send_count, 1, "{}: {subject}", self.label());
        sent[0].clone()
    }

    /// The original as the stand-in's mailbox holds it.
    fn original(&self, subject: &str) -> Value {
        self.c
            .stand_in
            .messages(MAILBOX, "inbox")
            .unwrap()
            .into_iter()
            .find(|m| m["subject"] == subject)
            .unwrap_or_else(|| panic!("{}: {subject} is not in the inbox", self.label()))
    }
}

fn header(sent: &SentMail, name: &str) -> Option<String> {
    sent.headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value.clone())
}

fn address(name: &str, address: &str) -> Address {
    Address {
        name: name.into(),
        address: address.into(),
    }
}

#[tokio::test]
async fn a_reply_goes_out_once_in_the_originals_thread_with_its_headers() {
    for t in support::all().await {
        let f = fixture(t).await;
        let ticket = f.receive(support::incoming("Printer on fire")).await;
        let original = f.original("Printer on fire");

        // `reply_to` given as a string is the message replied to.
        let (_, state, error) = f
            .send(json!({
                "reply_to": ticket,
                "text_body": "We are on our way with an extinguisher.",
                "importance": "high",
                "headers": {"X-Ticket-Id": "T-1042", "x-helpdesk": "tenant-mail"},
            }))
            .await;
        assert_eq!(state, OutboxState::Sent, "{}: {error:?}", f.label());
        let sent = f.sent_once("RE: Printer on fire");
        assert_eq!(sent.to, vec!["support@fabrikam.example"], "{}", f.label());
        assert_eq!(
            sent.conversation_id,
            original["conversationId"],
            "{}: in the original's conversation",
            f.label()
        );
        assert_eq!(
            header(&sent, "In-Reply-To").as_deref(),
            original["internetMessageId"].as_str(),
            "{}",
            f.label()
        );
        assert!(header(&sent, "References")
            .unwrap()
            .ends_with(original["internetMessageId"].as_str().unwrap()));
        assert_eq!(header(&sent, "X-Ticket-Id").as_deref(), Some("T-1042"));
        assert_eq!(header(&sent, "x-helpdesk").as_deref(), Some("tenant-mail"));
        assert_eq!(sent.importance, "high", "{}", f.label());
        assert_eq!(sent.body, "We are on our way with an extinguisher.");
        assert_eq!(sent.via, vec!["draft"], "{}: drafted, then sent", f.label());
        // Nothing left in Drafts.
        assert!(f.c.stand_in.messages(MAILBOX, "drafts").unwrap().is_empty());

        // The same through `in_reply_to`, with no body: Graph's quote of the
        // original is the whole message, and the subject can be set.
        let (_, state, _) = f
            .send(json!({"in_reply_to": ticket, "subject": "Fixed: printer"}))
            .await;
        assert_eq!(state, OutboxState::Sent, "{}", f.label());
        let quoted = f.sent_once("Fixed: printer");
        assert!(
            quoted.body.contains("Body of Printer on fire"),
            "{}: {}",
            f.label(),
            quoted.body
        );
    }
}

#[tokio::test]
async fn reply_all_leaves_the_mailbox_out_and_a_forward_carries_the_files() {
    for t in support::all().await {
        let f = fixture(t).await;
        let meeting = f
            .receive(IncomingMail {
                cc: vec![
                    address("Dana", "dana@fabrikam.example"),
                    address("Us", MAILBOX),
                ],
                ..support::incoming("Quarterly review")
            })
            .await;
        let (_, state, _) = f
            .send(json!({"in_reply_to": meeting, "reply_all": true, "text_body": "Tuesday works."}))
            .await;
        assert_eq!(state, OutboxState::Sent, "{}", f.label());
        let sent = f.sent_once("RE: Quarterly review");
        assert_eq!(sent.to, vec!["support@fabrikam.example"], "{}", f.label());
        assert_eq!(
            sent.cc,
            vec!["dana@fabrikam.example"],
            "{}: everyone but the mailbox itself",
            f.label()
        );

        let invoice = f
            .receive(IncomingMail {
                attachments: vec![IncomingAttachment {
                    name: "invoice.pdf".into(),
                    content_type: "application/pdf".into(),
                    content: b"%PDF-1.7 invoice".to_vec(),
                    ..IncomingAttachment::default()
                }],
                ..support::incoming("Invoice 77")
            })
            .await;
        let (_, state, _) = f
            .send(json!({
                "forward_of": invoice,
                "to": ["accounts@contoso.com"],
                "text_body": "For payment.",
            }))
            .await;
        assert_eq!(state, OutboxState::Sent, "{}", f.label());
        let forwarded = f.sent_once("FW: Invoice 77");
        assert_eq!(forwarded.to, vec!["accounts@contoso.com"]);
        assert_eq!(forwarded.attachment_names, vec!["invoice.pdf"]);
        assert_eq!(
            header(&forwarded, "In-Reply-To"),
            None,
            "{}: a forward answers nobody",
            f.label()
        );
    }
}

#[tokio::test]
async fn a_received_reply_keeps_what_it_answers_and_the_admin_can_reply() {
    for t in support::all().await {
        let f = fixture(t).await;
        let first = f
            .receive(IncomingMail {
                internet_message_id: Some("<first@fabrikam.example>".into()),
                ..support::incoming("Broken login")
            })
            .await;
        let answer = f
            .receive(IncomingMail {
                internet_message_id: Some("<second@fabrikam.example>".into()),
                headers: vec![
                    MessageHeader {
                        name: "In-Reply-To".into(),
                        value: "<first@fabrikam.example>".into(),
                    },
                    MessageHeader {
                        name: "References".into(),
                        // Folded over two lines, as long headers are.
                        value: "<root@fabrikam.example>\r\n <first@fabrikam.example>".into(),
                    },
                ],
                ..support::incoming("RE: Broken login")
            })
            .await;
        let stored = f.received_one(&answer).await;
        assert_eq!(stored["in_reply_to"], "<first@fabrikam.example>");
        assert_eq!(
            stored["references"],
            json!(["<root@fabrikam.example>", "<first@fabrikam.example>"]),
            "{}",
            f.label()
        );
        let first_stored = f.received_one(&first).await;
        assert_eq!(first_stored["in_reply_to"], Value::Null);
        assert_eq!(first_stored["references"], json!([]));
        // An answer whose subject was rewritten is still found (Exchange's
        // conversationIndex); a message that starts a thread costs no
        // request for its headers.
        let renamed = f
            .receive(IncomingMail {
                headers: vec![MessageHeader {
                    name: "In-Reply-To".into(),
                    value: "<first@fabrikam.example>".into(),
                }],
                ..support::incoming("Login works again")
            })
            .await;
        let renamed = f.received_one(&renamed).await;
        assert_eq!(renamed["in_reply_to"], "<first@fabrikam.example>");
        let read_alone = |subject: &str| {
            let id = f.original(subject)["id"].as_str().unwrap().to_string();
            f.c.stand_in
                .ledger()
                .graph_requests
                .iter()
                .filter(|r| r.method == "GET" && r.path == format!("/v1.0/me/messages/{id}"))
                .count()
        };
        assert_eq!(
            read_alone("Broken login"),
            0,
            "{}: a first message",
            f.label()
        );
        assert_eq!(read_alone("RE: Broken login"), 1, "{}", f.label());
        assert_eq!(read_alone("Login works again"), 1, "{}", f.label());

        // The reader links the answer to the message it answers.
        let read =
            f.c.call(
                "read_received",
                json!({"tenant_id": f.c.tenant_id, "email_id": f.c.email_id, "message_id": answer}),
            )
            .await;
        assert_eq!(read["in_reply_to"], "<first@fabrikam.example>");
        assert_eq!(read["in_reply_to_message"], json!([first, "Broken login"]));

        // The admin replies from the reader: queued, audited, sent in the thread.
        let queued = f
            .c
            .call(
                "reply_received",
                json!({
                    "tenant_id": f.c.tenant_id, "email_id": f.c.email_id,
                    "message_id": answer, "text": "Reset your password, please.", "reply_all": false,
                }),
            )
            .await;
        // Sent again (an answer lost on the way back): the same message.
        let again = f
            .c
            .call(
                "reply_received",
                json!({
                    "tenant_id": f.c.tenant_id, "email_id": f.c.email_id,
                    "message_id": answer, "text": "Reset your password, please.", "reply_all": false,
                }),
            )
            .await;
        assert_eq!(again["id"], queued["id"], "{}", f.label());
        let (_, state, _) = f.drain(queued["id"].as_str().unwrap()).await;
        assert_eq!(state, OutboxState::Sent, "{}", f.label());
        let sent = f.sent_once("RE: Broken login");
        assert_eq!(
            header(&sent, "In-Reply-To").as_deref(),
            Some("<second@fabrikam.example>")
        );
        assert!(header(&sent, "References")
            .unwrap()
            .starts_with("<root@fabrikam.example>"));
        let filter = app::model::admin::AuditFilter {
            action: "outbox.reply_queued".into(),
            ..Default::default()
        };
        let audit = f.c.store().audit().list(&filter, 10).await.unwrap();
        assert_eq!(audit.entries.len(), 1, "{}", f.label());

        // An empty reply is refused on the field.
        let r =
            f.c.admin
                .post(format!("{}/api/reply_received", f.c.base))
                .json(&json!({
                    "tenant_id": f.c.tenant_id, "email_id": f.c.email_id,
                    "message_id": answer, "text": "  ", "reply_all": false,
                }))
                .send()
                .await
                .unwrap();
        let reply = support::Reply::of(r).await;
        assert!(reply.status.is_client_error(), "{}", f.label());
        assert!(reply.body.contains("Write the reply"), "{}", reply.body);
    }
}

#[tokio::test]
async fn bad_replies_forwards_importance_and_headers_get_a_422_on_their_field() {
    for t in support::all().await {
        let f = fixture(t).await;
        let ticket = f.receive(support::incoming("Question")).await;
        // Another tenant's mailbox and its received message.
        let other = support::mailbox_in(&f.c.p, &f.c.tenant_id, "receive").await;
        let cases: Vec<(Value, &str)> = vec![
            (
                json!({"in_reply_to": "00000000-0000-4000-8000-000000000000", "text_body": "x"}),
                "in_reply_to",
            ),
            (
                json!({"forward_of": "00000000-0000-4000-8000-000000000000", "to": ["a@b.example"]}),
                "forward_of",
            ),
            (
                json!({"in_reply_to": ticket, "forward_of": ticket, "to": ["a@b.example"]}),
                "forward_of",
            ),
            (
                json!({"reply_all": true, "to": ["a@b.example"], "text_body": "x"}),
                "reply_all",
            ),
            (
                json!({"forward_of": ticket, "text_body": "no recipient"}),
                "to",
            ),
            // A Reply-To address given as one string reads as a message id.
            (
                json!({"to": ["a@b.example"], "reply_to": "desk@contoso.com", "text_body": "x"}),
                "in_reply_to",
            ),
            (
                json!({"to": ["a@b.example"], "text_body": "x", "importance": "urgent"}),
                "importance",
            ),
            (
                json!({"to": ["a@b.example"], "text_body": "x", "headers": {"Subject": "hi"}}),
                "headers",
            ),
            (
                json!({"to": ["a@b.example"], "text_body": "x", "headers": {"X-A": "1\r\nBcc: c@d.example"}}),
                "headers",
            ),
            (
                json!({"to": ["a@b.example"], "text_body": "x", "headers": {"X-MS-Exchange-Organization-SCL": "-1"}}),
                "headers",
            ),
            (
                json!({"to": ["a@b.example"], "text_body": "x",
                       "headers": {"X-1": "", "X-2": "", "X-3": "", "X-4": "", "X-5": "", "X-6": ""}}),
                "headers",
            ),
            (
                json!({"to": ["a@b.example"], "text_body": "x", "headers": {"X-A": "1", "x-a": "2"}}),
                "headers",
            ),
        ];
        for (message, field) in cases {
            let (status, body) = f.post(message.clone()).await;
            assert_eq!(
                status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{}: {message}: {body}",
                f.label()
            );
            assert!(
                body["fields"][field].is_string(),
                "{}: {message} → {field}: {body}",
                f.label()
            );
        }
        // `reply_to` as a message id and `in_reply_to` naming another: 400.
        let (status, body) = f
            .post(json!({"reply_to": ticket, "in_reply_to": other, "text_body": "x"}))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{}: {body}", f.label());
        // Still a list of addresses when given as one: Reply-To, no reply.
        let (_, state, _) = f
            .send(json!({"to": ["a@b.example"], "subject": "Plain", "text_body": "x", "reply_to": ["desk@contoso.com"]}))
            .await;
        assert_eq!(state, OutboxState::Sent);
        assert_eq!(f.sent_once("Plain").reply_to, vec!["desk@contoso.com"]);
    }
}

#[tokio::test]
async fn a_message_whose_headers_graph_refuses_is_stored_without_them() {
    for t in support::all().await {
        let f = fixture(t).await;
        f.c.stand_in.add_fault(ms_stand_in::FaultSpec {
            endpoint: "getMessage".into(),
            count: 1,
            fault: ms_stand_in::Fault::Refuse { status: 403 },
        });
        let id = f
            .receive(IncomingMail {
                headers: vec![MessageHeader {
                    name: "In-Reply-To".into(),
                    value: "<x@fabrikam.example>".into(),
                }],
                ..support::incoming("RE: Refused headers")
            })
            .await;
        let stored = f.received_one(&id).await;
        assert_eq!(stored["in_reply_to"], Value::Null, "{}", f.label());
        // The next one is read as usual: the mailbox's mail was not held up.
        let next = f
            .receive(IncomingMail {
                headers: vec![MessageHeader {
                    name: "In-Reply-To".into(),
                    value: "<y@fabrikam.example>".into(),
                }],
                ..support::incoming("RE: Headers again")
            })
            .await;
        let next = f.received_one(&next).await;
        assert_eq!(next["in_reply_to"], "<y@fabrikam.example>", "{}", f.label());
    }
}

#[tokio::test]
async fn a_reply_whose_original_is_gone_fails_with_the_reason() {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    for t in support::all().await {
        let f = fixture(t).await;
        let ticket = f.receive(support::incoming("Short-lived")).await;
        let (status, body) = f
            .post(json!({"in_reply_to": ticket, "text_body": "Too late"}))
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        server::db::entities::inbox_message::Entity::delete_many()
            .filter(server::db::entities::inbox_message::Column::Id.eq(&ticket))
            .exec(&f.c.p.db)
            .await
            .unwrap();
        let (_, state, error) = f.drain(body["id"].as_str().unwrap()).await;
        assert_eq!(state, OutboxState::Failed, "{}", f.label());
        assert!(
            error
                .unwrap_or_default()
                .contains("no longer in Tenant Mail"),
            "{}",
            f.label()
        );
        assert!(f
            .c
            .stand_in
            .ledger()
            .sent
            .iter()
            .all(|s| !s.subject.contains("Short-lived")));
    }
}
