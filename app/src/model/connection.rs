//! A tenant email's Microsoft connection as the admin sees it: who it is
//! connected as and how healthy it is. Tokens never appear here.
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionView {
    /// The account Microsoft confirmed (userPrincipalName).
    pub upn: String,
    pub display_name: Option<String>,
    /// Microsoft Entra tenant (directory) id of the account.
    pub tenant_id: String,
    /// The tenant's display name, when Microsoft Graph told it.
    pub tenant_name: Option<String>,
    pub connected_at: String,
    pub access_token_valid_until: Option<String>,
    pub last_refresh_at: Option<String>,
    /// Plain-language explanation of the last failure, if any.
    pub last_error: Option<String>,
    pub last_error_at: Option<String>,
}
