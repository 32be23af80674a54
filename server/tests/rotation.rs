//! Secret rotation without downtime, on SQLite and PostgreSQL, through the
//! stand-in: a next secret stored beside the one in use takes over when
//! Microsoft refuses the current one as expired (AADSTS7000222) or wrong,
//! or ahead of the current one's end date, and nobody notices — the
//! connection keeps its status, queued mail is sent, nothing is held — except
//! the audit log, which says why. A next secret Microsoft refuses is never
//! promoted, and the doctor says so before the day it is needed.
mod support;

use app::model::mail::OutboxState;
use app::model::ConnectionStatus;
use ms_stand_in::fixture::MAILBOX;
use ms_stand_in::NewSecret;
use sea_orm::EntityTrait;
use serde_json::{json, Value};
use support::{Mailbox, Reply};

const OLD: &str = "rotation~old-secret";
const NEW: &str = "rotation~new-secret";

async fn email_row(c: &Mailbox) -> server::db::tenant_emails::TenantEmail {
    c.p.store
        .tenant_emails()
        .get(&c.email_id)
        .await
        .unwrap()
        .unwrap()
}

/// The version the editor shows now.
async fn version(c: &Mailbox) -> i32 {
    email_row(c).await.version
}

async fn set_next(c: &Mailbox, secret: &str, expires_on: &str) -> Reply {
    let version = version(c).await;
    set_next_at(c, version, secret, expires_on).await
}

async fn set_next_at(c: &Mailbox, version: i32, secret: &str, expires_on: &str) -> Reply {
    let r = c
        .admin
        .post(format!("{}/api/set_next_secret", c.base))
        .json(&json!({
            "tenant_id": c.tenant_id,
            "email_id": c.email_id,
            "version": version,
            "input": {"secret": secret, "expires_on": expires_on},
        }))
        .send()
        .await
        .unwrap();
    Reply::of(r).await
}

fn register(c: &Mailbox, value: &str) {
    c.stand_in
        .control()
        .add_secret(
            &c.client_id,
            NewSecret {
                value: Some(value.into()),
                id: None,
                expires_at: None,
            },
        )
        .unwrap();
}

/// Token requests the stand-in refused, by AADSTS code.
fn refused(c: &Mailbox) -> Vec<u32> {
    c.stand_in
        .control()
        .ledger()
        .token_requests
        .iter()
        .filter(|r| r.status != 200)
        .filter_map(|r| r.error_code)
        .collect()
}

async fn audit(c: &Mailbox, action: &str) -> Vec<app::model::admin::AuditEntryView> {
    let filter = app::model::admin::AuditFilter {
        action: action.into(),
        ..Default::default()
    };
    c.p.store.audit().list(&filter, 20).await.unwrap().entries
}

async fn stored_secret(c: &Mailbox) -> String {
    c.p.store
        .tenant_emails()
        .client_secret(&c.email_id)
        .await
        .unwrap()
        .unwrap()
}

fn in_days(days: i64) -> String {
    (support::now().date_naive() + chrono::Duration::days(days))
        .format("%Y-%m-%d")
        .to_string()
}

