//! Tenant emails: the mailbox an application uses, and its OAuth2 settings.
use super::authority::{self, AuthorityPolicy};
use super::cloud::Cloud;
use super::errors::FieldErrors;
use super::inbox::{self, ReceivingInput};
use super::{fields, identifiers, scopes};
use serde::{Deserialize, Serialize};

mod kinds;
mod views;

pub use kinds::{AccountType, ConnectionStatus, Direction};
pub use views::{
    CertificateView, EditorContext, EmailEditorParts, MailActivity, NextSecretView,
    TenantEmailSummary, TenantEmailView,
};

/// What the browser submits on Save. `client_secret` is write-only: empty
/// means "keep the stored one" when editing.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantEmailInput {
    pub account_type: String,
    pub address: String,
    pub direction: String,
    /// A shared mailbox's delegate: the account that signs in (empty for
    /// the other types).
    #[serde(default)]
    pub delegate: String,
    /// Microsoft's cloud the mailbox is in (a `Cloud` code).
    #[serde(default = "global_cloud")]
    pub cloud: String,
    pub application_id: String,
    /// `secret` or `certificate`: how the app proves itself to Microsoft.
    /// With a certificate the secret is not asked for.
    #[serde(default = "secret_credential")]
    pub credential: String,
    pub client_secret: String,
    pub secret_expires_on: String,
    pub authority_url: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub scopes: String,
    /// The Receiving tab (used when the mailbox receives).
    #[serde(default)]
    pub receiving: ReceivingInput,
}

fn secret_credential() -> String {
    CREDENTIAL_SECRET.into()
}

pub const CREDENTIAL_SECRET: &str = "secret";
pub const CREDENTIAL_CERTIFICATE: &str = "certificate";

fn global_cloud() -> String {
    Cloud::Global.code().into()
}

// Hand-written so the secret can never end up in a log line via `{:?}`.
impl std::fmt::Debug for TenantEmailInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantEmailInput")
            .field("account_type", &self.account_type)
            .field("address", &self.address)
            .field("direction", &self.direction)
            .field("delegate", &self.delegate)
            .field("cloud", &self.cloud)
            .field("application_id", &self.application_id)
            .field("credential", &self.credential)
            .field(
                "client_secret",
                &if self.client_secret.is_empty() {
                    "<empty>"
                } else {
                    "<redacted>"
                },
            )
            .field("secret_expires_on", &self.secret_expires_on)
            .field("authority_url", &self.authority_url)
            .field("authorization_endpoint", &self.authorization_endpoint)
            .field("token_endpoint", &self.token_endpoint)
            .field("scopes", &self.scopes)
            .field("receiving", &self.receiving)
            .finish()
    }
}

impl TenantEmailInput {
    /// The values a new tenant email starts with.
    pub fn defaults() -> Self {
        Self {
            account_type: AccountType::Microsoft365Graph.code().into(),
            address: String::new(),
            direction: Direction::SendAndReceive.code().into(),
            delegate: String::new(),
            cloud: global_cloud(),
            application_id: String::new(),
            credential: secret_credential(),
            client_secret: String::new(),
            secret_expires_on: String::new(),
            authority_url: authority::authority_for_tenant("common"),
            authorization_endpoint: "/oauth2/v2.0/authorize".into(),
            token_endpoint: "/oauth2/v2.0/token".into(),
            scopes: scopes::DEFAULT_SCOPES.into(),
            receiving: ReceivingInput::default(),
        }
    }

    /// Trims what is safe to trim; scopes are left as typed so their rule can
    /// explain what is wrong instead of silently changing them.
    pub fn trimmed(&self) -> Self {
        Self {
            account_type: self.account_type.trim().into(),
            address: self.address.trim().into(),
            direction: self.direction.trim().into(),
            delegate: self.delegate.trim().into(),
            cloud: self.cloud.trim().into(),
            application_id: self.application_id.trim().to_ascii_lowercase(),
            credential: self.credential.trim().into(),
            client_secret: self.client_secret.clone(),
            secret_expires_on: self.secret_expires_on.trim().into(),
            authority_url: self.authority_url.trim().into(),
            authorization_endpoint: self.authorization_endpoint.trim().into(),
            token_endpoint: self.token_endpoint.trim().into(),
            scopes: self.scopes.clone(),
            receiving: self.receiving.trimmed(),
        }
    }

    pub fn direction(&self) -> Direction {
        Direction::from_code(&self.direction).unwrap_or(Direction::SendAndReceive)
    }

    pub fn account_type(&self) -> AccountType {
        AccountType::from_code(self.account_type.trim()).unwrap_or(AccountType::Microsoft365Graph)
    }

    pub fn cloud(&self) -> Cloud {
        Cloud::from_code(&self.cloud).unwrap_or_default()
    }
}

