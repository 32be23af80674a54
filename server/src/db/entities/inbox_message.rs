use sea_orm::entity::prelude::*;

/// A received message, stored once per (mailbox, Graph immutable id).
#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "inbox_message")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub tenant_email_id: String,
    pub seq: i64,
    pub graph_id: String,
    pub internet_message_id: String,
    pub from_name: Option<String>,
    pub from_address: Option<String>,
    pub to_json: String,
    pub cc_json: String,
    pub reply_to_json: String,
    pub subject: String,
    pub received_at: DateTimeUtc,
    pub body_text: String,
    pub body_html: Option<String>,
    pub attachment_count: i32,
    pub action_state: String,
    pub action_error: Option<String>,
    pub action_attempts: i32,
    pub left_folder_at: Option<DateTimeUtc>,
    pub acknowledged_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    /// Graph's `conversationId`: the thread the message belongs to.
    pub conversation_id: Option<String>,
    /// `low`, `normal` or `high`, as the sender set it.
    pub importance: Option<String>,
    pub in_reply_to: Option<String>,
    pub references_header: Option<String>,
}

// Hand-written: mail content stays out of debug output and logs.
impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("inbox_message::Model")
            .field("id", &self.id)
            .field("tenant_email_id", &self.tenant_email_id)
            .field("seq", &self.seq)
            .field("action_state", &self.action_state)
            .finish_non_exhaustive()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
