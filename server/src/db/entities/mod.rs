//! SeaORM entities (what the code reads and writes; migrations define tables).
pub mod tenant;
pub mod tenant_email;
