//! Receiving: the per-mailbox settings an admin edits (Receiving tab), their
//! validation, and what the Inbox screen and the host API show of received mail.
use super::fields;
use super::identifiers::validate_optional_date;
use serde::{Deserialize, Serialize};

mod arrival;
pub use arrival::{Arrival, InstantArrival};

pub const DEFAULT_FOLDER: &str = "inbox";
pub const DEFAULT_POLL_SECONDS: u32 = 60;
/// Graph allows 10,000 requests per 10 minutes per mailbox; 15 s leaves room
/// for sending and for paging through a busy folder.
pub const MIN_POLL_SECONDS: u32 = 15;
pub const MAX_POLL_SECONDS: u32 = 24 * 60 * 60;
const MAX_FOLDER_CHARS: usize = 255;

/// What happens to a message in the mailbox once Tenant Mail has stored it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AfterProcessing {
    Leave,
    MarkRead,
    Move,
}

impl AfterProcessing {
    pub const ALL: &'static [AfterProcessing] = &[
        AfterProcessing::Leave,
        AfterProcessing::MarkRead,
        AfterProcessing::Move,
    ];
    pub fn code(self) -> &'static str {
        match self {
            AfterProcessing::Leave => "leave",
            AfterProcessing::MarkRead => "mark_read",
            AfterProcessing::Move => "move",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            AfterProcessing::Leave => "Leave it as it is",
            AfterProcessing::MarkRead => "Mark it as read",
            AfterProcessing::Move => "Move it to a folder",
        }
    }
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|a| a.code() == code)
    }
}

/// The Receiving tab's fields, as typed (numbers and dates stay text so a bad
/// value can be explained instead of silently dropped).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceivingInput {
    /// A well-known folder name (`inbox`, `archive`…) or a Graph folder id.
    pub folder: String,
    pub after_processing: String,
    /// Destination for [`AfterProcessing::Move`].
    pub move_to_folder: String,
    pub poll_interval_seconds: String,
    /// `YYYY-MM-DDTHH:MM` in UTC; empty = from the moment receiving starts.
    pub import_since: String,
    /// [`Arrival`]'s code.
    #[serde(default = "poll_code")]
    pub arrival: String,
}

fn poll_code() -> String {
    Arrival::Poll.code().into()
}

impl Default for ReceivingInput {
    fn default() -> Self {
        Self {
            folder: DEFAULT_FOLDER.into(),
            after_processing: AfterProcessing::Leave.code().into(),
            move_to_folder: String::new(),
            poll_interval_seconds: DEFAULT_POLL_SECONDS.to_string(),
            import_since: String::new(),
            arrival: poll_code(),
        }
    }
}

impl ReceivingInput {
    pub fn trimmed(&self) -> Self {
        Self {
            folder: self.folder.trim().into(),
            after_processing: self.after_processing.trim().into(),
            move_to_folder: self.move_to_folder.trim().into(),
            poll_interval_seconds: self.poll_interval_seconds.trim().into(),
            import_since: self.import_since.trim().into(),
            arrival: self.arrival.trim().into(),
        }
    }
    pub fn after(&self) -> AfterProcessing {
        AfterProcessing::from_code(&self.after_processing).unwrap_or(AfterProcessing::Leave)
    }
    pub fn arrival(&self) -> Arrival {
        Arrival::from_code(self.arrival.trim()).unwrap_or(Arrival::Poll)
    }
    /// The interval once validated (the default if unreadable).
    pub fn poll_seconds(&self) -> u32 {
        self.poll_interval_seconds
            .trim()
            .parse()
            .unwrap_or(DEFAULT_POLL_SECONDS)
    }
}

fn validate_folder(value: &str, what: &str) -> Result<(), String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(format!(
            "Enter the {what}: a folder name such as inbox or archive, or a folder id."
        ));
    }
    if v.chars().count() > MAX_FOLDER_CHARS {
        return Err(format!(
            "A folder id is at most {MAX_FOLDER_CHARS} characters."
        ));
    }
    if v.contains(['/', '\\', '?', '#']) || v.chars().any(char::is_whitespace) {
        return Err(
            "Use a well-known folder name (inbox, archive, deleteditems…) or a folder id; paths and spaces are not folder ids."
                .into(),
        );
    }
    Ok(())
}

fn validate_import_since(value: &str) -> Result<(), String> {
    let v = value.trim();
    if v.is_empty() {
        return Ok(());
    }
    let (date, time) = v
        .split_once('T')
        .or_else(|| v.split_once(' '))
        .ok_or_else(|| "Enter the start as YYYY-MM-DDTHH:MM (UTC).".to_string())?;
    validate_optional_date(date)?;
    let hm: Vec<&str> = time.split(':').collect();
    let ok = hm.len() == 2
        && hm
            .iter()
            .all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_digit()))
        && hm[0].parse::<u32>().is_ok_and(|h| h < 24)
        && hm[1].parse::<u32>().is_ok_and(|m| m < 60);
    if !ok {
        return Err("Enter the time as HH:MM (UTC).".into());
    }
    Ok(())
}

