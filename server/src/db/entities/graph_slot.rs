use sea_orm::entity::prelude::*;

/// One of a mailbox's four Graph request slots, leased by whoever is calling.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "graph_slot")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_email_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub slot: i32,
    pub lease_owner: Option<String>,
    pub lease_until: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
