//! A tenant email's settings as the server works with them: enums, dates and
//! numbers parsed once, from the form's text (`TenantEmailInput`, the wire
//! format) or from the row, and turned back into the form's text for the
//! editor.
use app::model::inbox::{
    AfterProcessing, Arrival, ReceivingInput, DEFAULT_FOLDER, DEFAULT_POLL_SECONDS,
};
use app::model::{fields, AccountType, Cloud, Direction, FieldErrors, TenantEmailInput};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

/// What an admin configures for a mailbox (the secret aside: it is write-only
/// and travels separately).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxSettings {
    pub account_type: AccountType,
    pub address: String,
    pub direction: Direction,
    /// A shared mailbox's delegate (who signs in); `None` for other types.
    pub delegate: Option<String>,
    pub cloud: Cloud,
    pub application_id: String,
    /// The client secret's expiry date, as the admin entered it.
    pub secret_expires_on: Option<NaiveDate>,
    pub authority_url: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub scopes: String,
    pub receiving: Receiving,
}

/// The Receiving tab, typed and always usable by the sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receiving {
    /// A well-known folder name or a Graph folder id.
    pub folder: String,
    pub after: AfterProcessing,
    pub move_to_folder: Option<String>,
    pub poll_interval_seconds: u32,
    /// Mail received before this is not imported; `None`: from when receiving starts.
    pub import_since: Option<DateTime<Utc>>,
    pub arrival: Arrival,
}

impl Default for Receiving {
    fn default() -> Self {
        Self {
            folder: DEFAULT_FOLDER.into(),
            after: AfterProcessing::Leave,
            move_to_folder: None,
            poll_interval_seconds: DEFAULT_POLL_SECONDS,
            import_since: None,
            arrival: Arrival::Poll,
        }
    }
}

const DATE: &str = "%Y-%m-%d";
const MINUTE: &str = "%Y-%m-%dT%H:%M";

/// `YYYY-MM-DDTHH:MM` (or with a space), read as UTC.
pub fn parse_import_since(value: &str) -> Option<DateTime<Utc>> {
    let v = value.trim().replace(' ', "T");
    NaiveDateTime::parse_from_str(&v, MINUTE)
        .ok()
        .map(|t| t.and_utc())
}

impl MailboxSettings {
    /// Parses a form that `app::model::tenant_email::validate` accepted. An
    /// account type or direction it does not know is refused with the
    /// field's name (validation makes that unreachable from the browser).
    pub fn from_input(input: &TenantEmailInput) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let account_type = AccountType::from_code(input.account_type.trim());
        if account_type.is_none() {
            errors.add(fields::ACCOUNT_TYPE, "Choose an account type.");
        }
        let direction = Direction::from_code(input.direction.trim());
        if direction.is_none() {
            errors.add(
                fields::DIRECTION,
                "Choose whether this mailbox sends, receives, or both.",
            );
        }
        let cloud = Cloud::from_code(input.cloud.trim());
        if cloud.is_none() {
            errors.add(
                fields::CLOUD,
                "Choose the Microsoft cloud this mailbox is in.",
            );
        }
        let (Some(account_type), Some(direction), Some(cloud)) = (account_type, direction, cloud)
        else {
            return Err(errors);
        };
        Ok(Self {
            account_type,
            address: input.address.trim().to_string(),
            direction,
            delegate: Some(input.delegate.trim().to_string())
                .filter(|d| !d.is_empty() && account_type == AccountType::Microsoft365Shared),
            cloud,
            application_id: input.application_id.trim().to_string(),
            secret_expires_on: NaiveDate::parse_from_str(input.secret_expires_on.trim(), DATE).ok(),
            authority_url: input.authority_url.trim().to_string(),
            authorization_endpoint: input.authorization_endpoint.trim().to_string(),
            token_endpoint: input.token_endpoint.trim().to_string(),
            scopes: input.scopes.clone(),
            receiving: Receiving::from_input(&input.receiving),
        })
    }

    /// The form's text for these settings; the secret field is always empty
    /// (write-only: the browser never gets it back, sealed or not).
    pub fn to_input(&self) -> TenantEmailInput {
        TenantEmailInput {
            account_type: self.account_type.code().to_string(),
            address: self.address.clone(),
            direction: self.direction.code().to_string(),
            delegate: self.delegate.clone().unwrap_or_default(),
            cloud: self.cloud.code().to_string(),
            application_id: self.application_id.clone(),
            // The row says which credential is in use (see the editor's view).
            credential: app::model::tenant_email::CREDENTIAL_SECRET.into(),
            client_secret: String::new(),
            secret_expires_on: self
                .secret_expires_on
                .map(|d| d.format(DATE).to_string())
                .unwrap_or_default(),
            authority_url: self.authority_url.clone(),
            authorization_endpoint: self.authorization_endpoint.clone(),
            token_endpoint: self.token_endpoint.clone(),
            scopes: self.scopes.clone(),
            receiving: self.receiving.to_input(),
        }
    }

    /// The account that signs in at Microsoft: a shared mailbox's delegate,
    /// otherwise the mailbox itself.
    pub fn signs_in_as(&self) -> &str {
        self.delegate.as_deref().unwrap_or(&self.address)
    }

    /// The authority without a trailing slash: how flows and connections store it.
    pub fn authority(&self) -> &str {
        self.authority_url.trim_end_matches('/')
    }

    /// The names of the fields that differ (for the audit log; values of
    /// secrets never appear because they are not settings).
    pub fn changed_fields(&self, new: &MailboxSettings) -> Vec<&'static str> {
        let checks = [
            ("account type", self.account_type != new.account_type),
            ("address", self.address != new.address),
            ("direction", self.direction != new.direction),
            ("cloud", self.cloud != new.cloud),
            ("delegate", self.delegate != new.delegate),
            ("application id", self.application_id != new.application_id),
            ("authority", self.authority_url != new.authority_url),
            (
                "authorization endpoint",
                self.authorization_endpoint != new.authorization_endpoint,
            ),
            ("token endpoint", self.token_endpoint != new.token_endpoint),
            ("scopes", self.scopes != new.scopes),
            ("receiving settings", self.receiving != new.receiving),
            (
                "secret expiry date",
                self.secret_expires_on != new.secret_expires_on,
            ),
        ];
        checks
            .into_iter()
            .filter(|(_, differs)| *differs)
            .map(|(name, _)| name)
            .collect()
    }
}

