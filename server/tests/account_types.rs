//! Mailboxes as organisations run them, on SQLite and PostgreSQL, through
//! the stand-in: an application mailbox (client credentials) is checked,
//! refused with the right reason while the app lacks its permission or an
//! access policy keeps it out, connected, sends and receives through
//! `/users/{address}`, and renews its app-only token when Graph refuses the
//! old one; a shared mailbox is signed in by its delegate, refused with
//! Exchange's reason until the delegate has Send As, then sends from the
//! shared mailbox, whose Sent Items (not the delegate's) hold the copy.
mod support;

use app::model::mail::OutboxState;
use app::model::{AccountType, ConnectionStatus, TenantEmailInput};
use ms_stand_in::fixture::{ADMIN, CLIENT, MAILBOX, TENANT};
use ms_stand_in::{ConsentGrant, MailboxPermission, NewApp, NewSecret, NewUser};
use serde_json::{json, Value};
use support::{Mailbox, Time};

const APP_SECRET: &str = "app-only~secret-value-1";
const SHARED: &str = "support@contoso.com";

/// Saves through the server function (the browser's path, with validation).
async fn save(c: &Mailbox, input: &TenantEmailInput) -> (u16, Value) {
    let r = c
        .admin
        .post(format!("{}/api/save_tenant_email", c.base))
        .json(&support::save_email_body(&c.tenant_id, input))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or_default())
}

async fn check_access(c: &Mailbox, tenant_id: &str, email_id: &str) -> Value {
    c.call(
        "check_app_access",
        json!({"tenant_id": tenant_id, "email_id": email_id}),
    )
    .await
}

fn line<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no line {name} in {report}"))
}

async fn status(c: &Mailbox, email_id: &str) -> ConnectionStatus {
    c.p.store
        .tenant_emails()
        .get(email_id)
        .await
        .unwrap()
        .unwrap()
        .status
}

