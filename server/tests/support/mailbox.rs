//! The one harness for everything that talks to "Microsoft": the in-process
//! stand-in seeded with the Contoso tenant, Tenant Mail prepared against it
//! and served over HTTP with a signed-in admin, and a tenant with one tenant
//! email for the Contoso mailbox. Connected or not, on a system clock (so
//! workers and tokens agree) or on the stand-in's manual clock (so tests
//! move time on both sides).
use super::db::{prepare, TestDb};
use super::fixtures::{actor, email_input};
use super::http::{serve, Reply};
use super::sign_in::{pass_sign_in, signed_in_browser};
use app::model::mail::OutgoingMessage;
use axum::Router;
use chrono::{DateTime, TimeZone, Utc};
use ms_stand_in::fixture::{ADMIN, CLIENT, MAILBOX, SECRET, TENANT};
use ms_stand_in::{ConsentGrant, Control, StandIn, StandInConfig};
use server::clock::Clock;
use server::db::outbox::{Enqueued, OutboxMessage};
use server::db::Store;
use server::identity::Identity;
use server::mail::graph::GraphClient;
use server::mail::inbox::sync::{Inbox, InboxConfig, SyncOutcome};
use server::mail::outbox::enqueue::enqueue;
use server::mail::outbox::worker::{Outbox, OutboxConfig};
use server::mail::slots::MailboxSlots;
use server::routes::oauth_callback::{self, OAuthState};
use server::startup::Prepared;
use std::sync::Arc;
use tokio::sync::Notify;

/// Tenant Mail's clock following the stand-in's manual clock, so "advance
/// the clock" moves both sides.
pub struct StandInClock(pub Control);

impl Clock for StandInClock {
    fn now(&self) -> DateTime<Utc> {
        Utc.timestamp_opt(self.0.now(), 0).single().unwrap()
    }
}

/// Whose clock the stand-in and the harness's identity run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Time {
    /// The stand-in's manual clock (2025-01-01 until moved).
    Manual,
    /// The system clock on both sides.
    System,
}

pub struct Mailbox {
    pub label: &'static str,
    pub stand_in: StandIn,
    /// Tenant Mail as `main` builds it (on the system clock).
    pub p: Prepared,
    /// `p.router` served on loopback.
    pub base: String,
    /// A browser signed in as an admin at `base`.
    pub admin: reqwest::Client,
    /// A browser without cookies for the stand-in's pages.
    pub browser: reqwest::Client,
    /// The connect flow on the harness's clock.
    pub identity: Arc<Identity>,
    /// The OAuth routes on `identity`, called in-process as [`actor`].
    pub router: Router,
    pub redirect_uri: String,
    /// The app registration the tenant email uses.
    pub client_id: String,
    pub tenant_id: String,
    pub email_id: String,
    pub mailbox_oid: String,
    pub admin_oid: String,
    pub t: TestDb,
}

impl Mailbox {
    /// Not connected yet; the tenant email uses the Contoso app `CLIENT` with `SECRET`.
    pub async fn start(t: TestDb, time: Time) -> Mailbox {
        Self::start_with(t, time, None).await
    }

    /// Connected for real through the stand-in, on the system clock.
    /// `secret` becomes the client secret of a new app registration.
    pub async fn connected(t: TestDb, secret: &str) -> Mailbox {
        let m = Self::start_with(t, Time::System, Some(secret)).await;
        m.connect().await;
        m
    }

