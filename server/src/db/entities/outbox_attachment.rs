use sea_orm::entity::prelude::*;

#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox_attachment")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub outbox_message_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub position: i32,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub content: Vec<u8>,
}

// Hand-written: attachment bytes stay out of debug output and logs.
impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("outbox_attachment::Model")
            .field("outbox_message_id", &self.outbox_message_id)
            .field("position", &self.position)
            .field("name", &self.name)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
