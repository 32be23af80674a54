use super::*;
use crate::db::alerts::Thresholds;
use chrono::TimeZone;

fn limits() -> Thresholds {
    Thresholds {
        outbox_backlog: chrono::Duration::minutes(15),
        outbox_failed_window: chrono::Duration::minutes(60),
        inbox_failing: chrono::Duration::minutes(15),
    }
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, 12, 0, 0).unwrap()
}

fn healthy() -> MailboxFacts {
    MailboxFacts {
        tenant_id: "t1".into(),
        tenant_name: "Contoso".into(),
        tenant_email_id: "e1".into(),
        address: "ops@contoso.com".into(),
        connection_status: "connected".into(),
        ..MailboxFacts::default()
    }
}

fn raised(c: &Change) -> RaisedState {
    RaisedState {
        tenant_email_id: c.tenant_email_id.clone(),
        condition: c.condition.clone(),
        level: c.after.clone().unwrap(),
        since: now(),
        title: c.title.clone(),
        detail: c.detail.clone(),
        fix: c.fix.clone(),
    }
}

fn event(c: &Change) -> AlertEvent {
    serde_json::from_str(&c.event).unwrap()
}

#[test]
fn a_healthy_mailbox_raises_nothing() {
    assert!(changes(&[healthy()], &[], now(), &limits(), "https://x").is_empty());
    let mut never_connected = healthy();
    never_connected.connection_status = "not_authenticated".into();
    assert!(changes(&[never_connected], &[], now(), &limits(), "https://x").is_empty());
}

#[test]
fn a_condition_is_raised_once_then_recovers_once() {
    let mut f = healthy();
    f.connection_status = "needs_reauth".into();
    f.connection_error = Some("The refresh token was revoked (AADSTS50173).".into());
    let first = changes(
        &[f.clone()],
        &[],
        now(),
        &limits(),
        "https://mail.example.com/",
    );
    assert_eq!(first.len(), 1);
    let c = &first[0];
    assert_eq!(
        (c.before.as_deref(), c.after.as_deref()),
        (None, Some("needs_reauth"))
    );
    let e = event(c);
    assert_eq!(e.kind, EventKind::Raised);
    assert_eq!(e.title, "ops@contoso.com needs re-authentication");
    assert_eq!(e.detail, "The refresh token was revoked (AADSTS50173).");
    assert!(e.fix.contains("RE Authenticate"));
    assert_eq!(e.tenant_name.as_deref(), Some("Contoso"));
    assert_eq!(
        e.link,
        "https://mail.example.com/admin/tenants/t1/emails/e1"
    );

    // Still the same state: nothing new.
    let state = [raised(c)];
    assert!(changes(&[f], &state, now(), &limits(), "https://x").is_empty());

    // Fixed: one recovery.
    let back = changes(&[healthy()], &state, now(), &limits(), "https://x");
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].after, None);
    assert_eq!(back[0].before.as_deref(), Some("needs_reauth"));
    let e = event(&back[0]);
    assert_eq!(e.kind, EventKind::Recovered);
    assert!(e
        .headline()
        .starts_with("Recovered: ops@contoso.com: the connection"));
}

#[test]
fn another_level_is_a_new_alert_not_a_recovery() {
    let mut f = healthy();
    f.connection_status = "needs_reauth".into();
    let first = changes(&[f.clone()], &[], now(), &limits(), "https://x");
    f.connection_status = "credentials_invalid".into();
    let next = changes(&[f], &[raised(&first[0])], now(), &limits(), "https://x");
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].before.as_deref(), Some("needs_reauth"));
    assert_eq!(next[0].after.as_deref(), Some("credentials_invalid"));
    assert_eq!(event(&next[0]).kind, EventKind::Changed);
}

#[test]
fn secret_warnings_at_30_14_7_1_days_and_expiry() {
    let today = now().date_naive();
    let level = |days: i64| {
        let mut f = healthy();
        f.secret_expires_on = Some(today + chrono::Duration::days(days));
        secret(&f, today).map(|c| c.level)
    };
    assert_eq!(level(31), None);
    assert_eq!(level(30).as_deref(), Some("30_days"));
    assert_eq!(level(15).as_deref(), Some("30_days"));
    assert_eq!(level(14).as_deref(), Some("14_days"));
    assert_eq!(level(8).as_deref(), Some("14_days"));
    assert_eq!(level(7).as_deref(), Some("7_days"));
    assert_eq!(level(1).as_deref(), Some("1_day"));
    assert_eq!(level(0).as_deref(), Some("1_day"));
    assert_eq!(level(-1).as_deref(), Some("expired"));
    let mut f = healthy();
    f.secret_expires_on = Some(today + chrono::Duration::days(1));
    assert!(secret(&f, today)
        .unwrap()
        .title
        .contains("expires tomorrow"));
}

