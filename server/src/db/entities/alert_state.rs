use sea_orm::entity::prelude::*;

/// A condition of one mailbox that is raised right now.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "alert_state")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_email_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub condition: String,
    pub level: String,
    pub since: DateTimeUtc,
    pub title: String,
    pub detail: String,
    pub fix: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
