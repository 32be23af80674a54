//! The Microsoft tenant's display name beside its id on a connection, so the
//! admin sees which organisation a mailbox belongs to, not only a GUID.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum MailboxConnection {
    Table,
    TenantName,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(MailboxConnection::Table)
                    .add_column(
                        ColumnDef::new(MailboxConnection::TenantName)
                            .string_len(256)
                            .null(),
                    )
                    .to_owned(),
            )
            .await
    }
}