#[tokio::test]
async fn an_application_mailbox_is_checked_connected_and_used_through_users_paths() {
    for t in support::all().await {
        let c = Mailbox::start(t, Time::System).await;
        let app = c
            .stand_in
            .add_app(NewApp {
                client_id: None,
                tenant_id: TENANT.into(),
                display_name: Some("Tenant Mail (application)".into()),
                redirect_uris: vec![],
                secrets: vec![NewSecret {
                    value: Some(APP_SECRET.into()),
                    id: None,
                    expires_at: None,
                }],
                api_permissions: vec![],
            })
            .unwrap();
        let mut input = TenantEmailInput {
            account_type: AccountType::Microsoft365App.code().into(),
            application_id: app.client_id.clone(),
            // Scopes are not used by application access: even a broken value is accepted.
            scopes: "openid\nbroken".into(),
            ..support::email_input(MAILBOX, &c.stand_in.authority("common"), APP_SECRET)
        };
        // `common` cannot issue app-only tokens.
        let (code, body) = save(&c, &input).await;
        assert_eq!(code, 422, "{}: {body}", c.label);
        assert!(body.to_string().contains("AADSTS9001023"), "{body}");
        // The Contoso mailbox is already a user mailbox of this tenant: use a second tenant.
        let tenant =
            c.p.backend
                .create_tenant(&support::actor(), "Contoso (application)")
                .await
                .unwrap();
        input.authority_url = c.stand_in.authority(TENANT);
        let r = c
            .admin
            .post(format!("{}/api/save_tenant_email", c.base))
            .json(&support::save_email_body(&tenant.id, &input))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", c.label);
        let email_id = r.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();

        // No application permission yet: a token, but the mailbox may not be read.
        let report = check_access(&c, &tenant.id, &email_id).await;
        assert_eq!(
            line(&report, "App-only token")["outcome"],
            "pass",
            "{report}"
        );
        let read = line(&report, "Reading the mailbox");
        assert_eq!(read["outcome"], "fail", "{report}");
        assert!(
            read["fix"]
                .as_str()
                .unwrap()
                .contains("application permissions"),
            "{report}"
        );
        assert_eq!(
            status(&c, &email_id).await,
            ConnectionStatus::NotAuthenticated
        );

        // Permissions, but an access policy that leaves this mailbox out.
        c.stand_in
            .grant_app_permissions(&app.client_id, &["Mail.ReadWrite", "Mail.Send"])
            .unwrap();
        c.stand_in
            .set_app_access_policy(&app.client_id, Some(vec![ADMIN.into()]))
            .unwrap();
        let report = check_access(&c, &tenant.id, &email_id).await;
        let read = line(&report, "Reading the mailbox");
        assert_eq!(read["outcome"], "fail", "{report}");
        assert!(
            read["fix"]
                .as_str()
                .unwrap()
                .contains("application access policy"),
            "{report}"
        );

        // In the policy: connected.
        c.stand_in
            .set_app_access_policy(&app.client_id, Some(vec![MAILBOX.into()]))
            .unwrap();
        let report = check_access(&c, &tenant.id, &email_id).await;
        assert_eq!(
            line(&report, "Reading the mailbox")["outcome"],
            "pass",
            "{report}"
        );
        assert_eq!(line(&report, "Connection")["outcome"], "pass", "{report}");
        assert_eq!(status(&c, &email_id).await, ConnectionStatus::Connected);
        let text = report.to_string();
        assert!(!text.contains(APP_SECRET), "the secret never comes back");

        // Sends as the mailbox, through /users/{address}.
        let (state, error) = c.send_from(&email_id, "Sent by the application").await;
        assert_eq!(state, OutboxState::Sent, "{}: {error:?}", c.label);
        let ledger = c.stand_in.control().ledger();
        let sent = ledger
            .sent
            .iter()
            .find(|m| m.subject == "Sent by the application")
            .unwrap();
        assert_eq!(sent.mailbox, MAILBOX);
        assert!(ledger
            .graph_requests
            .iter()
            .any(|r| r.path.contains("/users/") && r.method == "POST"));
        assert!(
            !ledger.graph_requests.iter().any(|r| r.status == 400),
            "no /me with an app-only token"
        );

        // Receives.
        c.stand_in
            .deliver(support::incoming("For the application"))
            .unwrap();
        assert!(c
            .received_subjects(&email_id)
            .await
            .contains(&"For the application".to_string()));

        // Graph refuses the app-only token: a new one comes from the client
        // credentials grant (there is no refresh token) and the mail goes out.
        let before = c
            .stand_in
            .control()
            .ledger()
            .token_requests
            .iter()
            .filter(|r| r.grant_type.as_deref() == Some("client_credentials") && r.status == 200)
            .count();
        c.stand_in.expire_app_access_tokens(&app.client_id).unwrap();
        let (state, error) = c.send_from(&email_id, "After the token expired").await;
        assert_eq!(state, OutboxState::Sent, "{}: {error:?}", c.label);
        let after = c
            .stand_in
            .control()
            .ledger()
            .token_requests
            .iter()
            .filter(|r| r.grant_type.as_deref() == Some("client_credentials") && r.status == 200)
            .count();
        assert!(
            after > before,
            "{}: a new app-only token was asked for",
            c.label
        );
        assert_eq!(status(&c, &email_id).await, ConnectionStatus::Connected);

        // Pointed at another mailbox: the old one's delta state is dropped
        // (its links would keep reading the old mailbox through /users), and
        // the access is checked again before it is used.
        let state =
            c.p.store
                .inbox()
                .sync_state(&email_id)
                .await
                .unwrap()
                .unwrap();
        assert!(state.delta_link.is_some(), "{}", c.label);
        let version =
            c.p.store
                .tenant_emails()
                .get(&email_id)
                .await
                .unwrap()
                .unwrap()
                .version;
        c.p.backend
            .update_tenant_email(
                &support::actor(),
                &tenant.id,
                &email_id,
                version,
                &TenantEmailInput {
                    address: ADMIN.into(),
                    client_secret: String::new(),
                    ..input.clone()
                },
            )
            .await
            .unwrap();
        assert_eq!(status(&c, &email_id).await, ConnectionStatus::NeedsReauth);
        let state =
            c.p.store
                .inbox()
                .sync_state(&email_id)
                .await
                .unwrap()
                .unwrap();
        assert_eq!(
            (state.delta_link, state.next_link),
            (None, None),
            "{}",
            c.label
        );
        c.stand_in
            .set_app_access_policy(&app.client_id, None)
            .unwrap();
        let report = check_access(&c, &tenant.id, &email_id).await;
        assert_eq!(line(&report, "Connection")["outcome"], "pass", "{report}");
        c.stand_in
            .deliver(ms_stand_in::IncomingMail {
                to_user: ADMIN.into(),
                ..support::incoming("For the other mailbox")
            })
            .unwrap();
        let subjects = c.received_subjects(&email_id).await;
        assert!(
            subjects.contains(&"For the other mailbox".to_string()),
            "{subjects:?}"
        );

        // The user mailbox's Check access is not application access.
        let report = check_access(&c, &c.tenant_id, &c.email_id).await;
        assert_eq!(report["checks"][0]["outcome"], "skip", "{report}");
    }
}

