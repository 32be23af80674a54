//! Sending. The queue itself is `db::outbox` (a message is committed before
//! anyone is told "queued"); here: what a message must be to enter it
//! ([`enqueue`]), the workers that send through Graph ([`worker`], [`send`]),
//! and how a queued message is shown ([`view`]).
pub mod enqueue;
mod recent_tokens;
mod send;
pub mod view;
pub mod worker;
