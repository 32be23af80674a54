use sea_orm::entity::prelude::*;

/// Where alerts go. `secret` (webhooks) holds only a sealed value.
#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "alert_destination")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub kind: String,
    pub name: String,
    pub target: String,
    pub sender_email_id: Option<String>,
    pub secret: Option<String>,
    pub created_at: DateTimeUtc,
    pub created_by: String,
    pub last_delivery_at: Option<DateTimeUtc>,
    pub last_delivery_ok: Option<bool>,
    pub last_delivery_detail: Option<String>,
    pub lease_owner: Option<String>,
    pub lease_until: Option<DateTimeUtc>,
}

// Hand-written so a sealed secret is not even printed in debug output.
impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("alert_destination::Model")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
