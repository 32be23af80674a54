//! Public input and output types of the control operations (Rust handle and `/_stand-in/…` HTTP API alike).

use serde::{Deserialize, Serialize};

/// The tenant id Microsoft uses for personal (consumer) accounts.
pub const CONSUMER_TENANT_ID: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";

/// A directory (Entra tenant).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct NewTenant {
    /// Tenant GUID; generated deterministically when absent.
    #[serde(default)]
    pub id: Option<String>,
    /// Verified domains, e.g. `contoso.onmicrosoft.com`; any of them works as a tenant path.
    #[serde(default)]
    pub domains: Vec<String>,
    #[serde(default)]
    pub display_name: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Tenant {
    pub id: String,
    pub domains: Vec<String>,
    pub display_name: String,
}

/// A client secret of an app registration.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct NewSecret {
    /// The secret *value*; generated when absent.
    #[serde(default)]
    pub value: Option<String>,
    /// The secret *ID* (what admins paste by mistake); generated when absent.
    #[serde(default)]
    pub id: Option<String>,
    /// Expiry in Unix seconds; `None` means it never expires.
    #[serde(default)]
    pub expires_at: Option<i64>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Secret {
    pub id: String,
    pub value: String,
    pub expires_at: Option<i64>,
}

/// An app registration.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct NewApp {
    /// Application (client) ID; generated when absent.
    #[serde(default)]
    pub client_id: Option<String>,
    /// Home tenant id.
    pub tenant_id: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// Secrets to create; when empty, one non-expiring secret is generated.
    #[serde(default)]
    pub secrets: Vec<NewSecret>,
    /// Configured Graph delegated permissions (`.default` expands to these). Defaults to
    /// `User.Read Mail.Read Mail.ReadWrite Mail.Send`.
    #[serde(default)]
    pub api_permissions: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct App {
    pub client_id: String,
    pub tenant_id: String,
    pub display_name: String,
    pub redirect_uris: Vec<String>,
    pub secrets: Vec<Secret>,
    pub api_permissions: Vec<String>,
    /// Application permissions with admin consent (`Mail.Read`, `Mail.ReadWrite`, `Mail.Send`, …),
    /// as granted by the control `grant_app_permissions`: the `roles` of its app-only tokens.
    #[serde(default)]
    pub app_permissions: Vec<String>,
    /// The application access policy: the mailboxes (mail, else UPN, lower-cased) its app-only
    /// tokens may touch; `None`: every mailbox of the tenant.
    #[serde(default)]
    pub access_policy: Option<Vec<String>>,
    /// Certificate credentials (client assertions, RFC 7523).
    #[serde(default)]
    pub certificates: Vec<Certificate>,
}

/// A certificate credential of an app registration (its `keyCredentials`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Certificate {
    /// SHA-1 of the DER certificate, upper-case hex: the thumbprint the Azure portal shows and
    /// Entra's error messages name.
    pub thumbprint_sha1: String,
    /// SHA-256 of the DER certificate, upper-case hex.
    pub thumbprint_sha256: String,
    /// Base64url SHA-1: the legacy `x5t` header of a client assertion.
    pub x5t: String,
    /// Base64url SHA-256: the `x5t#S256` header of a client assertion.
    pub x5t_s256: String,
    /// Subject distinguished name (RFC 4514).
    pub subject: String,
    /// Validity, Unix seconds.
    pub not_before: i64,
    pub not_after: i64,
    /// The certificate itself, base64 DER.
    pub der_base64: String,
}

/// A user with a mailbox.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct NewUser {
    pub tenant_id: String,
    /// Object id; generated deterministically when absent.
    #[serde(default)]
    pub oid: Option<String>,
    pub upn: String,
    /// Primary SMTP address; Graph returns `null` when absent.
    #[serde(default)]
    pub mail: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    /// Password for the sign-in form; when absent any non-empty password is accepted.
    #[serde(default)]
    pub password: Option<String>,
    /// Exchange's addresses of the mailbox (`SMTP:` primary, `smtp:` aliases);
    /// when absent, just `SMTP:<mail>` (none without a mail).
    #[serde(default)]
    pub proxy_addresses: Option<Vec<String>>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct User {
    pub oid: String,
    pub tenant_id: String,
    pub upn: String,
    pub mail: Option<String>,
    pub display_name: String,
    #[serde(skip_serializing)]
    pub password: Option<String>,
    pub proxy_addresses: Vec<String>,
    /// A shared mailbox: it has no sign-in of its own; delegates reach it through `/users/{id}`
    /// with the mailbox permissions its owner gave them.
    #[serde(default)]
    pub shared: bool,
}

impl User {
    /// The address mail is keyed by in the ledger: `mail`, else the UPN, lower-cased.
    pub fn mailbox_key(&self) -> String {
        self.mail
            .as_deref()
            .unwrap_or(&self.upn)
            .to_ascii_lowercase()
    }
}

/// What a delegate may do in someone else's mailbox (Exchange's mailbox permissions).
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct MailboxPermission {
    /// Full Access: read and change everything in the mailbox (not send).
    #[serde(default)]
    pub full_access: bool,
    /// Send As: send mail that shows only the mailbox's address as sender.
    #[serde(default)]
    pub send_as: bool,
}

