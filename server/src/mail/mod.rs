//! Sending mail through Microsoft Graph on behalf of a connected mailbox.
pub mod graph;
