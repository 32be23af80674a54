use sea_orm::entity::prelude::*;

/// `client_secret` holds only a sealed value (see `secrets.rs`), never plaintext.
#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tenant_email")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub tenant_id: String,
    pub account_type: String,
    pub address: String,
    /// Lower-cased address; unique per tenant (case-insensitive uniqueness on both databases).
    pub address_normalized: String,
    pub direction: String,
    pub application_id: String,
    pub client_secret: Option<String>,
    pub client_secret_set_at: Option<DateTimeUtc>,
    pub secret_expires_on: Option<Date>,
    pub authority_url: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub scopes: String,
    pub connection_status: String,
    pub receive_folder: String,
    pub after_processing: String,
    pub move_to_folder: Option<String>,
    pub poll_interval_seconds: i32,
    /// Mail received before this is not imported; `None` = from when receiving starts.
    pub import_since: Option<DateTimeUtc>,
    /// `poll` or `notify` (near-instant arrival through Graph change notifications).
    pub arrival: String,
    /// The Microsoft cloud (`app::model::Cloud` code): its sign-in and Graph hosts.
    pub cloud: String,
    /// A shared mailbox's delegate, who signs in for it.
    pub delegate: Option<String>,
    /// `secret` or `certificate`: what `client_secret` holds (sealed either way).
    pub credential: String,
    /// The certificate's public half, when the credential is a certificate.
    pub certificate_pem: Option<String>,
    pub certificate_thumbprint: Option<String>,
    pub certificate_expires_at: Option<DateTimeUtc>,
    /// The secret to move to when the one in use is refused or about to
    /// expire: sealed like `client_secret`, under its own binding.
    pub next_client_secret: Option<String>,
    pub next_secret_set_at: Option<DateTimeUtc>,
    pub next_secret_expires_on: Option<Date>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

// Hand-written so a sealed secret is not even printed in debug output.
impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("tenant_email::Model")
            .field("id", &self.id)
            .field("tenant_id", &self.tenant_id)
            .field("address", &self.address)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<sealed>"),
            )
            .field(
                "next_client_secret",
                &self.next_client_secret.as_ref().map(|_| "<sealed>"),
            )
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