/// Validates one field of the Receiving tab. `receives` is false for a
/// send-only mailbox, whose receiving settings are kept but not checked.
pub fn validate_field(field: &str, input: &ReceivingInput, receives: bool) -> Result<(), String> {
    if !receives {
        return Ok(());
    }
    match field {
        fields::RECEIVE_FOLDER => validate_folder(&input.folder, "folder to receive from"),
        fields::AFTER_PROCESSING => AfterProcessing::from_code(&input.after_processing)
            .map(|_| ())
            .ok_or_else(|| "Choose what happens to a message once it is received.".into()),
        fields::MOVE_TO_FOLDER => {
            if input.after() != AfterProcessing::Move {
                return Ok(());
            }
            validate_folder(&input.move_to_folder, "folder to move received mail to")?;
            if input
                .move_to_folder
                .trim()
                .eq_ignore_ascii_case(input.folder.trim())
            {
                return Err("Moving a message into the folder it is received from does nothing; choose another folder.".into());
            }
            Ok(())
        }
        fields::POLL_INTERVAL => match input.poll_interval_seconds.trim().parse::<u32>() {
            Ok(s) if (MIN_POLL_SECONDS..=MAX_POLL_SECONDS).contains(&s) => Ok(()),
            Ok(_) => Err(format!(
                "Check between every {MIN_POLL_SECONDS} seconds and once a day ({MAX_POLL_SECONDS} seconds)."
            )),
            Err(_) => Err("Enter the interval in whole seconds, e.g. 60.".into()),
        },
        fields::IMPORT_SINCE => validate_import_since(&input.import_since),
        fields::ARRIVAL => Arrival::from_code(input.arrival.trim())
            .map(|_| ())
            .ok_or_else(|| "Choose how new mail is noticed.".into()),
        _ => Ok(()),
    }
}

pub const RECEIVING_FIELDS: &[&str] = &[
    fields::RECEIVE_FOLDER,
    fields::AFTER_PROCESSING,
    fields::MOVE_TO_FOLDER,
    fields::POLL_INTERVAL,
    fields::IMPORT_SINCE,
    fields::ARRIVAL,
];

/// Where a received message's after-processing action stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ActionState {
    /// Nothing to do (the mailbox leaves mail as it is).
    None,
    Pending,
    Done,
    Failed,
}

impl ActionState {
    pub fn code(self) -> &'static str {
        match self {
            ActionState::None => "none",
            ActionState::Pending => "pending",
            ActionState::Done => "done",
            ActionState::Failed => "failed",
        }
    }
    pub fn from_code(code: &str) -> Option<Self> {
        [
            ActionState::None,
            ActionState::Pending,
            ActionState::Done,
            ActionState::Failed,
        ]
        .into_iter()
        .find(|s| s.code() == code)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MailAddress {
    #[serde(default)]
    pub name: String,
    pub address: String,
}

impl MailAddress {
    /// "Name <address>", or the address alone.
    pub fn display(&self) -> String {
        if self.name.trim().is_empty() || self.name == self.address {
            self.address.clone()
        } else {
            format!("{} <{}>", self.name, self.address)
        }
    }
}

/// One row of the Inbox list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceivedSummary {
    pub id: String,
    /// Position in this mailbox's stream of received mail (the host API's cursor).
    pub seq: i64,
    pub from: Option<MailAddress>,
    pub subject: String,
    /// RFC 3339.
    pub received_at: String,
    pub attachment_count: u32,
    pub action: ActionState,
    pub acknowledged: bool,
    /// Deleted or moved out of the folder in the mailbox since it was received.
    pub left_folder: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ReceivedAttachment {
    pub id: String,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub is_inline: bool,
}

/// A received message as the reader shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceivedMessage {
    pub summary: ReceivedSummary,
    pub to: Vec<MailAddress>,
    pub cc: Vec<MailAddress>,
    pub reply_to: Vec<MailAddress>,
    pub internet_message_id: String,
    pub body_text: String,
    /// The HTML body with scripts, styles, remote content and event handlers
    /// removed, its inline images (`cid:`) carried along as `data:` URIs;
    /// shown in a sandboxed frame. `None` for a text-only message.
    pub safe_html: Option<String>,
    /// Remote images the HTML had, not loaded (they could tell the sender
    /// that the message was opened).
    pub remote_images: u32,
    /// Microsoft's thread id (`conversationId`), when kept.
    pub conversation_id: Option<String>,
    /// `low`, `normal` or `high`.
    pub importance: String,
    /// The Message-ID it answers (`In-Reply-To`).
    pub in_reply_to: Option<String>,
    /// The received message with that Message-ID, when this mailbox has it
    /// (id, subject): the reader links to it.
    pub in_reply_to_message: Option<(String, String)>,
    pub attachments: Vec<ReceivedAttachment>,
    pub action_error: Option<String>,
}