#[tokio::test]
async fn an_expired_secret_gives_way_to_the_next_with_no_status_change_and_no_held_mail() {
    for t in support::all().await {
        let c = Mailbox::connected(t, OLD).await;
        register(&c, NEW);
        let until = in_days(700);
        let r = set_next(&c, NEW, &until).await;
        assert!(r.status.is_success(), "{}: {}", c.label, r.body);
        let view: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(view["next_secret"]["expires_on"], until.as_str());
        assert!(!r.body.contains(NEW), "{}: never shown back", c.label);
        let row = server::db::entities::tenant_email::Entity::find_by_id(c.email_id.clone())
            .one(&c.p.db)
            .await
            .unwrap()
            .unwrap();
        assert!(
            !row.next_client_secret.unwrap().contains(NEW),
            "{}: sealed",
            c.label
        );
        let statuses_before = audit(&c, "connection.status_changed").await.len();

        // The old secret's end date passes; the access token is due.
        c.stand_in
            .control()
            .expire_secret(&c.client_id, OLD)
            .unwrap();
        c.stand_in.expire_access_tokens(MAILBOX).unwrap();
        let (state, error) = c.send_from(&c.email_id, "Sent across the rotation").await;
        assert_eq!(state, OutboxState::Sent, "{}: {error:?}", c.label);
        assert_eq!(refused(&c), [7000222], "{}: refused once", c.label);

        let email = email_row(&c).await;
        assert_eq!(email.status, ConnectionStatus::Connected, "{}", c.label);
        assert_eq!(email.next_secret, None, "{}: the slot is empty", c.label);
        assert_eq!(
            email.settings.secret_expires_on.map(|d| d.to_string()),
            Some(until.clone()),
            "{}: the end date moved with it",
            c.label
        );
        assert_eq!(stored_secret(&c).await, NEW, "{}", c.label);
        assert_eq!(
            audit(&c, "connection.status_changed").await.len(),
            statuses_before,
            "{}: no status change",
            c.label
        );
        let promoted = audit(&c, "tenant_email.next_secret_promoted").await;
        assert_eq!(promoted.len(), 1, "{}", c.label);
        assert_eq!(promoted[0].actor, "system");
        assert!(
            promoted[0]
                .detail
                .as_deref()
                .unwrap()
                .contains("AADSTS7000222"),
            "{}: {:?}",
            c.label,
            promoted[0].detail
        );

        // From now on the new secret is the one in use: no refusal again.
        c.stand_in.expire_access_tokens(MAILBOX).unwrap();
        let (state, _) = c.send_from(&c.email_id, "After the rotation").await;
        assert_eq!(state, OutboxState::Sent, "{}", c.label);
        assert_eq!(refused(&c), [7000222], "{}", c.label);
        let (counts, _) = c.p.store.outbox().activity(&c.email_id).await.unwrap();
        assert!(
            counts
                .iter()
                .all(|(state, _)| state == OutboxState::Sent.code()),
            "{}: nothing held or queued: {counts:?}",
            c.label
        );
    }
}

#[tokio::test]
async fn a_secret_near_its_end_date_is_replaced_before_microsoft_refuses_it() {
    for t in support::all().await {
        let c = Mailbox::connected(t, OLD).await;
        register(&c, NEW);
        c.edit_settings(|i| i.secret_expires_on = in_days(5)).await;
        let r = set_next(&c, NEW, "").await;
        assert!(r.status.is_success(), "{}: {}", c.label, r.body);

        c.stand_in.expire_access_tokens(MAILBOX).unwrap();
        let (state, error) = c.send_from(&c.email_id, "Before the end date").await;
        assert_eq!(state, OutboxState::Sent, "{}: {error:?}", c.label);
        assert!(refused(&c).is_empty(), "{}: nothing refused", c.label);
        assert_eq!(stored_secret(&c).await, NEW, "{}", c.label);
        let promoted = audit(&c, "tenant_email.next_secret_promoted").await;
        assert!(
            promoted[0]
                .detail
                .as_deref()
                .unwrap()
                .contains("ends in 5 days"),
            "{}: {:?}",
            c.label,
            promoted[0].detail
        );
        // The old secret still works at Microsoft, but is no longer used.
        c.stand_in
            .control()
            .expire_secret(&c.client_id, OLD)
            .unwrap();
        c.stand_in.expire_access_tokens(MAILBOX).unwrap();
        let (state, _) = c.send_from(&c.email_id, "With the old one gone").await;
        assert_eq!(state, OutboxState::Sent, "{}", c.label);
        assert!(refused(&c).is_empty(), "{}", c.label);
    }
}

