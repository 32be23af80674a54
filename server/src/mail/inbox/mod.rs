//! Receiving mail: the delta sync of a folder into storage (`db::inbox`),
//! the after-processing actions, and the text and download handling around
//! received mail.
mod actions;
mod attachments;
pub mod download;
pub mod inline;
mod rounds;
pub mod sync;
pub mod text;
