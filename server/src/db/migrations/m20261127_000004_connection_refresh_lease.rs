//! Refreshing a mailbox's access token is single-flight across instances: a
//! short lease on the connection row says who is refreshing. Also keeps the
//! token endpoint the connection was made with (refreshes use it, not the
//! live configuration).
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum MailboxConnection {
    Table,
    TokenEndpoint,
    RefreshLeaseUntil,
    RefreshLeaseOwner,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(MailboxConnection::Table)
                    .add_column(
                        ColumnDef::new(MailboxConnection::TokenEndpoint)
                            .string_len(256)
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(MailboxConnection::Table)
                    .add_column(
                        ColumnDef::new(MailboxConnection::RefreshLeaseUntil)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(MailboxConnection::Table)
                    .add_column(
                        ColumnDef::new(MailboxConnection::RefreshLeaseOwner)
                            .string_len(36)
                            .null(),
                    )
                    .to_owned(),
            )
            .await
    }
}
