//! Shared mailboxes: the delegate who signs in for a shared mailbox (the
//! mailbox's own address stays in `address`). Empty for other account types.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum TenantEmail {
    Table,
    Delegate,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(TenantEmail::Table)
                    .add_column(ColumnDef::new(TenantEmail::Delegate).string_len(320).null())
                    .to_owned(),
            )
            .await
    }
}