    async fn start_with(mut t: TestDb, time: Time, own_secret: Option<&str>) -> Mailbox {
        let clock = match time {
            Time::Manual => ms_stand_in::Clock::default(),
            Time::System => ms_stand_in::Clock::system(),
        };
        let stand_in = StandIn::start(StandInConfig {
            clock,
            ..StandInConfig::default()
        })
        .await
        .unwrap();
        t.config.extra_authority_host = Some(stand_in.addr().to_string());
        t.config.graph_base_url = stand_in.graph_base();
        let redirect_uri = t.config.redirect_uri();
        let contoso =
            ms_stand_in::fixture::seed_contoso(stand_in.control(), &redirect_uri).unwrap();
        let (client_id, secret) = match own_secret {
            None => (CLIENT.to_string(), SECRET.to_string()),
            Some(secret) => {
                let app = stand_in
                    .add_app(ms_stand_in::NewApp {
                        client_id: None,
                        tenant_id: TENANT.into(),
                        display_name: Some("Tenant Mail under test".into()),
                        redirect_uris: vec![redirect_uri.clone()],
                        secrets: vec![ms_stand_in::NewSecret {
                            value: Some(secret.to_string()),
                            id: None,
                            expires_at: None,
                        }],
                        api_permissions: vec![],
                    })
                    .unwrap();
                (app.client_id, secret.to_string())
            }
        };
        stand_in
            .set_signed_in(&[ADMIN.to_owned(), MAILBOX.to_owned()])
            .unwrap();
        stand_in
            .grant_consent(ConsentGrant {
                client_id: client_id.clone(),
                tenant_id: Some(TENANT.into()),
                ..ConsentGrant::default()
            })
            .unwrap();
        let p = prepare(&t).await;
        let base = serve(p.router.clone()).await;
        let admin = signed_in_browser(&p.store, &base).await;
        let identity_clock: Arc<dyn Clock> = match time {
            Time::Manual => Arc::new(StandInClock(stand_in.control().clone())),
            Time::System => Arc::new(server::clock::SystemClock),
        };
        let identity =
            Arc::new(Identity::new(p.store.with_clock(identity_clock), &t.config).unwrap());
        // The sign-in gate normally supplies the acting admin and their session.
        let router = oauth_callback::routes::<()>(OAuthState {
            identity: identity.clone(),
        })
        .layer(axum::Extension(actor()));
        let tenant = p.backend.create_tenant(&actor(), "Contoso").await.unwrap();
        let input = app::model::TenantEmailInput {
            application_id: client_id.clone(),
            ..email_input(MAILBOX, &stand_in.authority("common"), &secret)
        };
        let email = p
            .backend
            .create_tenant_email(&actor(), &tenant.id, &input)
            .await
            .unwrap();
        let browser = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Mailbox {
            label: t.label,
            stand_in,
            p,
            base,
            admin,
            browser,
            identity,
            router,
            redirect_uri,
            client_id,
            tenant_id: tenant.id,
            email_id: email.id,
            mailbox_oid: contoso.mailbox.oid,
            admin_oid: contoso.admin.oid,
            t,
        }
    }

    /// The storage handle on the system clock.
    pub fn store(&self) -> &server::db::Store {
        &self.p.store
    }

    /// What a worker of this Tenant Mail is built from (sharing nothing
    /// with `p`'s own workers but the database and identity).
    fn worker_parts(
        &self,
    ) -> (
        Store,
        Arc<Identity>,
        GraphClient,
        Arc<MailboxSlots>,
        Arc<Notify>,
    ) {
        let store = self.p.store.clone();
        let slots = Arc::new(MailboxSlots::new(&store));
        let identity = self.p.oauth.identity.clone();
        (
            store,
            identity,
            self.graph(),
            slots,
            Arc::new(Notify::new()),
        )
    }

    /// An outbox worker (not running: tests drive it).
    pub fn outbox(&self, config: OutboxConfig) -> Arc<Outbox> {
        let (store, identity, graph, slots, wake) = self.worker_parts();
        Arc::new(Outbox::new(store, identity, graph, slots, wake, config))
    }

    /// An inbox sync (not running: tests drive it).
    pub fn inbox(&self, config: InboxConfig) -> Arc<Inbox> {
        let (store, identity, graph, slots, wake) = self.worker_parts();
        Arc::new(Inbox::new(store, identity, graph, slots, wake, config))
    }

    /// An inbox sync woken by what wakes the served application's (Sync now,
    /// Graph's change notifications), receiving notifications at `base`.
    pub fn inbox_woken_by_app(&self, config: InboxConfig) -> Arc<Inbox> {
        let (store, identity, graph, slots, _) = self.worker_parts();
        let config = InboxConfig {
            notification_url: Some(format!(
                "{}{}",
                self.base,
                server::config::NOTIFICATIONS_PATH
            )),
            ..config
        };
        Arc::new(Inbox::new(
            store,
            identity,
            graph,
            slots,
            self.p.inbox_wake.clone(),
            config,
        ))
    }

    /// Changes the tenant email's saved settings as the editor would (the
    /// secret unchanged).
    pub async fn edit_settings(&self, change: impl FnOnce(&mut app::model::TenantEmailInput)) {
        let view = self
            .p
            .backend
            .get_tenant_email(&self.tenant_id, &self.email_id)
            .await
            .unwrap();
        let mut input = view.values.clone();
        change(&mut input);
        self.p
            .backend
            .update_tenant_email(
                &actor(),
                &self.tenant_id,
                &self.email_id,
                view.version,
                &input,
            )
            .await
            .unwrap();
    }

