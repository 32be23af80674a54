//! For the storage modules' own unit tests: a store on a private in-memory
//! SQLite database with the real migrations, and the rows most tests need.
use super::tenant_emails::{MailboxSettings, TenantEmail};
use super::{Saved, Store};
use crate::clock::{Clock, ManualClock};
use crate::secrets::KeyRing;
use app::model::TenantEmailInput;
use app::port::Actor;
use sea_orm::{ConnectOptions, Database};
use sea_orm_migration::MigratorTrait;
use std::sync::Arc;

/// A store on a fresh in-memory database whose clock the test moves.
pub async fn store() -> (Store, Arc<ManualClock>) {
    let clock = ManualClock::at("2026-12-01T08:00:00Z");
    let mut options = ConnectOptions::new("sqlite::memory:".to_string());
    // One connection: every `:memory:` connection would be a database of its own.
    options
        .sqlx_logging(false)
        .max_connections(1)
        .min_connections(1)
        .map_sqlx_sqlite_opts(|o| o.foreign_keys(true));
    let conn = Database::connect(options).await.unwrap();
    super::migrations::Migrator::up(&conn, None).await.unwrap();
    let keys = Arc::new(KeyRing::from_bytes(&[7u8; 32]));
    let as_clock: Arc<dyn Clock> = clock.clone();
    (Store::new(conn, keys, as_clock), clock)
}

pub fn admin() -> Actor {
    Actor {
        admin_id: Some("a1".into()),
        username: "tester".into(),
        ..Actor::default()
    }
}

/// A tenant with one tenant email of `address` (`direction`: send,
/// receive, send_receive).
pub async fn mailbox(store: &Store, address: &str, direction: &str) -> TenantEmail {
    let tenant = store.tenants().create(&admin(), "Contoso").await.unwrap();
    let input = TenantEmailInput {
        address: address.into(),
        direction: direction.into(),
        application_id: "79c6ff55-b7e0-4517-bfd7-b4fffb6fee40".into(),
        ..TenantEmailInput::defaults()
    };
    let settings = MailboxSettings::from_input(&input).unwrap();
    match store
        .tenant_emails()
        .create(&admin(), &tenant.id, &settings, "a secret value")
        .await
        .unwrap()
    {
        Saved::Done(e) => e,
        other => panic!("{other:?}"),
    }
}
