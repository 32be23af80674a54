use sea_orm::entity::prelude::*;

/// A receiving mailbox's Graph change-notification subscription (near-instant
/// arrival). The `clientState` secret is kept only as its SHA-256.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "graph_subscription")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_email_id: String,
    pub subscription_id: Option<String>,
    pub folder: String,
    pub notification_url: String,
    pub client_state_hash: String,
    pub expires_at: Option<DateTimeUtc>,
    pub needs_reauth: bool,
    pub created_at: DateTimeUtc,
    pub last_notified_at: Option<DateTimeUtc>,
    pub last_error: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
