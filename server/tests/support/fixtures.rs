//! The data most tests start from: an admin, a tenant with a tenant email,
//! a message to send, and the request bodies the admin console sends.
use app::model::mail::OutgoingMessage;
use app::model::TenantEmailInput;
use serde_json::{json, Value};
use server::startup::Prepared;

/// An Application ID in the shape Azure gives.
pub const APP_ID: &str = "79c6ff55-b7e0-4517-bfd7-b4fffb6fee40";
pub const ADMIN_USER: &str = "tester";
pub const ADMIN_PASSWORD: &str = "correct horse battery staple";

/// An admin acting in backend-level tests.
pub fn actor() -> app::port::Actor {
    app::port::Actor {
        admin_id: Some("00000000-0000-4000-8000-00000000a001".into()),
        username: "tester".into(),
        session_key: Some("test-session".into()),
        request_id: Some("test-request-0000-4000-8000-000000000001".into()),
        ip: Some("127.0.0.1".into()),
    }
}

/// Creates an admin directly in storage.
pub async fn create_admin(store: &server::db::Store, username: &str, password: &str) {
    let hash = server::auth::password::hash(password).await.expect("hash");
    let created = store
        .admins()
        .create(&actor(), username, &hash)
        .await
        .expect("create admin");
    assert!(
        matches!(created, server::db::Saved::Done(_)),
        "{username} exists"
    );
}

/// A tenant email's settings as the form sends them.
pub fn email_input(address: &str, authority: &str, secret: &str) -> TenantEmailInput {
    TenantEmailInput {
        address: address.into(),
        application_id: APP_ID.into(),
        client_secret: secret.into(),
        authority_url: authority.into(),
        ..TenantEmailInput::defaults()
    }
}

/// A new tenant; returns its id.
pub async fn tenant(p: &Prepared) -> String {
    p.backend
        .create_tenant(&actor(), &format!("T {}", uuid::Uuid::new_v4()))
        .await
        .unwrap()
        .id
}

/// A tenant email of `tenant_id` with a unique address and the given
/// direction (`send`, `receive`, `send_receive`); returns its id.
pub async fn mailbox_in(p: &Prepared, tenant_id: &str, direction: &str) -> String {
    let input = TenantEmailInput {
        direction: direction.into(),
        ..email_input(
            &format!("desk-{}@contoso.com", uuid::Uuid::new_v4().simple()),
            "https://login.microsoftonline.com/common",
            "fake-secret-for-tests",
        )
    };
    p.backend
        .create_tenant_email(&actor(), tenant_id, &input)
        .await
        .unwrap()
        .id
}

/// A new tenant with one tenant email: (tenant id, tenant email id).
pub async fn tenant_with_mailbox(p: &Prepared, direction: &str) -> (String, String) {
    let tenant_id = tenant(p).await;
    let email_id = mailbox_in(p, &tenant_id, direction).await;
    (tenant_id, email_id)
}

/// The body of `save_tenant_email` creating a tenant email.
pub fn save_email_body(tenant_id: &str, input: &TenantEmailInput) -> Value {
    json!({
        "tenant_id": tenant_id, "email_id": null, "version": null, "replace_secret": false,
        "input": input,
    })
}

/// A plain message to one recipient.
pub fn outgoing(subject: &str) -> OutgoingMessage {
    OutgoingMessage {
        to: vec!["customer@fabrikam.com".into()],
        subject: subject.into(),
        text_body: Some("Hello".into()),
        ..OutgoingMessage::default()
    }
}

/// Mail from Fabrikam's support to the Contoso mailbox, as the stand-in delivers it.
pub fn incoming(subject: &str) -> ms_stand_in::IncomingMail {
    ms_stand_in::IncomingMail {
        to_user: ms_stand_in::fixture::MAILBOX.into(),
        from: ms_stand_in::Address {
            name: "Fabrikam Support".into(),
            address: "support@fabrikam.example".into(),
        },
        subject: subject.into(),
        body: format!("Body of {subject}"),
        ..ms_stand_in::IncomingMail::default()
    }
}