#[tokio::test]
async fn a_shared_mailbox_sends_as_itself_once_its_delegate_has_send_as() {
    for t in support::all().await {
        let c = Mailbox::start(t, Time::System).await;
        let shared = c
            .stand_in
            .add_shared_mailbox(NewUser {
                tenant_id: TENANT.into(),
                oid: None,
                upn: SHARED.into(),
                mail: Some(SHARED.into()),
                display_name: Some("Contoso Support".into()),
                password: None,
                proxy_addresses: None,
            })
            .unwrap();
        let _ = shared;
        c.stand_in
            .set_mailbox_permission(
                SHARED,
                MAILBOX,
                MailboxPermission {
                    full_access: true,
                    send_as: false,
                },
            )
            .unwrap();
        c.stand_in
            .grant_consent(ConsentGrant {
                client_id: CLIENT.into(),
                tenant_id: Some(TENANT.into()),
                scopes: [
                    "User.Read",
                    "Mail.Read.Shared",
                    "Mail.ReadWrite.Shared",
                    "Mail.Send.Shared",
                ]
                .map(String::from)
                .to_vec(),
                ..ConsentGrant::default()
            })
            .unwrap();
        let mut input = TenantEmailInput {
            account_type: AccountType::Microsoft365Shared.code().into(),
            application_id: CLIENT.into(),
            delegate: MAILBOX.into(),
            ..support::email_input(SHARED, &c.stand_in.authority("common"), "unused")
        };
        input.client_secret = ms_stand_in::fixture::SECRET.into();
        // The user mailbox's scopes do not reach a shared mailbox.
        let (code, body) = save(&c, &input).await;
        assert_eq!(code, 422, "{}: {body}", c.label);
        assert!(body.to_string().contains("mail.send.shared"), "{body}");
        input.scopes = app::model::scopes::SHARED_SCOPES.into();
        // The delegate must be someone else than the mailbox.
        let (code, body) = save(
            &c,
            &TenantEmailInput {
                delegate: SHARED.into(),
                ..input.clone()
            },
        )
        .await;
        assert_eq!(code, 422, "{}: {body}", c.label);
        assert!(body.to_string().contains("delegate"), "{body}");
        let (code, body) = save(&c, &input).await;
        assert_eq!(code, 200, "{}: {body}", c.label);
        let email_id = body["id"].as_str().unwrap().to_string();

        // The delegate signs in (the Contoso mailbox's user).
        c.connect_email(&email_id, &c.mailbox_oid).await;
        assert_eq!(status(&c, &email_id).await, ConnectionStatus::Connected);

        // Without Send As: Exchange's refusal, explained.
        let (state, error) = c.send_from(&email_id, "Before Send As").await;
        assert_eq!(state, OutboxState::Failed, "{}", c.label);
        let error = error.unwrap_or_default();
        assert!(
            error.contains("ErrorSendAsDenied") && error.contains("Send as"),
            "{}: {error}",
            c.label
        );

        c.stand_in
            .set_mailbox_permission(
                SHARED,
                MAILBOX,
                MailboxPermission {
                    full_access: true,
                    send_as: true,
                },
            )
            .unwrap();
        let (state, error) = c.send_from(&email_id, "From the shared mailbox").await;
        assert_eq!(state, OutboxState::Sent, "{}: {error:?}", c.label);
        let ledger = c.stand_in.control().ledger();
        let sent = ledger
            .sent
            .iter()
            .find(|m| m.subject == "From the shared mailbox")
            .unwrap();
        assert_eq!(sent.mailbox, SHARED, "{}", c.label);
        let subjects = |user: &str| -> Vec<String> {
            c.stand_in
                .messages(user, "sentitems")
                .unwrap()
                .iter()
                .map(|m| m["subject"].as_str().unwrap_or_default().to_string())
                .collect()
        };
        assert!(
            subjects(SHARED).contains(&"From the shared mailbox".to_string()),
            "{}",
            c.label
        );
        assert!(
            !subjects(MAILBOX).contains(&"From the shared mailbox".to_string()),
            "{}: not in the delegate's Sent Items",
            c.label
        );

        // Receives the shared mailbox's mail.
        c.stand_in
            .deliver(ms_stand_in::IncomingMail {
                to_user: SHARED.into(),
                ..support::incoming("To support")
            })
            .unwrap();
        assert!(c
            .received_subjects(&email_id)
            .await
            .contains(&"To support".to_string()));
    }
}
