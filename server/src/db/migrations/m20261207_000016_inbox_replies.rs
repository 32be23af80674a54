//! What a received message answers: its `In-Reply-To` and `References`
//! headers (RFC 5322 §3.6.4), read per message from Graph's
//! `internetMessageHeaders`. `references` is an SQL keyword, hence the name. And an index to find
//! a message by its Message-ID within its mailbox.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum InboxMessage {
    Table,
    TenantEmailId,
    InternetMessageId,
    InReplyTo,
    ReferencesHeader,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Two statements: SQLite adds one column per ALTER TABLE.
        for column in [InboxMessage::InReplyTo, InboxMessage::ReferencesHeader] {
            manager
                .alter_table(
                    Table::alter()
                        .table(InboxMessage::Table)
                        .add_column(ColumnDef::new(column).text().null())
                        .to_owned(),
                )
                .await?;
        }
        // The reader finds the message a reply answers by its Message-ID.
        manager
            .create_index(
                Index::create()
                    .name("idx_inbox_message_internet_id")
                    .table(InboxMessage::Table)
                    .col(InboxMessage::TenantEmailId)
                    .col(InboxMessage::InternetMessageId)
                    .to_owned(),
            )
            .await
    }
}
