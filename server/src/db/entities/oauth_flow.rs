use sea_orm::entity::prelude::*;

/// One "Click to Authenticate" in progress. `pkce_verifier` is sealed;
/// `state_hash` and `browser_binding` are SHA-256 digests, never the values.
#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oauth_flow")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub state_hash: String,
    pub tenant_id: String,
    pub tenant_email_id: String,
    pub pkce_verifier: String,
    pub nonce: String,
    pub browser_binding: String,
    pub login_hint: String,
    pub authority: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub scopes: String,
    pub issuer: String,
    pub jwks_uri: String,
    pub allow_new_account: bool,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub consumed_at: Option<DateTimeUtc>,
    /// The authority promised an `iss` on its responses (RFC 9207).
    pub iss_required: bool,
    /// SHA-256 of the admin session that started the flow; the callback must come from it.
    pub session_key: Option<String>,
}

// Hand-written: the verifier and nonce stay out of debug output.
impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("oauth_flow::Model")
            .field("tenant_email_id", &self.tenant_email_id)
            .field("authority", &self.authority)
            .field("client_id", &self.client_id)
            .field("expires_at", &self.expires_at)
            .field("consumed_at", &self.consumed_at)
            .finish_non_exhaustive()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
