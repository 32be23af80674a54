//! Tenant emails: the mailbox an application uses, and its OAuth2 settings.
use super::authority::{self, AuthorityPolicy};
use super::cloud::Cloud;
use super::errors::FieldErrors;
use super::inbox::{self, ReceivingInput};
use super::{fields, identifiers, scopes};
use serde::{Deserialize, Serialize};

/// Kinds of mailbox connection; the editor shows the OAuth2 tab only for
/// types that use it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AccountType {
    /// A user mailbox, signed in by that user (delegated permissions).
    Microsoft365Graph,
    /// A shared mailbox, signed in by a delegate with Full Access and Send As
    /// on it (delegated `.Shared` permissions); Graph is asked for
    /// `/users/{shared address}`, so mail goes out from it and its sent copy
    /// stays in its Sent Items.
    Microsoft365Shared,
    /// The application's own access (client credentials, application
    /// permissions): no one signs in; Graph is asked for `/users/{address}`.
    Microsoft365App,
}

impl AccountType {
    pub const ALL: &'static [AccountType] = &[
        AccountType::Microsoft365Graph,
        AccountType::Microsoft365Shared,
        AccountType::Microsoft365App,
    ];
    pub fn code(self) -> &'static str {
        match self {
            AccountType::Microsoft365Graph => "microsoft365_graph",
            AccountType::Microsoft365Shared => "microsoft365_shared",
            AccountType::Microsoft365App => "microsoft365_app",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            AccountType::Microsoft365Graph => "Microsoft 365 — user mailbox (delegated)",
            AccountType::Microsoft365Shared => "Microsoft 365 — shared mailbox (delegated)",
            AccountType::Microsoft365App => "Microsoft 365 — application (client credentials)",
        }
    }
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|t| t.code() == code)
    }
    pub fn uses_oauth2(self) -> bool {
        true
    }
    /// Someone signs in at Microsoft (authorization code flow, refresh
    /// token); otherwise the app authenticates as itself.
    pub fn signs_in(self) -> bool {
        matches!(
            self,
            AccountType::Microsoft365Graph | AccountType::Microsoft365Shared
        )
    }
    /// Graph is asked for `/users/{address}` (not `/me`): the mailbox is not
    /// the signed-in account's own.
    pub fn names_mailbox(self) -> bool {
        !matches!(self, AccountType::Microsoft365Graph)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Direction {
    Send,
    Receive,
    SendAndReceive,
}

impl Direction {
    pub const ALL: &'static [Direction] = &[
        Direction::SendAndReceive,
        Direction::Send,
        Direction::Receive,
    ];
    pub fn code(self) -> &'static str {
        match self {
            Direction::Send => "send",
            Direction::Receive => "receive",
            Direction::SendAndReceive => "send_receive",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Direction::Send => "Send",
            Direction::Receive => "Receive",
            Direction::SendAndReceive => "Send and receive",
        }
    }
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|d| d.code() == code)
    }
    pub fn sends(self) -> bool {
        matches!(self, Direction::Send | Direction::SendAndReceive)
    }
    pub fn receives(self) -> bool {
        matches!(self, Direction::Receive | Direction::SendAndReceive)
    }
}

/// Ordered from healthy to broken, so the worst of several is `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ConnectionStatus {
    Connected,
    NotAuthenticated,
    NeedsReauth,
    /// Microsoft refused the app's own credentials (e.g. the client secret
    /// expired or is wrong): fix them in the OAuth2 tab; the grant itself is kept.
    CredentialsInvalid,
    Error,
}

impl ConnectionStatus {
    pub const ALL: &'static [ConnectionStatus] = &[
        ConnectionStatus::Connected,
        ConnectionStatus::NotAuthenticated,
        ConnectionStatus::NeedsReauth,
        ConnectionStatus::CredentialsInvalid,
        ConnectionStatus::Error,
    ];
    pub fn code(self) -> &'static str {
        match self {
            ConnectionStatus::Connected => "connected",
            ConnectionStatus::NotAuthenticated => "not_authenticated",
            ConnectionStatus::NeedsReauth => "needs_reauth",
            ConnectionStatus::CredentialsInvalid => "credentials_invalid",
            ConnectionStatus::Error => "error",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            ConnectionStatus::Connected => "Connected",
            ConnectionStatus::NotAuthenticated => "Not authenticated",
            ConnectionStatus::NeedsReauth => "Needs re-authentication",
            ConnectionStatus::CredentialsInvalid => "Credentials invalid",
            ConnectionStatus::Error => "Error",
        }
    }
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|s| s.code() == code)
    }
}

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

/// One row of the Tenant Emails tab.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantEmailSummary {
    pub id: String,
    pub address: String,
    pub account_type: AccountType,
    pub direction: Direction,
    pub status: ConnectionStatus,
}

/// A stored tenant email as the browser may see it: no secret, only whether
/// one is set and since when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantEmailView {
    pub id: String,
    pub tenant_id: String,
    pub version: i32,
    /// The editable fields, with `client_secret` always empty.
    pub values: TenantEmailInput,
    /// RFC 3339 time the secret was last set; `None` if none is stored.
    pub secret_set_at: Option<String>,
    pub status: ConnectionStatus,
    pub updated_at: String,
    /// Days until the client secret expires (negative once expired), when
    /// the admin recorded the expiry date. Computed on the server's clock.
    pub secret_expires_in_days: Option<i64>,
    /// The certificate in use instead of a secret (its public half only).
    #[serde(default)]
    pub certificate: Option<CertificateView>,
}

/// A certificate credential as the editor shows it: what to upload to the
/// app registration, and how to recognise it there. Never the private key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateView {
    /// `-----BEGIN CERTIFICATE-----`: the `.cer` to upload.
    pub pem: String,
    /// Upper-case hex SHA-1, as the portal lists it.
    pub thumbprint: String,
    /// `YYYY-MM-DD`.
    pub expires_on: String,
    pub expires_in_days: i64,
}

/// What the tenant email editor shows, read together: the tenant's name,
/// the tenant email (`None` when adding one) and its Microsoft connection
/// (`None` until it was connected once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailEditorParts {
    pub tenant_name: String,
    pub email: Option<TenantEmailView>,
    pub connection: Option<super::ConnectionView>,
    /// Mail through this mailbox so far (an existing Tenant Email only).
    #[serde(default)]
    pub activity: Option<MailActivity>,
}

/// The Connection panel's activity line: is mail moving?
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailActivity {
    /// RFC 3339.
    pub last_sent_at: Option<String>,
    /// The last inbox sync round that succeeded (RFC 3339).
    pub last_received_at: Option<String>,
    pub queued: u64,
    pub held: u64,
    pub failed: u64,
    /// The inbox sync's current error.
    pub receive_error: Option<String>,
    /// What the mailbox's direction needs, what Microsoft granted at the last
    /// sign-in, and what of the first the second lacks.
    #[serde(default)]
    pub required_scopes: Vec<String>,
    #[serde(default)]
    pub granted_scopes: Option<String>,
    #[serde(default)]
    pub missing_scopes: Vec<String>,
}

/// Server facts the editor needs: where Microsoft must send the admin back,
/// and which authority hosts the server accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditorContext {
    pub redirect_uri: String,
    pub authority_policy: AuthorityPolicy,
    /// Why near-instant arrival cannot be chosen here (the public URL is not
    /// https); `None` when it can.
    #[serde(default)]
    pub instant_arrival_unavailable: Option<String>,
}