/// Validates one field; the form calls this on input/blur, `validate` on Save.
pub fn validate_field(
    field: &str,
    input: &TenantEmailInput,
    secret_required: bool,
    policy: &AuthorityPolicy,
) -> Result<(), String> {
    match field {
        fields::ACCOUNT_TYPE => AccountType::from_code(&input.account_type)
            .map(|_| ())
            .ok_or_else(|| "Choose an account type.".to_string()),
        fields::ADDRESS => identifiers::validate_address(&input.address),
        fields::DIRECTION => Direction::from_code(&input.direction)
            .map(|_| ())
            .ok_or_else(|| "Choose whether this mailbox sends, receives, or both.".to_string()),
        fields::APPLICATION_ID => identifiers::validate_application_id(&input.application_id),
        fields::CREDENTIAL => match input.credential.as_str() {
            CREDENTIAL_SECRET | CREDENTIAL_CERTIFICATE => Ok(()),
            _ => Err("Choose a client secret or a certificate.".into()),
        },
        // A certificate is made on the server (Create certificate), not typed.
        fields::CLIENT_SECRET if input.credential == CREDENTIAL_CERTIFICATE => Ok(()),
        fields::CLIENT_SECRET => {
            identifiers::validate_secret(&input.client_secret, secret_required)
        }
        fields::SECRET_EXPIRES_ON => identifiers::validate_optional_date(&input.secret_expires_on),
        fields::DELEGATE if input.account_type() == AccountType::Microsoft365Shared => {
            identifiers::validate_address(&input.delegate)?;
            if input.delegate.trim().eq_ignore_ascii_case(input.address.trim()) {
                return Err("The delegate is the person who signs in for the shared mailbox: another address than the mailbox's.".into());
            }
            Ok(())
        }
        fields::DELEGATE => Ok(()),
        fields::ARRIVAL
            if input.account_type() == AccountType::Microsoft365Shared
                && input.direction().receives()
                && input.receiving.arrival == super::inbox::Arrival::Notify.code() =>
        {
            Err("Microsoft does not notify about a shared mailbox opened by a delegate: it is checked every interval.".into())
        }
        fields::CLOUD => Cloud::from_code(&input.cloud)
            .map(|_| ())
            .ok_or_else(|| "Choose the Microsoft cloud this mailbox is in.".to_string()),
        fields::AUTHORITY_URL => {
            authority::validate_authority_in(&input.authority_url, input.cloud(), policy)?;
            if input.account_type() == AccountType::Microsoft365App {
                authority::check_names_tenant(&input.authority_url)?;
            }
            Ok(())
        }
        fields::AUTHORIZATION_ENDPOINT => {
            identifiers::validate_endpoint_path(&input.authorization_endpoint)
        }
        fields::TOKEN_ENDPOINT => identifiers::validate_endpoint_path(&input.token_endpoint),
        // Application access asks for `{Graph}/.default`: the Scopes field is not used.
        fields::SCOPES if input.account_type() == AccountType::Microsoft365App => Ok(()),
        fields::SCOPES if input.account_type() == AccountType::Microsoft365Shared => {
            scopes::validate_shared_scopes(&input.scopes, input.direction())
                .and_then(|()| scopes::check_cloud(&input.scopes, input.cloud()))
        }
        fields::SCOPES => scopes::validate_scopes(&input.scopes, input.direction())
            .and_then(|()| scopes::check_cloud(&input.scopes, input.cloud())),
        other => inbox::validate_field(other, &input.receiving, input.direction().receives()),
    }
}

pub const ALL_FIELDS: &[&str] = &[
    fields::ACCOUNT_TYPE,
    fields::ADDRESS,
    fields::DIRECTION,
    fields::DELEGATE,
    fields::CLOUD,
    fields::APPLICATION_ID,
    fields::CREDENTIAL,
    fields::CLIENT_SECRET,
    fields::SECRET_EXPIRES_ON,
    fields::AUTHORITY_URL,
    fields::AUTHORIZATION_ENDPOINT,
    fields::TOKEN_ENDPOINT,
    fields::SCOPES,
    fields::RECEIVE_FOLDER,
    fields::AFTER_PROCESSING,
    fields::MOVE_TO_FOLDER,
    fields::POLL_INTERVAL,
    fields::IMPORT_SINCE,
    fields::ARRIVAL,
];

/// Validates the whole form. `secret_required` is true on create, and when the
/// admin chose "Replace" on an existing secret.
pub fn validate(
    input: &TenantEmailInput,
    secret_required: bool,
    policy: &AuthorityPolicy,
) -> FieldErrors {
    let mut errors = FieldErrors::new();
    for field in ALL_FIELDS {
        errors.merge(field, validate_field(field, input, secret_required, policy));
    }
    errors
}

/// What the Next secret panel sends. `Debug` never shows the secret.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NextSecretInput {
    pub secret: String,
    /// `YYYY-MM-DD`, or empty.
    pub expires_on: String,
}

impl std::fmt::Debug for NextSecretInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NextSecretInput")
            .field("secret", &"<redacted>")
            .field("expires_on", &self.expires_on)
            .finish()
    }
}

/// The next-secret slot's two fields: a secret (required) and its end date
/// (optional, YYYY-MM-DD). Shared by the form and the server function.
pub fn validate_next_secret(secret: &str, expires_on: &str) -> FieldErrors {
    let mut errors = FieldErrors::new();
    errors.merge(
        fields::NEXT_CLIENT_SECRET,
        identifiers::validate_secret(secret, true),
    );
    errors.merge(
        fields::NEXT_SECRET_EXPIRES_ON,
        identifiers::validate_optional_date(expires_on),
    );
    errors
}
