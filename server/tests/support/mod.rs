//! What the integration tests share: databases, fixtures, HTTP helpers, log
//! capture, and the [`Mailbox`] harness around the Microsoft stand-in.
//! Every test crate includes all of it and uses a part.
#![allow(dead_code, unused_imports)]
mod clock;
mod db;
mod fixtures;
mod http;
mod inventory;
pub mod logs;
mod mailbox;
pub mod process;
mod sign_in;

pub use clock::{now, ManualClock};
pub use db::{all, leptos_options, postgres, postgres_admin_url, prepare, private, sqlite, TestDb};
pub use fixtures::{
    actor, create_admin, email_input, incoming, mailbox_in, outgoing, save_email_body, tenant,
    tenant_with_mailbox, ADMIN_PASSWORD, ADMIN_USER, APP_ID,
};
pub use http::{browser, call, serve, Reply, ORIGIN};
pub use inventory::inventory_requests;
pub use mailbox::{Mailbox, StandInClock, Time};
pub use sign_in::{pass_sign_in, sign_in, signed_in_browser};
