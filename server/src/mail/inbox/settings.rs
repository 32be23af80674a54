//! The Receiving settings between the form (text, as typed) and the
//! `tenant_email` columns (typed, always usable by the sync).
use crate::db::entities::tenant_email;
use app::model::inbox::{AfterProcessing, ReceivingInput, DEFAULT_FOLDER};
use chrono::{DateTime, NaiveDateTime, Utc};

/// `YYYY-MM-DDTHH:MM` (or with a space), read as UTC.
pub fn parse_import_since(value: &str) -> Option<DateTime<Utc>> {
    let v = value.trim().replace(' ', "T");
    NaiveDateTime::parse_from_str(&v, "%Y-%m-%dT%H:%M")
        .ok()
        .map(|t| t.and_utc())
}

pub fn format_import_since(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M").to_string()
}

/// What is stored for a (validated) form. A send-only mailbox's form is not
/// validated, so anything unreadable falls back to the defaults here.
pub struct Stored {
    pub folder: String,
    pub after_processing: String,
    pub move_to_folder: Option<String>,
    pub poll_interval_seconds: i32,
    pub import_since: Option<DateTime<Utc>>,
}

pub fn stored(input: &ReceivingInput) -> Stored {
    let r = input.trimmed();
    let after = AfterProcessing::from_code(&r.after_processing).unwrap_or(AfterProcessing::Leave);
    Stored {
        folder: if r.folder.is_empty() {
            DEFAULT_FOLDER.to_string()
        } else {
            r.folder.clone()
        },
        after_processing: after.code().to_string(),
        move_to_folder: Some(r.move_to_folder.clone()).filter(|f| !f.is_empty()),
        poll_interval_seconds: i32::try_from(r.poll_seconds()).unwrap_or(i32::MAX),
        import_since: parse_import_since(&r.import_since),
    }
}

pub fn receiving_input(m: &tenant_email::Model) -> ReceivingInput {
    ReceivingInput {
        folder: m.receive_folder.clone(),
        after_processing: m.after_processing.clone(),
        move_to_folder: m.move_to_folder.clone().unwrap_or_default(),
        poll_interval_seconds: m.poll_interval_seconds.to_string(),
        import_since: m.import_since.map(format_import_since).unwrap_or_default(),
    }
}

/// Whether a save changed anything on the Receiving tab (for the audit entry).
pub fn changed(m: &tenant_email::Model, input: &ReceivingInput) -> bool {
    let s = stored(input);
    m.receive_folder != s.folder
        || m.after_processing != s.after_processing
        || m.move_to_folder != s.move_to_folder
        || m.poll_interval_seconds != s.poll_interval_seconds
        || m.import_since != s.import_since
}