impl Receiving {
    /// A send-only mailbox's Receiving tab is not validated, so anything
    /// unreadable falls back to the defaults here.
    pub fn from_input(input: &ReceivingInput) -> Self {
        let r = input.trimmed();
        Self {
            folder: if r.folder.is_empty() {
                DEFAULT_FOLDER.to_string()
            } else {
                r.folder.clone()
            },
            after: r.after(),
            move_to_folder: Some(r.move_to_folder.clone()).filter(|f| !f.is_empty()),
            poll_interval_seconds: r.poll_seconds(),
            import_since: parse_import_since(&r.import_since),
            arrival: r.arrival(),
        }
    }

    pub fn to_input(&self) -> ReceivingInput {
        ReceivingInput {
            folder: self.folder.clone(),
            after_processing: self.after.code().to_string(),
            move_to_folder: self.move_to_folder.clone().unwrap_or_default(),
            poll_interval_seconds: self.poll_interval_seconds.to_string(),
            import_since: self
                .import_since
                .map(|t| t.format(MINUTE).to_string())
                .unwrap_or_default(),
            arrival: self.arrival.code().to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_round_trips_through_the_settings() {
        let mut input = TenantEmailInput {
            address: " desk@contoso.com ".into(),
            application_id: "79c6ff55-b7e0-4517-bfd7-b4fffb6fee40".into(),
            secret_expires_on: "2027-03-01".into(),
            ..TenantEmailInput::defaults()
        };
        input.receiving.import_since = "2026-12-01 08:30".into();
        input.receiving.after_processing = "move".into();
        input.receiving.move_to_folder = "archive".into();
        input.receiving.arrival = "notify".into();
        let s = MailboxSettings::from_input(&input).unwrap();
        assert_eq!(s.receiving.arrival, Arrival::Notify);
        assert_eq!(s.address, "desk@contoso.com");
        assert_eq!(s.secret_expires_on, NaiveDate::from_ymd_opt(2027, 3, 1));
        assert_eq!(s.receiving.after, AfterProcessing::Move);
        assert_eq!(
            s.receiving.import_since.map(|t| t.to_rfc3339()),
            Some("2026-12-01T08:30:00+00:00".into())
        );
        let back = s.to_input();
        assert_eq!(back.receiving.import_since, "2026-12-01T08:30");
        assert_eq!(back.receiving.arrival, "notify");
        assert_eq!(MailboxSettings::from_input(&back).unwrap(), s);
    }

    #[test]
    fn unknown_codes_name_their_field_and_bad_receiving_values_fall_back() {
        let input = TenantEmailInput {
            account_type: "imap".into(),
            direction: "sideways".into(),
            ..TenantEmailInput::defaults()
        };
        let errors = MailboxSettings::from_input(&input).unwrap_err();
        assert!(errors.0.contains_key(fields::ACCOUNT_TYPE));
        assert!(errors.0.contains_key(fields::DIRECTION));
        let receiving = Receiving::from_input(&ReceivingInput {
            folder: " ".into(),
            after_processing: "shred".into(),
            poll_interval_seconds: "often".into(),
            import_since: "yesterday".into(),
            move_to_folder: String::new(),
            arrival: "telepathy".into(),
        });
        assert_eq!(receiving, Receiving::default());
    }

    #[test]
    fn changes_are_named_by_field() {
        let a = MailboxSettings::from_input(&TenantEmailInput::defaults()).unwrap();
        let mut b = a.clone();
        b.scopes.push_str(" mail.send");
        b.receiving.poll_interval_seconds = 300;
        assert_eq!(a.changed_fields(&b), vec!["scopes", "receiving settings"]);
        assert!(a.changed_fields(&a).is_empty());
    }
}