    /// Syncs (as the poll would, up to 20 times) until a round completes.
    pub async fn sync_round(&self, inbox: &Arc<Inbox>) -> SyncOutcome {
        for _ in 0..20 {
            let outcome = inbox.sync_mailbox(&self.email_id).await;
            if matches!(outcome, SyncOutcome::Synced { .. }) {
                return outcome;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("{}: the sync never completed", self.t.label);
    }

    /// Imports everything delivered, however old (the start moved to 1970).
    pub async fn import_everything(&self) {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        server::db::entities::tenant_email::Entity::update_many()
            .col_expr(
                server::db::entities::tenant_email::Column::ImportSince,
                sea_orm::sea_query::Expr::value(chrono::DateTime::from_timestamp(0, 0)),
            )
            .filter(server::db::entities::tenant_email::Column::Id.eq(&self.email_id))
            .exec(&self.p.db)
            .await
            .unwrap();
    }

    /// The mailbox's current access token (refreshed if need be).
    pub async fn access_token(&self) -> server::identity::AccessToken {
        self.p
            .oauth
            .identity
            .access_token(&self.email_id)
            .await
            .unwrap()
    }

    /// A Graph client (the token says which Graph: the stand-in).
    pub fn graph(&self) -> GraphClient {
        GraphClient::new(self.p.store.clock().clone()).unwrap()
    }

    /// Queues `message` from the mailbox; returns its id.
    pub async fn enqueue(&self, message: OutgoingMessage) -> String {
        match enqueue(&self.p.store, &self.email_id, message)
            .await
            .unwrap()
        {
            Enqueued::Queued(id) => id,
            other => panic!("{}: not queued: {other:?}", self.label),
        }
    }

    /// Queues a plain message `subject` from the tenant email `email_id` and
    /// runs an outbox worker until it is no longer queued or sending.
    pub async fn send_from(
        &self,
        email_id: &str,
        subject: &str,
    ) -> (app::model::mail::OutboxState, Option<String>) {
        use app::model::mail::OutboxState;
        let id = match enqueue(&self.p.store, email_id, super::fixtures::outgoing(subject))
            .await
            .unwrap()
        {
            Enqueued::Queued(id) => id,
            other => panic!("{}: {subject} not queued: {other:?}", self.label),
        };
        let worker = self.outbox(OutboxConfig {
            backoff_base: std::time::Duration::from_millis(20),
            backoff_cap: std::time::Duration::from_millis(200),
            idle_poll: std::time::Duration::from_millis(20),
            ..OutboxConfig::default()
        });
        for _ in 0..100 {
            worker.run_once().await;
            let m = self.outbox_message(&id).await;
            if !matches!(m.state, OutboxState::Queued | OutboxState::Sending) {
                return (m.state, m.last_error);
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("{}: {subject} was never sent", self.label);
    }

    /// Syncs the tenant email `email_id` until a round completes; the
    /// subjects it has stored, newest first.
    pub async fn received_subjects(&self, email_id: &str) -> Vec<String> {
        let inbox = self.inbox(InboxConfig {
            tick: std::time::Duration::from_millis(20),
            lease: chrono::Duration::seconds(30),
            ..InboxConfig::default()
        });
        for _ in 0..20 {
            if matches!(
                inbox.sync_mailbox(email_id).await,
                SyncOutcome::Synced { .. }
            ) {
                return self
                    .p
                    .store
                    .inbox()
                    .newest(email_id, None, 50)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|m| m.subject)
                    .collect();
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("{}: {email_id} never synced", self.label);
    }

    /// An outbox message as stored.
    pub async fn outbox_message(&self, id: &str) -> OutboxMessage {
        self.p.store.outbox().get(id).await.unwrap().unwrap()
    }

    /// Calls a server function as the admin; panics unless it succeeds.
    pub async fn call(&self, f: &str, body: serde_json::Value) -> serde_json::Value {
        let r = self
            .admin
            .post(format!("{}/api/{f}", self.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        let reply = Reply::of(r).await;
        assert!(
            reply.status.is_success(),
            "{f}: {} {}",
            reply.status,
            reply.body
        );
        reply.json()
    }

    /// Click to (RE) Authenticate → Microsoft → callback, as the mailbox,
    /// through the served application in the admin's browser session.
    pub async fn connect(&self) {
        self.connect_email(&self.email_id, &self.mailbox_oid).await;
    }

    /// The same for another tenant email of this tenant, signing in as `oid`.
    pub async fn connect_email(&self, email_id: &str, oid: &str) {
        self.connect_at(&self.stand_in, &self.tenant_id, email_id, oid)
            .await;
    }

    /// The same for any tenant email, signing in as `oid` at `stand_in`
    /// (another cloud's).
    pub async fn connect_at(&self, stand_in: &StandIn, tenant_id: &str, email_id: &str, oid: &str) {
        let begun = self
            .admin
            .post(format!(
                "{}/core/oauth2/begin/{}/{}",
                self.base, tenant_id, email_id
            ))
            .form(&[("x", "")])
            .send()
            .await
            .unwrap();
        assert_eq!(begun.status(), 303, "{}", self.label);
        let authorize = begun.headers()["location"].to_str().unwrap().to_string();
        let back = pass_sign_in(
            &self.admin,
            &stand_in.base_url(),
            &authorize,
            &self.redirect_uri,
            oid,
            "accept",
        )
        .await;
        let done = self
            .admin
            .get(format!("{}{back}", self.base))
            .send()
            .await
            .unwrap();
        let location = done.headers()["location"].to_str().unwrap().to_string();
        assert!(
            location.ends_with("?connected=1"),
            "{}: {location}",
            self.label
        );
    }
}
