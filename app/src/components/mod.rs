//! Reusable views.
pub mod copy_button;
pub mod error_banner;
pub mod field;
pub mod inline_confirm;
pub mod live;
pub mod status_badge;
pub mod tabs;
