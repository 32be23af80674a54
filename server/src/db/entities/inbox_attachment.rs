use sea_orm::entity::prelude::*;

#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "inbox_attachment")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub message_id: String,
    pub graph_attachment_id: String,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub is_inline: bool,
    /// The file (an attached message as its `.eml`); `None` for a link to a
    /// file elsewhere (only described).
    pub content: Option<Vec<u8>>,
    /// A file too large to hold whole: its bytes are this blob's chunks.
    pub blob_id: Option<String>,
    /// The `Content-ID` an HTML body refers to (`cid:`), for inline images.
    pub content_id: Option<String>,
}

// Hand-written: attachment bytes stay out of debug output and logs.
impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("inbox_attachment::Model")
            .field("id", &self.id)
            .field("message_id", &self.message_id)
            .field("name", &self.name)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
