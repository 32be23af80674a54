//! Mail through Microsoft Graph: the outbox (sending) and the per-mailbox
//! request slots shared by everything that calls Graph for a mailbox.
pub mod outbox;
pub mod slots;