#[test]
fn a_next_secret_that_outlives_the_current_one_silences_the_warnings_not_the_expiry() {
    let today = now().date_naive();
    let mut f = healthy();
    f.secret_expires_on = Some(today + chrono::Duration::days(25));
    f.has_next_secret = true;
    f.next_secret_expires_on = Some(today + chrono::Duration::days(700));
    assert_eq!(secret(&f, today), None);
    // Unknown end date: trusted to outlive the current one.
    f.next_secret_expires_on = None;
    assert_eq!(secret(&f, today), None);
    // Within the rotation window and still waiting: it was not accepted.
    f.secret_expires_on = Some(today + chrono::Duration::days(10));
    let c = secret(&f, today).unwrap();
    assert_eq!(c.level, "14_days");
    assert!(c.detail.contains("has not taken over"), "{}", c.detail);
    // A next secret ending first covers nothing.
    f.secret_expires_on = Some(today + chrono::Duration::days(25));
    f.next_secret_expires_on = Some(today + chrono::Duration::days(5));
    assert_eq!(
        secret(&f, today).map(|c| c.level).as_deref(),
        Some("30_days")
    );
    // Expired with a next secret stored: the rotation did not happen.
    f.next_secret_expires_on = None;
    f.secret_expires_on = Some(today - chrono::Duration::days(1));
    let c = secret(&f, today).unwrap();
    assert_eq!(c.level, "expired");
    assert!(c.detail.contains("has not been accepted"), "{}", c.detail);
}

#[test]
fn a_certificate_is_warned_about_by_its_own_end_date() {
    let today = now().date_naive();
    let mut f = healthy();
    // The secret's date is of a secret no longer in use.
    f.secret_expires_on = Some(today - chrono::Duration::days(3));
    f.certificate_expires_on = Some(today + chrono::Duration::days(400));
    assert_eq!(secret(&f, today), None);
    f.certificate_expires_on = Some(today + chrono::Duration::days(6));
    let c = secret(&f, today).unwrap();
    assert_eq!(c.level, "7_days");
    assert!(
        c.title.contains("the certificate expires in 6 days"),
        "{}",
        c.title
    );
    f.certificate_expires_on = Some(today - chrono::Duration::days(1));
    assert!(secret(&f, today).unwrap().detail.contains("AADSTS700027"));
}

#[test]
fn outbox_and_inbox_conditions_name_what_is_wrong() {
    let mut f = healthy();
    f.outbox_backlog = 12;
    f.outbox_failed_recently = 1;
    let c = outbox(&f, &limits()).unwrap();
    assert_eq!(c.level, "failed");
    assert_eq!(
        c.detail,
        "Outbox: 1 failed in the last 60 minutes, 12 queued for more than 15 minutes."
    );
    f.outbox_held = 2;
    assert_eq!(outbox(&f, &limits()).unwrap().level, "held");
    f.inbox_error = Some("The folder “Support” does not exist.".into());
    let all = judge(&f, now().date_naive(), &limits());
    let names: Vec<&str> = all.iter().map(|c| c.condition).collect();
    assert_eq!(names, ["outbox", "inbox"]);
}

#[test]
fn each_mailbox_is_judged_on_its_own() {
    let mut a = healthy();
    a.connection_status = "error".into();
    let mut b = healthy();
    b.tenant_email_id = "e2".into();
    b.address = "sales@contoso.com".into();
    b.inbox_error = Some("timeout".into());
    let out = changes(&[a, b], &[], now(), &limits(), "https://x");
    let keys: Vec<(&str, &str)> = out
        .iter()
        .map(|c| (c.tenant_email_id.as_str(), c.condition.as_str()))
        .collect();
    assert_eq!(keys, [("e1", "connection"), ("e2", "inbox")]);
}
