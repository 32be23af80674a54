use sea_orm::entity::prelude::*;

/// The verified Microsoft 365 connection of one tenant email. Tokens are
/// sealed (AAD `mailbox_connection|<column>|<tenant_email_id>`).
#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mailbox_connection")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_email_id: String,
    pub refresh_token: String,
    pub access_token: Option<String>,
    pub access_token_expires_at: Option<DateTimeUtc>,
    /// Pinned: a re-authentication must come back with the same `oid`.
    pub oid: String,
    pub tid: String,
    pub upn: String,
    pub display_name: Option<String>,
    pub client_id: String,
    pub authority: String,
    pub scopes: String,
    pub connected_at: DateTimeUtc,
    pub last_refresh_at: Option<DateTimeUtc>,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTimeUtc>,
    pub version: i32,
    /// Token endpoint path the connection was made with (`None`: use the tenant email's).
    pub token_endpoint: Option<String>,
    /// Who refreshes right now (single flight across instances), and until when.
    pub refresh_lease_until: Option<DateTimeUtc>,
    pub refresh_lease_owner: Option<String>,
    /// The tenant's display name (Graph `/organization`), when it could be read.
    pub tenant_name: Option<String>,
}

// Hand-written so sealed tokens are not even printed in debug output.
impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("mailbox_connection::Model")
            .field("tenant_email_id", &self.tenant_email_id)
            .field("oid", &self.oid)
            .field("tid", &self.tid)
            .field("upn", &self.upn)
            .field("connected_at", &self.connected_at)
            .field("access_token_expires_at", &self.access_token_expires_at)
            .finish_non_exhaustive()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
