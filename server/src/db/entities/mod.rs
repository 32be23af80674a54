//! SeaORM entities (what the code reads and writes; migrations define tables).
pub mod admin;
pub mod admin_session;
pub mod api_token;
pub mod audit_event;
pub mod graph_slot;
pub mod inbox_attachment;
pub mod inbox_message;
pub mod inbox_sync;
pub mod mailbox_connection;
pub mod oauth_flow;
pub mod outbox_attachment;
pub mod outbox_message;
pub mod setup_token;
pub mod tenant;
pub mod tenant_email;