/// Consent for an app: by one user (`oid`) or tenant-wide by an admin (`tenant_id`).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ConsentGrant {
    pub client_id: String,
    #[serde(default)]
    pub oid: Option<String>,
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// Graph scopes consented; defaults to the app's `api_permissions`.
    #[serde(default)]
    pub scopes: Vec<String>,
}

/// An e-mail address with an optional name.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Address {
    #[serde(default)]
    pub name: String,
    pub address: String,
}

/// Mail delivered into a mailbox as if it came from outside.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct IncomingMail {
    /// UPN, mail address or oid of the receiving user.
    pub to_user: String,
    #[serde(default)]
    pub folder: Option<String>,
    pub from: Address,
    #[serde(default)]
    pub subject: String,
    #[serde(default)]
    pub body: String,
    /// `text` or `html`.
    #[serde(default)]
    pub content_type: Option<String>,
    /// Unix seconds; defaults to now.
    #[serde(default)]
    pub received_at: Option<i64>,
    #[serde(default)]
    pub internet_message_id: Option<String>,
    #[serde(default)]
    pub cc: Vec<Address>,
    #[serde(default)]
    pub attachments: Vec<IncomingAttachment>,
    /// `low`, `normal` (the default) or `high`.
    #[serde(default)]
    pub importance: Option<String>,
    #[serde(default)]
    pub reply_to: Vec<Address>,
    /// The message's Internet headers as Graph lists them (`In-Reply-To`,
    /// `References`, `x-` headers…).
    #[serde(default)]
    pub headers: Vec<MessageHeader>,
}

/// One Internet header of a delivered message.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct MessageHeader {
    pub name: String,
    pub value: String,
}

/// A file attached to delivered mail; `content` is the file itself (JSON: an array of bytes).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct IncomingAttachment {
    pub name: String,
    #[serde(default)]
    pub content_type: String,
    #[serde(default)]
    pub content: Vec<u8>,
    #[serde(default)]
    pub is_inline: bool,
    /// The Content-ID an HTML body names it by (`<img src="cid:…">`).
    #[serde(default)]
    pub content_id: Option<String>,
    /// An attached message (Graph's `itemAttachment`); `content` is its MIME
    /// form (RFC 5322), which only `…/attachments/{id}/$value` returns.
    #[serde(default)]
    pub is_item: bool,
}

/// Why refresh tokens stop working.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RefreshExpiry {
    /// Unused for 90 days → AADSTS700082.
    Inactivity,
    /// Expired or revoked → AADSTS70008.
    Revoked,
}

/// Makes the refresh tokens of a user (optionally of one app) fail.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ExpireRefreshTokens {
    /// UPN, mail or oid.
    pub user: String,
    #[serde(default)]
    pub client_id: Option<String>,
    pub reason: RefreshExpiry,
}

/// Graph limits per app per mailbox.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Limits {
    pub max_concurrent: u32,
    pub request_budget: u32,
    pub window_seconds: i64,
    /// Retry-After (seconds) sent with a MailboxConcurrency 429.
    pub concurrency_retry_after: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_concurrent: 4,
            request_budget: 10_000,
            window_seconds: 600,
            concurrency_retry_after: 1,
        }
    }
}

/// A change-notification subscription (`POST /v1.0/subscriptions`) as the control API shows it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct SubscriptionView {
    pub id: String,
    /// Owner of the mailbox it watches.
    pub user_oid: String,
    /// The app that created it (`applicationId`).
    pub client_id: String,
    /// As the client gave it, e.g. `me/mailFolders('inbox')/messages`.
    pub resource: String,
    /// The watched folder, resolved at creation.
    pub folder_id: String,
    /// `created`, `updated`, `deleted`: the ones asked for, lower-cased.
    pub change_types: Vec<String>,
    pub notification_url: String,
    pub lifecycle_notification_url: Option<String>,
    /// Unix seconds, on the stand-in's clock.
    pub expires_at: i64,
    /// The same instant as Graph writes it (`2025-01-01T00:00:00Z`).
    pub expiration_date_time: String,
    pub client_state: Option<String>,
    /// The user who created it; `None` for a subscription made with an app-only token.
    #[serde(default)]
    pub creator_oid: Option<String>,
    /// A `reauthorizationRequired` lifecycle event was sent and neither `/reauthorize` nor a
    /// renewal has answered it yet.
    pub needs_reauthorization: bool,
}

/// Graph's lifecycle events (`lifecycleEvent` of a lifecycle notification).
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum LifecycleEvent {
    /// The app must call `/reauthorize` (or renew) to keep receiving notifications.
    ReauthorizationRequired,
    /// Graph removed the subscription; the app must create a new one.
    SubscriptionRemoved,
    /// Some notifications were not delivered; the app should resynchronise (delta).
    Missed,
}

impl LifecycleEvent {
    /// The name Graph puts in `lifecycleEvent`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ReauthorizationRequired => "reauthorizationRequired",
            Self::SubscriptionRemoved => "subscriptionRemoved",
            Self::Missed => "missed",
        }
    }
}