#[tokio::test]
async fn a_next_secret_microsoft_refuses_is_never_promoted_and_the_doctor_says_so() {
    for t in support::all().await {
        let c = Mailbox::connected(t, OLD).await;
        c.edit_settings(|i| i.secret_expires_on = in_days(3)).await;
        // Never registered at the app: Microsoft refuses it (7000215).
        let r = set_next(&c, "rotation~typo", "").await;
        assert!(r.status.is_success(), "{}: {}", c.label, r.body);

        // Tried first (the current one ends in 3 days), refused, then the
        // current one carries on.
        c.stand_in.expire_access_tokens(MAILBOX).unwrap();
        let (state, error) = c.send_from(&c.email_id, "Still on the old secret").await;
        assert_eq!(state, OutboxState::Sent, "{}: {error:?}", c.label);
        assert_eq!(refused(&c), [7000215], "{}", c.label);
        assert_eq!(stored_secret(&c).await, OLD, "{}", c.label);
        let email = email_row(&c).await;
        assert!(
            email.next_secret.is_some(),
            "{}: kept for the admin",
            c.label
        );
        assert_eq!(email.status, ConnectionStatus::Connected, "{}", c.label);
        assert!(audit(&c, "tenant_email.next_secret_promoted")
            .await
            .is_empty());

        let report = c
            .call(
                "check_configuration",
                json!({"tenant_id": c.tenant_id, "email_id": c.email_id}),
            )
            .await;
        let next = report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["name"] == "Next secret")
            .unwrap_or_else(|| panic!("{}: no Next secret line in {report}", c.label));
        assert_eq!(next["outcome"], "fail", "{}: {next}", c.label);
        assert!(
            next["detail"].as_str().unwrap().contains("AADSTS7000215"),
            "{}: {next}",
            c.label
        );

        // Both refused: the admin is told about the secret in use.
        c.stand_in
            .control()
            .expire_secret(&c.client_id, OLD)
            .unwrap();
        c.stand_in.expire_access_tokens(MAILBOX).unwrap();
        let (state, _) = c.send_from(&c.email_id, "Nothing works").await;
        assert_eq!(state, OutboxState::Held, "{}", c.label);
        let email = email_row(&c).await;
        assert_eq!(email.status, ConnectionStatus::CredentialsInvalid);
    }
}

#[tokio::test]
async fn a_sign_in_with_an_expired_secret_redeems_the_code_with_the_next_one() {
    for t in support::all().await {
        let c = Mailbox::start(t, support::Time::System).await;
        // The fixture app's secret in use expires before the first sign-in.
        c.edit_settings(|i| i.client_secret = ms_stand_in::fixture::EXPIRED_SECRET.into())
            .await;
        let r = set_next(&c, ms_stand_in::fixture::SECRET, "").await;
        assert!(r.status.is_success(), "{}: {}", c.label, r.body);
        c.connect().await;
        let email = email_row(&c).await;
        assert_eq!(email.status, ConnectionStatus::Connected, "{}", c.label);
        assert_eq!(stored_secret(&c).await, ms_stand_in::fixture::SECRET);
        assert_eq!(refused(&c), [7000222], "{}", c.label);
    }
}

