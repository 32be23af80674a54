//! Receiving mail: the delta sync of a folder into storage (`db::inbox`),
//! the after-processing actions, and the text and download handling around
//! received mail, and the change-notification subscription that makes
//! arrival near-instant.
mod actions;
mod answers;
mod attachments;
pub mod download;
pub mod inline;
mod notify;
mod rounds;
pub mod sync;
pub mod text;
