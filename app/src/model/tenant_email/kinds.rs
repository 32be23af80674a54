//! What kind of mailbox connection, which way mail flows, and how the
//! connection stands: the codes stored and shown.
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
