//! The pre-flight doctor ("Check configuration", `tenant-mail doctor`) on
//! SQLite and PostgreSQL against the Microsoft stand-in: a healthy connected
//! mailbox passes every check, and each failure mode — wrong secret, expired
//! secret, missing scope, unregistered redirect URI, unreachable authority,
//! not connected — fails its own check with the fix.
mod support;

use app::model::doctor::{CheckOutcome, DoctorReport};
use ms_stand_in::fixture::{EXPIRED_SECRET, MAILBOX, TENANT};
use support::Mailbox;

fn outcome(report: &DoctorReport, name: &str) -> (CheckOutcome, String) {
    let c = report
        .checks
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no check {name}: {report:#?}"));
    (
        c.outcome,
        format!("{} | fix: {}", c.detail, c.fix.clone().unwrap_or_default()),
    )
}

/// Runs the doctor through the served server function, as the button does.
async fn check(c: &Mailbox) -> DoctorReport {
    serde_json::from_value(
        c.call(
            "check_configuration",
            serde_json::json!({ "tenant_id": c.tenant_id, "email_id": c.email_id }),
        )
        .await,
    )
    .unwrap()
}

/// Saves the mailbox with `change` applied to its settings (tenant-specific
/// authority, so app credentials can be proved before a connection).
async fn edit(c: &Mailbox, secret: &str, change: impl FnOnce(&mut app::model::TenantEmailInput)) {
    let view =
        c.p.backend
            .get_tenant_email(&c.tenant_id, &c.email_id)
            .await
            .unwrap();
    let mut input = app::model::TenantEmailInput {
        application_id: c.client_id.clone(),
        ..support::email_input(MAILBOX, &c.stand_in.authority(TENANT), secret)
    };
    change(&mut input);
    c.p.backend
        .update_tenant_email(
            &support::actor(),
            &c.tenant_id,
            &c.email_id,
            view.version,
            &input,
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn a_connected_mailbox_passes_every_check() {
    for t in support::all().await {
        let c = Mailbox::connected(t, "doctor-secret~1").await;
        let report = check(&c).await;
        assert!(!report.failed(), "{}: {report:#?}", c.label);
        for name in [
            "Authority discovery",
            "Redirect URI",
            "Application ID and secret",
            "Clock",
            "Scopes",
            "Token",
            "Mailbox answers",
        ] {
            assert_eq!(
                outcome(&report, name).0,
                CheckOutcome::Pass,
                "{name}: {report:#?}"
            );
        }
        let redirect = report
            .checks
            .iter()
            .find(|c| c.name == "Redirect URI")
            .unwrap();
        assert_eq!(redirect.copy.as_deref(), Some(c.redirect_uri.as_str()));
        assert!(outcome(&report, "Mailbox answers")
            .1
            .contains("mailbox@contoso.com"));
        // Audited, with the result.
        let filter = app::model::admin::AuditFilter {
            action: "tenant_email.checked".into(),
            ..Default::default()
        };
        let page = c.p.store.audit().list(&filter, 10).await.unwrap();
        assert_eq!(page.entries.len(), 1, "{}", c.label);
        assert_eq!(page.entries[0].outcome, "success");
    }
}

#[tokio::test]
async fn wrong_and_expired_secrets_fail_the_credentials_check() {
    for t in support::all().await {
        let c = Mailbox::connected(t, "doctor-secret~2").await;
        edit(&c, "not-the-secret", |_| {}).await;
        let report = check(&c).await;
        let (o, text) = outcome(&report, "Application ID and secret");
        assert_eq!(o, CheckOutcome::Fail, "{text}");
        assert!(text.contains("AADSTS7000215"), "{text}");
        assert!(text.contains("Certificates & secrets"), "{text}");
        assert!(!text.contains("not-the-secret"), "the secret is not echoed");
        assert!(report.failed());

        // The fixture app's expired secret.
        let c = Mailbox::start(support::sqlite().await, support::Time::System).await;
        edit(&c, EXPIRED_SECRET, |_| {}).await;
        let (o, text) = outcome(&check(&c).await, "Application ID and secret");
        assert_eq!(o, CheckOutcome::Fail, "{text}");
        assert!(text.contains("AADSTS7000222"), "{text}");
    }
}

#[tokio::test]
async fn a_missing_scope_is_named_with_the_fix() {
    for t in support::all().await {
        let c = Mailbox::connected(t, "doctor-secret~3").await;
        edit(&c, "doctor-secret~3", |i| {
            i.direction = "send_receive".into();
            i.scopes = "openid profile offline_access User.Read Mail.Read".into();
        })
        .await;
        let (o, text) = outcome(&check(&c).await, "Scopes");
        assert_eq!(o, CheckOutcome::Fail, "{text}");
        assert!(text.contains("Add Mail.Send to Scopes"), "{text}");
    }
}

#[tokio::test]
async fn an_unregistered_redirect_uri_and_an_unreachable_authority_fail() {
    for t in support::all().await {
        let c = Mailbox::start(t, support::Time::System).await;
        let other = c
            .stand_in
            .add_app(ms_stand_in::NewApp {
                client_id: None,
                tenant_id: TENANT.into(),
                display_name: Some("Registered elsewhere".into()),
                redirect_uris: vec!["https://elsewhere.example/callback".into()],
                secrets: vec![ms_stand_in::NewSecret {
                    value: Some("elsewhere-secret~1".into()),
                    id: None,
                    expires_at: None,
                }],
                api_permissions: vec![],
            })
            .unwrap();
        edit(&c, "elsewhere-secret~1", |i| {
            i.application_id = other.client_id.clone();
        })
        .await;
        let report = check(&c).await;
        let (o, text) = outcome(&report, "Redirect URI");
        assert_eq!(o, CheckOutcome::Fail, "{text}");
        assert!(text.contains("AADSTS50011"), "{text}");
        // The credentials themselves are fine.
        assert_eq!(
            outcome(&report, "Application ID and secret").0,
            CheckOutcome::Pass
        );
        // Not connected: the token check says so.
        let (o, text) = outcome(&report, "Token");
        assert_eq!(o, CheckOutcome::Fail);
        assert!(text.contains("Click to Authenticate"), "{text}");

        c.stand_in.add_fault(ms_stand_in::FaultSpec {
            endpoint: "discovery".into(),
            count: 5,
            fault: ms_stand_in::Fault::DropBeforeBody,
        });
        let (o, text) = outcome(&check(&c).await, "Authority discovery");
        assert_eq!(o, CheckOutcome::Fail, "{text}");
        c.stand_in.clear_faults();
    }
}

// The stand-in serves from this process while the command runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_doctor_command_exits_non_zero_when_a_check_fails() {
    let t = support::sqlite().await;
    let c = Mailbox::start(t, support::Time::System).await;
    let (ok, stdout, stderr) = support::process::run(&c.t, &["doctor"], &[]);
    assert!(!ok, "{stdout}\n{stderr}");
    assert!(stdout.contains("mailbox@contoso.com"), "{stdout}");
    assert!(stdout.contains("[FAIL] Token: Not connected."), "{stdout}");
    assert!(stdout.contains("fix: Click to Authenticate"), "{stdout}");
    assert!(stdout.contains("[ok  ] Authority discovery"), "{stdout}");
    assert!(stderr.contains("some checks failed"), "{stderr}");
}

#[tokio::test]
async fn a_message_to_itself_goes_out_and_comes_back_unseen_by_the_application() {
    for t in support::all().await {
        let c = Mailbox::connected(t, "doctor-secret~4").await;
        // The server's own workers, woken by the console as in production.
        c.p.outbox.clone().spawn();
        c.p.inbox.clone().spawn();
        let check: app::model::doctor::DoctorCheck = serde_json::from_value(
            c.call(
                "round_trip_check",
                serde_json::json!({ "tenant_id": c.tenant_id, "email_id": c.email_id }),
            )
            .await,
        )
        .unwrap();
        assert_eq!(check.outcome, CheckOutcome::Pass, "{}: {check:?}", c.label);
        assert!(check.detail.contains("received back"), "{check:?}");
        // Sent once through Graph, to the mailbox itself.
        let ledger = c.stand_in.ledger();
        let sent: Vec<_> = ledger
            .sent
            .iter()
            .filter(|s| s.subject.starts_with("Tenant Mail round-trip check"))
            .collect();
        assert_eq!(sent.len(), 1, "{}", c.label);
        assert_eq!(sent[0].to, [MAILBOX.to_string()]);
        // Received, and acknowledged: the host application's feed skips it.
        let pending =
            c.p.store
                .inbox()
                .after(&c.email_id, 0, 50, true)
                .await
                .unwrap();
        assert!(
            pending
                .iter()
                .all(|m| !m.subject.starts_with("Tenant Mail round-trip check")),
            "{}",
            c.label
        );
        assert_eq!(c.p.store.inbox().count(&c.email_id).await.unwrap(), 1);
    }
}
