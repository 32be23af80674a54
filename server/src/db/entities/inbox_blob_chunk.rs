use sea_orm::entity::prelude::*;

#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "inbox_blob_chunk")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub blob_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i32,
    pub bytes: Vec<u8>,
}

// Hand-written: attachment bytes stay out of debug output and logs.
impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("inbox_blob_chunk::Model")
            .field("blob_id", &self.blob_id)
            .field("seq", &self.seq)
            .field("len", &self.bytes.len())
            .finish()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
