//! The demo directory (`--seed-demo`): one tenant, one app registration without consent, three users,
//! two of them already signed in to the browser so the account picker shows.

use crate::control::{Control, ControlError};
use crate::model::{Address, IncomingMail, NewApp, NewSecret, NewTenant, NewUser};

pub const TENANT_ID: &str = "3f8c2b1e-5d4a-4c6b-9e7f-1a2b3c4d5e6f";
pub const DOMAIN: &str = "contoso.onmicrosoft.com";
pub const CLIENT_ID: &str = "8d6a1c2e-0b3f-4e5d-a7c9-2f1e0d9c8b7a";
pub const SECRET_VALUE: &str = "demo~SecretValue.0123456789abcdefABCDEF";
pub const SECRET_ID: &str = "6b1f4e2a-9c3d-4a5b-8e7f-0a1b2c3d4e5f";
pub const REDIRECT_URIS: [&str; 2] = [
    "http://127.0.0.1:3000/core/oauth2/validated",
    "http://localhost:3000/core/oauth2/validated",
];

pub fn seed(control: &Control) -> Result<(), ControlError> {
    control.add_tenant(NewTenant {
        id: Some(TENANT_ID.to_owned()),
        domains: vec![DOMAIN.to_owned(), "contoso.com".to_owned()],
        display_name: Some("Contoso".to_owned()),
    })?;
    control.add_app(NewApp {
        client_id: Some(CLIENT_ID.to_owned()),
        tenant_id: TENANT_ID.to_owned(),
        display_name: Some("Tenant Mail (demo)".to_owned()),
        redirect_uris: REDIRECT_URIS.iter().map(|s| (*s).to_owned()).collect(),
        secrets: vec![NewSecret {
            value: Some(SECRET_VALUE.to_owned()),
            id: Some(SECRET_ID.to_owned()),
            expires_at: None,
        }],
        api_permissions: Vec::new(),
    })?;
    for (oid, upn, mail, name) in [
        (
            "0a1b2c3d-0000-4000-8000-000000000001",
            "admin@contoso.com",
            Some("admin@contoso.com"),
            "Adele Admin",
        ),
        (
            "0a1b2c3d-0000-4000-8000-000000000002",
            "noreply@contoso.com",
            Some("noreply@contoso.com"),
            "Contoso Notifications",
        ),
        (
            "0a1b2c3d-0000-4000-8000-000000000003",
            "megan@contoso.com",
            Some("megan@contoso.com"),
            "Megan Bowen",
        ),
    ] {
        control.add_user(NewUser {
            tenant_id: TENANT_ID.to_owned(),
            oid: Some(oid.to_owned()),
            upn: upn.to_owned(),
            mail: mail.map(str::to_owned),
            display_name: Some(name.to_owned()),
            password: None,
            proxy_addresses: None,
        })?;
    }
    control.set_signed_in(&[
        "admin@contoso.com".to_owned(),
        "megan@contoso.com".to_owned(),
    ])?;
    control.deliver(IncomingMail {
        to_user: "noreply@contoso.com".to_owned(),
        from: Address {
            name: "Fabrikam Support".to_owned(),
            address: "support@fabrikam.example".to_owned(),
        },
        subject: "Welcome to the demo mailbox".to_owned(),
        body: "This message was delivered by the stand-in's demo seed.".to_owned(),
        ..IncomingMail::default()
    })?;
    Ok(())
}
