use sea_orm::entity::prelude::*;

/// Delta-sync state of one receiving mailbox. The links are Graph's opaque
/// continuation URLs (no credential in them; the bearer token is separate).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "inbox_sync")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_email_id: String,
    pub folder: String,
    pub since: DateTimeUtc,
    pub next_link: Option<String>,
    pub delta_link: Option<String>,
    pub round_started_at: Option<DateTimeUtc>,
    pub last_sync_at: Option<DateTimeUtc>,
    pub last_error: Option<String>,
    pub sync_requested_at: Option<DateTimeUtc>,
    pub lease_owner: Option<String>,
    pub lease_until: Option<DateTimeUtc>,
    pub last_seq: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