/// A folder of the mailbox, for the Receiving tab's folder picker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailFolder {
    /// Graph's folder id: what is stored.
    pub id: String,
    /// The names from the top, e.g. `["Inbox", "Tickets"]`.
    pub path: Vec<String>,
}

impl MailFolder {
    /// "Inbox / Tickets".
    pub fn display(&self) -> String {
        self.path.join(" / ")
    }
}

/// The mailbox's folders, as far as they were listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailFolders {
    pub folders: Vec<MailFolder>,
    /// Some were left out (too many, or nested too deep).
    pub truncated: bool,
}

/// How receiving stands for one mailbox (Inbox header).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxStatus {
    pub tenant_email_id: String,
    pub tenant_id: String,
    pub address: String,
    /// False for a send-only mailbox.
    pub receives: bool,
    pub connected: bool,
    pub folder: String,
    pub poll_interval_seconds: u32,
    /// RFC 3339; `None` before the first sync.
    pub last_sync_at: Option<String>,
    pub last_error: Option<String>,
    /// Sync now was clicked and has not run yet.
    pub sync_requested: bool,
    /// RFC 3339: mail received before this is not imported.
    pub import_since: Option<String>,
    pub total: u64,
    /// Near-instant arrival, when the mailbox asks for it.
    #[serde(default)]
    pub instant: Option<InstantArrival>,
}

/// A page of the Inbox, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxPage {
    pub status: InboxStatus,
    pub messages: Vec<ReceivedSummary>,
    /// Pass as `before` for the next (older) page.
    pub older: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> ReceivingInput {
        ReceivingInput::default()
    }

    fn check(i: &ReceivingInput, field: &str) -> Result<(), String> {
        validate_field(field, i, true)
    }

    #[test]
    fn defaults_are_valid() {
        for f in RECEIVING_FIELDS {
            assert_eq!(check(&input(), f), Ok(()), "{f}");
        }
    }

    #[test]
    fn poll_interval_bounds() {
        let mut i = input();
        for (v, ok) in [
            ("15", true),
            ("14", false),
            ("86400", true),
            ("86401", false),
            ("1m", false),
            ("", false),
            ("-5", false),
        ] {
            i.poll_interval_seconds = v.into();
            assert_eq!(check(&i, fields::POLL_INTERVAL).is_ok(), ok, "{v}");
        }
    }

    #[test]
    fn move_needs_a_different_folder() {
        let mut i = input();
        i.after_processing = "move".into();
        assert!(check(&i, fields::MOVE_TO_FOLDER).is_err(), "empty");
        i.move_to_folder = "Inbox".into();
        assert!(check(&i, fields::MOVE_TO_FOLDER).is_err(), "same folder");
        i.move_to_folder = "archive".into();
        assert_eq!(check(&i, fields::MOVE_TO_FOLDER), Ok(()));
        i.move_to_folder = "Processed mail/2026".into();
        assert!(check(&i, fields::MOVE_TO_FOLDER).is_err(), "a path");
        i.after_processing = "leave".into();
        assert_eq!(
            check(&i, fields::MOVE_TO_FOLDER),
            Ok(()),
            "ignored unless moving"
        );
    }

    #[test]
    fn import_since_format() {
        let mut i = input();
        for (v, ok) in [
            ("", true),
            ("2026-11-27T09:30", true),
            ("2026-11-27 09:30", true),
            ("2026-02-30T09:30", false),
            ("2026-11-27T24:00", false),
            ("2026-11-27", false),
            ("yesterday", false),
        ] {
            i.import_since = v.into();
            assert_eq!(check(&i, fields::IMPORT_SINCE).is_ok(), ok, "{v}");
        }
    }

    #[test]
    fn send_only_mailboxes_are_not_checked() {
        let mut i = input();
        i.poll_interval_seconds = "nope".into();
        assert_eq!(validate_field(fields::POLL_INTERVAL, &i, false), Ok(()));
    }

    #[test]
    fn unknown_action_is_refused() {
        let mut i = input();
        i.after_processing = "forward".into();
        assert!(check(&i, fields::AFTER_PROCESSING).is_err());
    }
}
