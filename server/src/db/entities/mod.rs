//! SeaORM entities (what the code reads and writes; migrations define tables).
pub mod mailbox_connection;
pub mod oauth_flow;
pub mod tenant;
pub mod tenant_email;
