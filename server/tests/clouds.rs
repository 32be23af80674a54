//! National clouds, on SQLite and PostgreSQL: two stand-ins on two loopback
//! ports play the global cloud and US Government (GCC High). A mailbox in
//! each is connected, sends and receives; every sign-in, token and Graph
//! call of a mailbox goes to its own cloud only (each stand-in's ledger has
//! its own mailbox's mail and no refused token). Changing a connected
//! mailbox's cloud asks for a new sign-in, and an authority of another cloud
//! is refused on its field.
mod support;

use app::model::cloud::{Cloud, CloudStandIn};
use app::model::mail::OutboxState;
use ms_stand_in::fixture::{ADMIN, CLIENT, MAILBOX, SECRET, TENANT};
use ms_stand_in::{ConsentGrant, StandIn, StandInConfig};
use support::{Mailbox, Time};

#[tokio::test]
async fn each_mailbox_talks_only_to_its_own_clouds_sign_in_and_graph() {
    for mut t in support::all().await {
        let gov = StandIn::start(StandInConfig {
            clock: ms_stand_in::Clock::system(),
            ..StandInConfig::default()
        })
        .await
        .unwrap();
        t.config.cloud_stand_ins = vec![CloudStandIn {
            cloud: Cloud::UsGov,
            host: gov.addr().to_string(),
        }];
        let c = Mailbox::start(t, Time::System).await;
        c.connect().await;

        // The same organisation's GCC High tenant, with its own app registration.
        let contoso_us =
            ms_stand_in::fixture::seed_contoso(gov.control(), &c.redirect_uri).unwrap();
        gov.set_signed_in(&[ADMIN.to_owned(), MAILBOX.to_owned()])
            .unwrap();
        gov.grant_consent(ConsentGrant {
            client_id: CLIENT.into(),
            tenant_id: Some(TENANT.into()),
            ..ConsentGrant::default()
        })
        .unwrap();
        let tenant =
            c.p.backend
                .create_tenant(&support::actor(), "Contoso (GCC High)")
                .await
                .unwrap();
        let input = app::model::TenantEmailInput {
            application_id: CLIENT.into(),
            cloud: Cloud::UsGov.code().into(),
            ..support::email_input(MAILBOX, &gov.authority("common"), SECRET)
        };
        // The global stand-in's authority is refused for a GCC High mailbox.
        let wrong = app::model::TenantEmailInput {
            authority_url: c.stand_in.authority("common"),
            ..input.clone()
        };
        let refused = c
            .admin
            .post(format!("{}/api/save_tenant_email", c.base))
            .json(&support::save_email_body(&tenant.id, &wrong))
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 422, "{}", c.label);
        let why = refused.text().await.unwrap();
        assert!(
            why.contains("authority_url") && why.contains("GCC High"),
            "{}: {why}",
            c.label
        );
        let us_email =
            c.p.backend
                .create_tenant_email(&support::actor(), &tenant.id, &input)
                .await
                .unwrap();
        c.connect_at(&gov, &tenant.id, &us_email.id, &contoso_us.mailbox.oid)
            .await;

        // Each sends one message.
        for (email, subject) in [
            (&c.email_id, "From the global cloud"),
            (&us_email.id, "From GCC High"),
        ] {
            let (state, error) = c.send_from(email, subject).await;
            assert_eq!(
                state,
                OutboxState::Sent,
                "{}: {subject}: {error:?}",
                c.label
            );
        }

        // Each receives one message.
        c.stand_in
            .deliver(support::incoming("To the global mailbox"))
            .unwrap();
        gov.deliver(support::incoming("To the GCC High mailbox"))
            .unwrap();
        assert_eq!(
            c.received_subjects(&c.email_id).await,
            ["To the global mailbox"],
            "{}",
            c.label
        );
        assert_eq!(
            c.received_subjects(&us_email.id).await,
            ["To the GCC High mailbox"],
            "{}",
            c.label
        );

        // The ledgers: each cloud saw its own mailbox's mail, sign-in and
        // Graph calls, and no token of the other cloud (which it would refuse).
        for (stand_in, sent, cloud) in [
            (&c.stand_in, "From the global cloud", "global"),
            (&gov, "From GCC High", "GCC High"),
        ] {
            let ledger = stand_in.control().ledger();
            let subjects: Vec<&str> = ledger.sent.iter().map(|m| m.subject.as_str()).collect();
            assert_eq!(subjects, [sent], "{}: {cloud}", c.label);
            assert!(
                ledger.token_requests.iter().any(|r| r.status == 200),
                "{}: {cloud} issued no token",
                c.label
            );
            assert!(!ledger.graph_requests.is_empty(), "{}: {cloud}", c.label);
            let refused: Vec<_> = ledger
                .graph_requests
                .iter()
                .filter(|r| r.status == 401)
                .collect();
            assert!(
                refused.is_empty(),
                "{}: {cloud} refused {refused:?}",
                c.label
            );
        }

        // GCC High and DoD share a sign-in host but not a Graph: moving the
        // mailbox to DoD asks for a new sign-in instead of using the tokens.
        let moved = app::model::TenantEmailInput {
            cloud: Cloud::UsDod.code().into(),
            client_secret: String::new(),
            ..input.clone()
        };
        let saved =
            c.p.backend
                .update_tenant_email(
                    &support::actor(),
                    &tenant.id,
                    &us_email.id,
                    us_email.version,
                    &moved,
                )
                .await
                .unwrap();
        assert_eq!(
            saved.status,
            app::model::ConnectionStatus::NeedsReauth,
            "{}",
            c.label
        );
    }
}
