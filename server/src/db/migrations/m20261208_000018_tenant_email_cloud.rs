//! National clouds: each tenant email is in one Microsoft cloud (global, US
//! Government GCC High, US DoD, China), which decides its sign-in and Graph
//! hosts. Existing mailboxes are in the global cloud.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum TenantEmail {
    Table,
    Cloud,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(TenantEmail::Table)
                    .add_column(
                        ColumnDef::new(TenantEmail::Cloud)
                            .string_len(16)
                            .not_null()
                            .default("global"),
                    )
                    .to_owned(),
            )
            .await
    }
}
