//! Mail through Microsoft Graph: the Graph client (one attempt per call; the
//! callers decide about retries), the outbox (sending) and the per-mailbox
//! request slots shared by everything that calls Graph for a mailbox.
pub mod graph;
pub mod inbox;
pub mod outbox;
pub mod slots;
