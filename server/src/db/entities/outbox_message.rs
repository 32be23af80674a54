use sea_orm::entity::prelude::*;

/// One message in the outbox (see the migration for what each column is for).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox_message")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub tenant_email_id: String,
    pub idempotency_key: Option<String>,
    pub request_hash: String,
    pub state: String,
    pub subject: String,
    /// JSON array of the To addresses (for lists; the full message is in `message`).
    pub recipients: String,
    pub message: String,
    pub graph_message_id: Option<String>,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    pub lease_owner: Option<String>,
    pub lease_until: Option<DateTimeUtc>,
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
