//! The directory most tests need: tenant Contoso, one app registration with a
//! valid and an expired secret, a mailbox and an admin account. Shared by the
//! stand-in's own tests and Tenant Mail's connect tests so both speak of the
//! same ids.
use crate::{Control, ControlError, NewApp, NewSecret, NewTenant, NewUser, User};

pub const TENANT: &str = "11111111-2222-4333-8444-555555555555";
pub const CLIENT: &str = "c1c1c1c1-0000-4000-8000-000000000001";
pub const SECRET: &str = "secret-value~1";
pub const SECRET_ID: &str = "5ec7e7e7-0000-4000-8000-000000000001";
pub const EXPIRED_SECRET: &str = "secret-value~expired";
pub const MAILBOX: &str = "mailbox@contoso.com";
pub const ADMIN: &str = "admin@contoso.com";

/// The two users Contoso has.
pub struct Contoso {
    pub mailbox: User,
    pub admin: User,
}

/// Registers Contoso with `redirect_uri` on its app.
pub fn seed_contoso(control: &Control, redirect_uri: &str) -> Result<Contoso, ControlError> {
    control.add_tenant(NewTenant {
        id: Some(TENANT.into()),
        domains: vec!["contoso.com".into()],
        display_name: Some("Contoso".into()),
    })?;
    let now = control.now();
    control.add_app(NewApp {
        client_id: Some(CLIENT.into()),
        tenant_id: TENANT.into(),
        display_name: Some("Tenant Mail".into()),
        redirect_uris: vec![redirect_uri.into()],
        secrets: vec![
            NewSecret {
                value: Some(SECRET.into()),
                id: Some(SECRET_ID.into()),
                expires_at: None,
            },
            NewSecret {
                value: Some(EXPIRED_SECRET.into()),
                id: None,
                expires_at: Some(now - 1),
            },
        ],
        api_permissions: vec![],
    })?;
    let mailbox = control.add_user(NewUser {
        tenant_id: TENANT.into(),
        oid: None,
        upn: MAILBOX.into(),
        mail: Some(MAILBOX.into()),
        display_name: Some("Contoso Mail".into()),
        password: None,
        proxy_addresses: None,
    })?;
    let admin = control.add_user(NewUser {
        tenant_id: TENANT.into(),
        oid: None,
        upn: ADMIN.into(),
        mail: None,
        display_name: Some("Adele Admin".into()),
        password: None,
        proxy_addresses: None,
    })?;
    Ok(Contoso { mailbox, admin })
}
