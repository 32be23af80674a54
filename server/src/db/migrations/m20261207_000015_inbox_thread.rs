//! Where a received message belongs and how urgent its sender made it:
//! Graph's `conversationId` (the thread) and `importance`.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum InboxMessage {
    Table,
    ConversationId,
    Importance,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Two statements: SQLite adds one column per ALTER TABLE.
        manager
            .alter_table(
                Table::alter()
                    .table(InboxMessage::Table)
                    .add_column(ColumnDef::new(InboxMessage::ConversationId).text().null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(InboxMessage::Table)
                    .add_column(
                        ColumnDef::new(InboxMessage::Importance)
                            .string_len(8)
                            .null(),
                    )
                    .to_owned(),
            )
            .await
    }
}
