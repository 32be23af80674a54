//! Alerts on SQLite and PostgreSQL: a mailbox that breaks raises exactly one
//! alert per destination (a signed webhook, a mail through the outbox) and
//! one recovery; decided alerts survive a crash between decision and
//! delivery and are delivered once; a failed webhook is retried with the same
//! delivery id; the Alerts API refuses bad input with field messages; the
//! banner shows on admin pages while something needs attention.
mod support;

use app::model::admin::AuditFilter;
use app::model::alerts::NewDestinationInput;
use app::model::ConnectionStatus;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, Mac};
use server::alerts::{AlertConfig, AlertEngine};
use server::db::Store;
use sha2::Sha256;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

/// A webhook receiver: records what it got, answers with `status`.
#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<(HeaderMap, String)>>>,
    status: Arc<AtomicU16>,
}

impl Receiver {
    async fn start() -> (Receiver, String) {
        let r = Receiver::default();
        r.status.store(200, Ordering::SeqCst);
        let app = axum::Router::new()
            .route(
                "/hook",
                axum::routing::post(
                    |State(r): State<Receiver>, headers: HeaderMap, body: String| async move {
                        r.got.lock().unwrap().push((headers, body));
                        StatusCode::from_u16(r.status.load(Ordering::SeqCst)).unwrap()
                    },
                ),
            )
            .with_state(r.clone());
        let base = support::serve(app).await;
        (r, format!("{base}/hook"))
    }

    fn bodies(&self) -> Vec<serde_json::Value> {
        self.got
            .lock()
            .unwrap()
            .iter()
            .map(|(_, b)| serde_json::from_str(b).unwrap())
            .collect()
    }

    fn delivery_ids(&self) -> Vec<String> {
        self.got
            .lock()
            .unwrap()
            .iter()
            .map(|(h, _)| h["tenant-mail-delivery"].to_str().unwrap().to_string())
            .collect()
    }

    /// Every request's signature checks out with `secret`, the way a
    /// receiver following the README would check it.
    fn verify_all(&self, secret: &str) {
        for (headers, body) in self.got.lock().unwrap().iter() {
            let sig = headers["tenant-mail-signature"].to_str().unwrap();
            let (t, v1) = sig
                .strip_prefix("t=")
                .and_then(|s| s.split_once(",v1="))
                .unwrap();
            let expected: Vec<u8> = (0..v1.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&v1[i..i + 2], 16).unwrap())
                .collect();
            let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
            mac.update(format!("{t}.{body}").as_bytes());
            mac.verify_slice(&expected).expect("signature verifies");
            let mut wrong = Hmac::<Sha256>::new_from_slice(b"whsec_not-it").unwrap();
            wrong.update(format!("{t}.{body}").as_bytes());
            assert!(wrong.verify_slice(&expected).is_err());
        }
    }
}

fn engine(store: &Store) -> AlertEngine {
    AlertEngine::new(
        store.clone(),
        AlertConfig::new("http://localhost:3000", 15),
        Arc::new(Notify::new()),
        Arc::new(Notify::new()),
    )
    .unwrap()
}

fn webhook(url: &str) -> NewDestinationInput {
    NewDestinationInput {
        kind: "webhook".into(),
        name: "Pager".into(),
        addresses: String::new(),
        sender_email_id: String::new(),
        url: url.into(),
    }
}

fn email(sender: &str) -> NewDestinationInput {
    NewDestinationInput {
        kind: "email".into(),
        name: "On call".into(),
        addresses: "oncall@contoso.com, boss@contoso.com".into(),
        sender_email_id: sender.into(),
        url: String::new(),
    }
}

/// Alert mails queued in `sender`'s outbox, by subject.
async fn alert_mails(store: &Store, sender: &str) -> Vec<String> {
    store
        .outbox()
        .list(sender, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.subject)
        .collect()
}

async fn audited(store: &Store, action: &str) -> usize {
    let filter = AuditFilter {
        action: action.into(),
        ..AuditFilter::default()
    };
    store
        .audit()
        .list(&filter, 100)
        .await
        .unwrap()
        .entries
        .len()
}

