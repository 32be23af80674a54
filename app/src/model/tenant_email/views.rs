//! What the server sends the editor and the Tenant Emails tab: stored
//! values without secrets, and the facts around them.
use super::{AccountType, ConnectionStatus, Direction, TenantEmailInput};
use crate::model::authority::AuthorityPolicy;
use serde::{Deserialize, Serialize};

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
    /// The secret stored to take over from the one in use (never its value).
    #[serde(default)]
    pub next_secret: Option<NextSecretView>,
}

/// A stored next secret: when it was stored and when it ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NextSecretView {
    /// RFC 3339.
    pub set_at: String,
    /// `YYYY-MM-DD`, when the admin recorded it.
    pub expires_on: Option<String>,
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
    pub connection: Option<super::super::ConnectionView>,
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
