//! Receiving mail: delta sync of a folder into the database, after-processing
//! actions, and the settings and text handling around them.
pub mod download;
pub mod settings;
pub mod store;
pub mod sync;
pub mod text;
pub mod view;