async fn break_connection(store: &Store, email_id: &str) {
    store
        .connections()
        .record_problem(
            email_id,
            Some(ConnectionStatus::NeedsReauth),
            Some("Microsoft says the sign-in has expired or was revoked (AADSTS70008)."),
            None,
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn a_broken_mailbox_alerts_each_destination_once_then_recovers_once() {
    for t in support::all().await {
        let label = t.label;
        let p = support::prepare(&t).await;
        let actor = support::actor();
        let (tenant, broken) = support::tenant_with_mailbox(&p, "send_receive").await;
        let sender = support::mailbox_in(&p, &tenant, "send").await;
        let (receiver, url) = Receiver::start().await;
        let hook = p
            .backend
            .create_alert_destination(&actor, &webhook(&url))
            .await
            .unwrap();
        let secret = hook.signing_secret.clone().unwrap();
        assert!(secret.starts_with("whsec_") && secret.len() > 40, "{label}");
        p.backend
            .create_alert_destination(&actor, &email(&sender))
            .await
            .unwrap();
        let alerts = engine(&p.store);

        // Everything fine: nothing is sent.
        alerts.round().await;
        assert!(receiver.bodies().is_empty(), "{label}");
        assert!(alert_mails(&p.store, &sender).await.is_empty(), "{label}");

        break_connection(&p.store, &broken).await;
        for _ in 0..3 {
            alerts.round().await;
        }
        let bodies = receiver.bodies();
        assert_eq!(
            bodies.len(),
            1,
            "{label}: one webhook call, not one per round"
        );
        let alert = &bodies[0]["alerts"][0];
        assert_eq!(bodies[0]["alerts"].as_array().unwrap().len(), 1, "{label}");
        assert_eq!(alert["kind"], "raised", "{label}");
        assert_eq!(alert["condition"], "connection", "{label}");
        assert_eq!(alert["level"], "needs_reauth", "{label}");
        assert!(alert["title"]
            .as_str()
            .unwrap()
            .ends_with("needs re-authentication"));
        // No connection row in this test: the status says it (the AADSTS
        // explanation is carried when there is one; see the unit tests).
        assert!(alert["detail"]
            .as_str()
            .unwrap()
            .contains("re-authentication"));
        assert!(alert["fix"].as_str().unwrap().contains("RE Authenticate"));
        assert_eq!(
            alert["link"],
            format!("http://localhost:3000/admin/tenants/{tenant}/emails/{broken}"),
            "{label}"
        );
        assert_eq!(bodies[0]["delivery_id"], receiver.delivery_ids()[0]);
        receiver.verify_all(&secret);
        let mails = alert_mails(&p.store, &sender).await;
        assert_eq!(mails.len(), 1, "{label}: {mails:?}");
        assert!(mails[0].starts_with("[Tenant Mail] ") && mails[0].contains("re-authentication"));
        // The banner's source says the same.
        let attention = p.backend.attention().await.unwrap();
        assert_eq!(attention.len(), 1, "{label}");
        assert_eq!(attention[0].tenant_email_id, broken);
        // Tenant Management shows it on the tenant's row.
        let tenants = p.backend.list_tenants().await.unwrap();
        let row = tenants.iter().find(|t| t.id == tenant).unwrap();
        assert_eq!(row.problems, 1, "{label}");
        assert!(row
            .attention
            .as_deref()
            .unwrap()
            .ends_with("needs re-authentication"));

        // Fixed: exactly one recovery, then silence.
        p.store
            .connections()
            .record_problem(&broken, Some(ConnectionStatus::Connected), None, None)
            .await
            .unwrap();
        for _ in 0..3 {
            alerts.round().await;
        }
        let bodies = receiver.bodies();
        assert_eq!(bodies.len(), 2, "{label}");
        assert_eq!(bodies[1]["alerts"][0]["kind"], "recovered", "{label}");
        assert_eq!(alert_mails(&p.store, &sender).await.len(), 2, "{label}");
        assert!(p.backend.attention().await.unwrap().is_empty(), "{label}");
        assert_eq!(audited(&p.store, "alert.raised").await, 1, "{label}");
        assert_eq!(audited(&p.store, "alert.recovered").await, 1, "{label}");
        let overview = p.backend.alerts_overview().await.unwrap();
        assert!(overview
            .destinations
            .iter()
            .all(|d| d.last_delivery_ok == Some(true) && d.pending == 0));
    }
}

#[tokio::test]
async fn alerts_about_the_sender_itself_go_to_the_other_destinations() {
    for t in support::all().await {
        let label = t.label;
        let p = support::prepare(&t).await;
        let actor = support::actor();
        let (_, sender) = support::tenant_with_mailbox(&p, "send").await;
        let (receiver, url) = Receiver::start().await;
        p.backend
            .create_alert_destination(&actor, &webhook(&url))
            .await
            .unwrap();
        p.backend
            .create_alert_destination(&actor, &email(&sender))
            .await
            .unwrap();
        break_connection(&p.store, &sender).await;
        engine(&p.store).round().await;
        assert_eq!(receiver.bodies().len(), 1, "{label}");
        assert!(alert_mails(&p.store, &sender).await.is_empty(), "{label}");
        let overview = p.backend.alerts_overview().await.unwrap();
        let mail = overview
            .destinations
            .iter()
            .find(|d| d.kind == "email")
            .unwrap();
        assert!(
            mail.sender_warning
                .as_deref()
                .unwrap()
                .contains("needs attention itself"),
            "{label}: {mail:?}"
        );
    }
}

#[tokio::test]
async fn decided_alerts_survive_a_crash_and_are_delivered_once() {
    for t in support::all().await {
        let label = t.label;
        let p = support::prepare(&t).await;
        let actor = support::actor();
        let (_, broken) = support::tenant_with_mailbox(&p, "send").await;
        let (receiver, url) = Receiver::start().await;
        p.backend
            .create_alert_destination(&actor, &webhook(&url))
            .await
            .unwrap();
        break_connection(&p.store, &broken).await;

        // Instance A decides, then dies before delivering: only the database
        // knows about the alert now.
        let a = engine(&p.store);
        assert_eq!(a.decide().await.unwrap(), 1, "{label}");
        drop(a);
        // Deciding again (any instance) finds it recorded: nothing new.
        assert_eq!(engine(&p.store).decide().await.unwrap(), 0, "{label}");
        assert!(receiver.bodies().is_empty(), "{label}");

        // Instance B takes it up and delivers it, once.
        let b = engine(&p.store);
        assert_eq!(b.deliver().await.unwrap(), 1, "{label}");
        b.round().await;
        engine(&p.store).round().await;
        assert_eq!(receiver.bodies().len(), 1, "{label}");
    }
}

#[tokio::test]
async fn a_failing_webhook_is_retried_with_backoff_and_the_same_delivery_id() {
    for t in support::all().await {
        let label = t.label;
        let p = support::prepare(&t).await;
        let clock = support::ManualClock::at(support::now());
        let store = p.store.with_clock(clock.clone());
        let (_, broken) = support::tenant_with_mailbox(&p, "send").await;
        let (receiver, url) = Receiver::start().await;
        p.backend
            .create_alert_destination(&support::actor(), &webhook(&url))
            .await
            .unwrap();
        receiver.status.store(503, Ordering::SeqCst);
        break_connection(&store, &broken).await;
        let alerts = engine(&store);
        alerts.round().await;
        assert_eq!(receiver.bodies().len(), 1, "{label}");
        let d = &p.backend.alerts_overview().await.unwrap().destinations[0];
        assert_eq!(d.last_delivery_ok, Some(false), "{label}");
        assert!(d
            .last_delivery_detail
            .as_deref()
            .unwrap()
            .contains("HTTP 503"));
        assert_eq!(d.pending, 1, "{label}");

        // Not before the backoff.
        alerts.round().await;
        assert_eq!(receiver.bodies().len(), 1, "{label}");
        clock.advance(chrono::Duration::seconds(61));
        receiver.status.store(204, Ordering::SeqCst);
        alerts.round().await;
        let ids = receiver.delivery_ids();
        assert_eq!(ids.len(), 2, "{label}");
        assert_eq!(ids[0], ids[1], "{label}: a retry is the same delivery");
        clock.advance(chrono::Duration::minutes(10));
        alerts.round().await;
        assert_eq!(receiver.bodies().len(), 2, "{label}");
        let d = &p.backend.alerts_overview().await.unwrap().destinations[0];
        assert_eq!(d.last_delivery_ok, Some(true), "{label}");
        assert_eq!(d.pending, 0, "{label}");
    }
}

#[tokio::test]
async fn alerts_that_fire_together_arrive_as_one_digest() {
    for t in support::all().await {
        let label = t.label;
        let p = support::prepare(&t).await;
        let (tenant, first) = support::tenant_with_mailbox(&p, "send").await;
        let second = support::mailbox_in(&p, &tenant, "send").await;
        let third = support::mailbox_in(&p, &tenant, "receive").await;
        let (receiver, url) = Receiver::start().await;
        p.backend
            .create_alert_destination(&support::actor(), &webhook(&url))
            .await
            .unwrap();
        for id in [&first, &second, &third] {
            break_connection(&p.store, id).await;
        }
        engine(&p.store).round().await;
        let bodies = receiver.bodies();
        assert_eq!(bodies.len(), 1, "{label}");
        assert_eq!(bodies[0]["alerts"].as_array().unwrap().len(), 3, "{label}");
    }
}

#[tokio::test]
async fn the_alerts_api_refuses_bad_input_and_sends_a_test_alert() {
    for t in support::all().await {
        let label = t.label;
        let p = support::prepare(&t).await;
        let base = support::serve(p.router.clone()).await;
        let admin = support::signed_in_browser(&p.store, &base).await;
        let call = |f: &'static str, body: serde_json::Value| {
            let (admin, base) = (admin.clone(), base.clone());
            async move {
                support::Reply::of(
                    admin
                        .post(format!("{base}/api/{f}"))
                        .json(&body)
                        .send()
                        .await
                        .unwrap(),
                )
                .await
            }
        };
        let bad = call(
            "create_alert_destination",
            serde_json::json!({ "input": webhook("ftp://example.com/hook") }),
        )
        .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{label}");
        assert!(bad.body.contains("url"), "{label}: {}", bad.body);
        let (_, receiving) = support::tenant_with_mailbox(&p, "receive").await;
        let bad = call(
            "create_alert_destination",
            serde_json::json!({ "input": email(&receiving) }),
        )
        .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{label}");
        assert!(bad.body.contains("sender"), "{label}: {}", bad.body);
        let missing = call(
            "test_alert_destination",
            serde_json::json!({ "id": uuid::Uuid::new_v4().to_string() }),
        )
        .await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND, "{label}");
        // Signed out: refused.
        let anonymous = support::browser()
            .post(format!("{base}/api/alerts_overview"))
            .json(&serde_json::json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED, "{label}");

        let (receiver, url) = Receiver::start().await;
        let made = call(
            "create_alert_destination",
            serde_json::json!({ "input": webhook(&url) }),
        )
        .await;
        assert_eq!(made.status, StatusCode::OK, "{label}: {}", made.body);
        let made = made.json();
        let secret = made["signing_secret"].as_str().unwrap().to_string();
        let id = made["destination"]["id"].as_str().unwrap().to_string();
        // Sealed at rest: the plaintext is not in the database.
        let stored = p.store.alerts().destinations().await.unwrap();
        assert_eq!(stored.len(), 1);
        use sea_orm::EntityTrait;
        let raw: Option<String> =
            server::db::entities::alert_destination::Entity::find_by_id(id.clone())
                .one(&p.db)
                .await
                .unwrap()
                .unwrap()
                .secret;
        assert!(!raw.unwrap().contains(&secret), "{label}");
        // The overview never carries it.
        let overview = call("alerts_overview", serde_json::json!({})).await;
        assert!(!overview.body.contains(&secret), "{label}");

        let test = call("test_alert_destination", serde_json::json!({ "id": id })).await;
        assert_eq!(test.status, StatusCode::OK, "{label}: {}", test.body);
        engine(&p.store).deliver().await.unwrap();
        let bodies = receiver.bodies();
        assert_eq!(bodies.len(), 1, "{label}");
        assert_eq!(bodies[0]["alerts"][0]["kind"], "test", "{label}");
        receiver.verify_all(&secret);
        assert_eq!(audited(&p.store, "alert.test").await, 1, "{label}");
        assert_eq!(
            audited(&p.store, "alert_destination.created").await,
            1,
            "{label}"
        );

        // The banner is on admin pages while something needs attention.
        let page = |path: &'static str| {
            let (admin, base) = (admin.clone(), base.clone());
            async move {
                admin
                    .get(format!("{base}{path}"))
                    .send()
                    .await
                    .unwrap()
                    .text()
                    .await
                    .unwrap()
            }
        };
        assert!(!page("/admin/tenants").await.contains("attention-banner"));
        break_connection(&p.store, &receiving).await;
        engine(&p.store).decide().await.unwrap();
        let html = page("/admin/tenants").await;
        assert!(html.contains("id=\"attention-banner\""), "{label}");
        assert!(html.contains("needs re-authentication"), "{label}");
        let deleted = call("delete_alert_destination", serde_json::json!({ "id": id })).await;
        assert_eq!(deleted.status, StatusCode::OK, "{label}");
        assert!(p.store.alerts().destinations().await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn a_new_destination_starts_with_what_is_already_wrong() {
    for t in support::all().await {
        let label = t.label;
        let p = support::prepare(&t).await;
        let (_, broken) = support::tenant_with_mailbox(&p, "send").await;
        break_connection(&p.store, &broken).await;
        engine(&p.store).round().await;
        let (receiver, url) = Receiver::start().await;
        p.backend
            .create_alert_destination(&support::actor(), &webhook(&url))
            .await
            .unwrap();
        let alerts = engine(&p.store);
        alerts.round().await;
        alerts.round().await;
        let bodies = receiver.bodies();
        assert_eq!(bodies.len(), 1, "{label}");
        assert_eq!(bodies[0]["alerts"][0]["kind"], "raised", "{label}");
        assert_eq!(bodies[0]["alerts"][0]["tenant_email_id"], broken, "{label}");
    }
}

#[tokio::test]
async fn every_condition_raises_once_and_recovers_once() {
    use sea_orm::sea_query::Expr;
    use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
    use server::db::entities::{inbox_sync, outbox_message, tenant_email};
    for t in support::all().await {
        let label = t.label;
        let p = support::prepare(&t).await;
        let (_, id) = support::tenant_with_mailbox(&p, "send_receive").await;
        let (receiver, url) = Receiver::start().await;
        p.backend
            .create_alert_destination(&support::actor(), &webhook(&url))
            .await
            .unwrap();
        let now = p.store.now();
        // A secret ten days from its end, a held message, a sync that never worked.
        tenant_email::Entity::update_many()
            .col_expr(
                tenant_email::Column::SecretExpiresOn,
                Expr::value(Some((now + chrono::Duration::days(10)).date_naive())),
            )
            .filter(tenant_email::Column::Id.eq(&id))
            .exec(&p.db)
            .await
            .unwrap();
        let queued = server::mail::outbox::enqueue::enqueue(&p.store, &id, support::outgoing("x"))
            .await
            .unwrap();
        let server::db::outbox::Enqueued::Queued(message) = queued else {
            panic!("{queued:?}")
        };
        let set_state = |state: &'static str, created: chrono::DateTime<chrono::Utc>| {
            outbox_message::Entity::update_many()
                .col_expr(outbox_message::Column::State, Expr::value(state))
                .col_expr(outbox_message::Column::CreatedAt, Expr::value(created))
                .filter(outbox_message::Column::Id.eq(message.clone()))
        };
        set_state("held", now).exec(&p.db).await.unwrap();
        inbox_sync::ActiveModel {
            tenant_email_id: Set(id.clone()),
            folder: Set("inbox".into()),
            since: Set(now),
            next_link: Set(None),
            delta_link: Set(None),
            round_started_at: Set(None),
            last_sync_at: Set(None),
            last_error: Set(Some("The folder “Support” does not exist.".into())),
            sync_requested_at: Set(None),
            lease_owner: Set(None),
            lease_until: Set(None),
            last_seq: Set(0),
        }
        .insert(&p.db)
        .await
        .unwrap();
        let alerts = engine(&p.store);
        alerts.round().await;
        alerts.round().await;
        let bodies = receiver.bodies();
        assert_eq!(bodies.len(), 1, "{label}: one digest");
        let mut raised: Vec<(String, String)> = bodies[0]["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                assert_eq!(a["kind"], "raised");
                (
                    a["condition"].as_str().unwrap().to_string(),
                    a["level"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        raised.sort();
        assert_eq!(
            raised,
            [
                ("inbox".to_string(), "failing".to_string()),
                ("outbox".to_string(), "held".to_string()),
                ("secret".to_string(), "14_days".to_string()),
            ],
            "{label}"
        );

        // Held becomes a 20-minute backlog: a change of level, one alert.
        set_state("queued", now - chrono::Duration::minutes(20))
            .exec(&p.db)
            .await
            .unwrap();
        alerts.round().await;
        alerts.round().await;
        let bodies = receiver.bodies();
        assert_eq!(bodies.len(), 2, "{label}");
        assert_eq!(bodies[1]["alerts"][0]["kind"], "changed", "{label}");
        assert_eq!(bodies[1]["alerts"][0]["level"], "backlog", "{label}");

        // Everything fixed: three recoveries, once.
        set_state("sent", now).exec(&p.db).await.unwrap();
        inbox_sync::Entity::update_many()
            .col_expr(
                inbox_sync::Column::LastError,
                Expr::value(Option::<String>::None),
            )
            .col_expr(inbox_sync::Column::LastSyncAt, Expr::value(Some(now)))
            .filter(inbox_sync::Column::TenantEmailId.eq(&id))
            .exec(&p.db)
            .await
            .unwrap();
        tenant_email::Entity::update_many()
            .col_expr(
                tenant_email::Column::SecretExpiresOn,
                Expr::value(Option::<chrono::NaiveDate>::None),
            )
            .filter(tenant_email::Column::Id.eq(&id))
            .exec(&p.db)
            .await
            .unwrap();
        alerts.round().await;
        alerts.round().await;
        let bodies = receiver.bodies();
        assert_eq!(bodies.len(), 3, "{label}");
        let kinds: Vec<&str> = bodies[2]["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["kind"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["recovered"; 3], "{label}");
        assert!(p.backend.attention().await.unwrap().is_empty(), "{label}");
    }
}
