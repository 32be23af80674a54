//! Certificate credentials, on SQLite and PostgreSQL, through the stand-in
//! (which verifies client assertions against the certificates registered
//! for the app): Tenant Mail makes the key pair, shows and offers only the
//! certificate, and every token request then carries a signed assertion
//! instead of the secret — the sign-in's code redemption, refreshes, and an
//! application mailbox's client credentials. A certificate removed from the
//! app registration is reported as credentials invalid, naming it.
mod support;

use app::model::mail::OutboxState;
use app::model::{AccountType, ConnectionStatus, TenantEmailInput};
use ms_stand_in::fixture::{MAILBOX, TENANT};
use sea_orm::EntityTrait;
use serde_json::{json, Value};
use support::{Mailbox, Time};

async fn create_certificate(c: &Mailbox, tenant_id: &str, email_id: &str) -> Value {
    c.call(
        "create_certificate",
        json!({"tenant_id": tenant_id, "email_id": email_id}),
    )
    .await
}

fn assertions(c: &Mailbox, grant: &str) -> usize {
    c.stand_in
        .control()
        .ledger()
        .token_requests
        .iter()
        .filter(|r| {
            r.grant_type.as_deref() == Some(grant)
                && r.client_auth == "assertion"
                && r.status == 200
        })
        .count()
}

#[tokio::test]
async fn a_certificate_made_by_tenant_mail_replaces_the_secret_in_every_token_request() {
    for t in support::all().await {
        let c = Mailbox::start(t, Time::System).await;
        let view = create_certificate(&c, &c.tenant_id, &c.email_id).await;
        let text = view.to_string();
        assert!(
            !text.contains("PRIVATE KEY"),
            "{}: only the certificate",
            c.label
        );
        let cert = &view["certificate"];
        let pem = cert["pem"].as_str().unwrap();
        assert!(
            pem.starts_with("-----BEGIN CERTIFICATE-----"),
            "{}",
            c.label
        );
        assert_eq!(cert["thumbprint"].as_str().unwrap().len(), 40);
        assert!(cert["expires_in_days"].as_i64().unwrap() >= 729);
        assert_eq!(view["values"]["credential"], "certificate");
        // Stored sealed: the row holds no key in plaintext.
        let row = server::db::entities::tenant_email::Entity::find_by_id(c.email_id.clone())
            .one(&c.p.db)
            .await
            .unwrap()
            .unwrap();
        assert!(
            !row.client_secret.unwrap_or_default().contains("PRIVATE"),
            "{}",
            c.label
        );

        // The admin uploads it; the app keeps its secret, which is no longer sent.
        let registered = c.stand_in.add_app_certificate(&c.client_id, pem).unwrap();
        assert_eq!(
            registered.thumbprint_sha1,
            cert["thumbprint"].as_str().unwrap()
        );
        c.connect().await;
        assert!(
            assertions(&c, "authorization_code") >= 1,
            "{}: the code was redeemed with an assertion",
            c.label
        );
        assert!(
            !c.stand_in
                .control()
                .ledger()
                .token_requests
                .iter()
                .any(|r| r.client_auth == "body" && r.status == 200),
            "{}: no secret sent",
            c.label
        );

        let (state, error) = c
            .send_from(&c.email_id, "Signed with the certificate")
            .await;
        assert_eq!(state, OutboxState::Sent, "{}: {error:?}", c.label);
        // A refresh signs a new assertion.
        c.stand_in.expire_access_tokens(MAILBOX).unwrap();
        let (state, error) = c.send_from(&c.email_id, "After a refresh").await;
        assert_eq!(state, OutboxState::Sent, "{}: {error:?}", c.label);
        assert!(assertions(&c, "refresh_token") >= 1, "{}", c.label);

        // Removed from the app registration: Microsoft refuses it (700027).
        c.stand_in
            .remove_app_certificate(&c.client_id, &registered.thumbprint_sha1)
            .unwrap();
        c.stand_in.expire_access_tokens(MAILBOX).unwrap();
        let (state, _) = c.send_from(&c.email_id, "Without the certificate").await;
        assert_eq!(
            state,
            OutboxState::Held,
            "{}: kept until the credentials are fixed",
            c.label
        );
        let email =
            c.p.store
                .tenant_emails()
                .get(&c.email_id)
                .await
                .unwrap()
                .unwrap();
        assert_eq!(
            email.status,
            ConnectionStatus::CredentialsInvalid,
            "{}",
            c.label
        );

        // A new secret replaces the certificate.
        c.edit_settings(|i| {
            i.credential = "secret".into();
            i.client_secret = "a-new-secret~2".into();
        })
        .await;
        let email =
            c.p.store
                .tenant_emails()
                .get(&c.email_id)
                .await
                .unwrap()
                .unwrap();
        assert!(email.certificate.is_none(), "{}", c.label);
    }
}

#[tokio::test]
async fn an_application_mailbox_gets_its_app_only_token_with_the_certificate() {
    for t in support::all().await {
        let c = Mailbox::start(t, Time::System).await;
        c.stand_in
            .grant_app_permissions(&c.client_id, &["Mail.ReadWrite", "Mail.Send"])
            .unwrap();
        let tenant =
            c.p.backend
                .create_tenant(&support::actor(), "Contoso (application, certificate)")
                .await
                .unwrap();
        // Saved without a secret: the certificate is made next.
        let input = TenantEmailInput {
            account_type: AccountType::Microsoft365App.code().into(),
            application_id: c.client_id.clone(),
            credential: "certificate".into(),
            client_secret: String::new(),
            ..support::email_input(MAILBOX, &c.stand_in.authority(TENANT), "")
        };
        let saved = c
            .call(
                "save_tenant_email",
                support::save_email_body(&tenant.id, &input),
            )
            .await;
        let email_id = saved["id"].as_str().unwrap().to_string();
        assert_eq!(saved["secret_set_at"], Value::Null, "{}", c.label);
        let view = create_certificate(&c, &tenant.id, &email_id).await;
        c.stand_in
            .add_app_certificate(&c.client_id, view["certificate"]["pem"].as_str().unwrap())
            .unwrap();
        let report = c
            .call(
                "check_app_access",
                json!({"tenant_id": tenant.id, "email_id": email_id}),
            )
            .await;
        assert!(
            report["checks"]
                .as_array()
                .unwrap()
                .iter()
                .all(|l| l["outcome"] != "fail"),
            "{}: {report}",
            c.label
        );
        assert!(assertions(&c, "client_credentials") >= 1, "{}", c.label);
        let (state, error) = c.send_from(&email_id, "App-only, certificate").await;
        assert_eq!(state, OutboxState::Sent, "{}: {error:?}", c.label);
    }
}