#[tokio::test]
async fn the_next_secret_field_refuses_what_could_never_work() {
    for t in support::all().await {
        let c = Mailbox::start(t, support::Time::System).await;
        let cases = [
            ("", "", "next_client_secret", "Paste the client secret"),
            (
                ms_stand_in::fixture::SECRET,
                "",
                "next_client_secret",
                "already in use",
            ),
            (
                "another~secret",
                "2020-01-01",
                "next_secret_expires_on",
                "has passed",
            ),
            (
                "another~secret",
                "01/02/2030",
                "next_secret_expires_on",
                "YYYY-MM-DD",
            ),
        ];
        for (secret, date, field, says) in cases {
            let r = set_next(&c, secret, date).await;
            assert_eq!(
                r.status.as_u16(),
                422,
                "{}: {secret} {date}: {}",
                c.label,
                r.body
            );
            assert!(r.body.contains(field), "{}: {}", c.label, r.body);
            assert!(r.body.contains(says), "{}: {}", c.label, r.body);
            assert!(
                secret.is_empty() || !r.body.contains(secret),
                "{}: the secret is not echoed",
                c.label
            );
        }
        let email = email_row(&c).await;
        assert_eq!(email.next_secret, None, "{}", c.label);

        // Stored, then removed (audited both ways).
        assert!(set_next(&c, "another~secret", "").await.status.is_success());
        // An editor showing an older version is told to reload, and changes nothing.
        let stale = version(&c).await - 1;
        let r = set_next_at(&c, stale, "a-third~secret", "").await;
        assert_eq!(r.status.as_u16(), 409, "{}: {}", c.label, r.body);
        assert!(r.body.contains("reload"), "{}: {}", c.label, r.body);
        let view = c
            .call(
                "remove_next_secret",
                json!({"tenant_id": c.tenant_id, "email_id": c.email_id, "version": version(&c).await}),
            )
            .await;
        assert!(view["next_secret"].is_null(), "{}: {view}", c.label);
        assert_eq!(audit(&c, "tenant_email.next_secret_set").await.len(), 1);
        assert_eq!(audit(&c, "tenant_email.next_secret_removed").await.len(), 1);

        // Another app's secret is not this app's next secret.
        assert!(set_next(&c, "another~secret", "").await.status.is_success());
        c.edit_settings(|i| i.application_id = "c1c1c1c1-0000-4000-8000-0000000000ff".into())
            .await;
        let email = email_row(&c).await;
        assert_eq!(email.next_secret, None, "{}", c.label);
    }
}

#[tokio::test]
async fn a_promotion_never_overwrites_what_an_admin_saved_meanwhile() {
    for t in support::all().await {
        let c = Mailbox::connected(t, OLD).await;
        assert!(set_next(&c, NEW, "").await.status.is_success());
        let emails = c.p.store.tenant_emails();
        // A token request read the row and is about to promote...
        let read_at = version(&c).await;
        let tried = emails
            .next_client_secret(&c.email_id)
            .await
            .unwrap()
            .unwrap();
        // ...while an admin saves a new secret in use.
        c.edit_settings(|i| i.client_secret = "typed~by~the~admin".into())
            .await;
        let promoted = emails
            .promote_next_secret(&c.email_id, &tried, read_at, "test")
            .await
            .unwrap();
        assert!(!promoted, "{}: the admin's save wins", c.label);
        assert_eq!(stored_secret(&c).await, "typed~by~the~admin", "{}", c.label);
        assert!(emails
            .get(&c.email_id)
            .await
            .unwrap()
            .unwrap()
            .next_secret
            .is_some());

        // Two instances promoting the same value: one write.
        let read_at = version(&c).await;
        let tried = emails
            .next_client_secret(&c.email_id)
            .await
            .unwrap()
            .unwrap();
        let (a, b) = tokio::join!(
            emails.promote_next_secret(&c.email_id, &tried, read_at, "a"),
            emails.promote_next_secret(&c.email_id, &tried, read_at, "b"),
        );
        assert_eq!(
            [a.unwrap(), b.unwrap()].iter().filter(|p| **p).count(),
            1,
            "{}",
            c.label
        );
        assert_eq!(stored_secret(&c).await, NEW, "{}", c.label);
        assert_eq!(
            audit(&c, "tenant_email.next_secret_promoted").await.len(),
            1
        );

        // A certificate ends the slot (it follows a secret).
        assert!(set_next(&c, "yet~another", "").await.status.is_success());
        c.call(
            "create_certificate",
            json!({"tenant_id": c.tenant_id, "email_id": c.email_id}),
        )
        .await;
        let email = emails.get(&c.email_id).await.unwrap().unwrap();
        assert_eq!(email.next_secret, None, "{}", c.label);
    }
}
