//! One file per schema change, never importing entities (a migration must
//! keep meaning what it meant when it was written).
use sea_orm_migration::prelude::*;

mod m20261127_000001_create_tenant;
mod m20261127_000002_create_tenant_email;
mod m20261127_000003_create_oauth_flow_and_connection;
mod m20261127_000004_connection_refresh_lease;
mod m20261127_000005_oauth_flow_iss_required;
mod m20261127_000006_admins_sessions_audit;
mod m20261127_000007_outbox;
mod m20261127_000008_api_token;
mod m20261127_000009_inbox;
mod m20261127_000010_sign_in_throttle;
mod m20261206_000011_connection_tenant_name;
mod m20261207_000012_alerts;
mod m20261207_000013_inbox_blobs;
mod m20261207_000014_inbox_content_id;
mod m20261207_000015_inbox_thread;
mod m20261207_000016_inbox_replies;
mod m20261207_000017_graph_subscriptions;
mod m20261208_000018_tenant_email_cloud;
mod m20261208_000019_shared_mailbox_delegate;
mod m20261208_000020_certificate_credentials;
mod m20261208_000021_next_client_secret;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261127_000001_create_tenant::Migration),
            Box::new(m20261127_000002_create_tenant_email::Migration),
            Box::new(m20261127_000003_create_oauth_flow_and_connection::Migration),
            Box::new(m20261127_000004_connection_refresh_lease::Migration),
            Box::new(m20261127_000005_oauth_flow_iss_required::Migration),
            Box::new(m20261127_000006_admins_sessions_audit::Migration),
            Box::new(m20261127_000007_outbox::Migration),
            Box::new(m20261127_000008_api_token::Migration),
            Box::new(m20261127_000009_inbox::Migration),
            Box::new(m20261127_000010_sign_in_throttle::Migration),
            Box::new(m20261206_000011_connection_tenant_name::Migration),
            Box::new(m20261207_000012_alerts::Migration),
            Box::new(m20261207_000013_inbox_blobs::Migration),
            Box::new(m20261207_000014_inbox_content_id::Migration),
            Box::new(m20261207_000015_inbox_thread::Migration),
            Box::new(m20261207_000016_inbox_replies::Migration),
            Box::new(m20261207_000017_graph_subscriptions::Migration),
            Box::new(m20261208_000018_tenant_email_cloud::Migration),
            Box::new(m20261208_000019_shared_mailbox_delegate::Migration),
            Box::new(m20261208_000020_certificate_credentials::Migration),
            Box::new(m20261208_000021_next_client_secret::Migration),
        ]
    }
}
