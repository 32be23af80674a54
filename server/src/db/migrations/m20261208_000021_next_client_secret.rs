//! Secret rotation without downtime: a second, "next" client secret stored
//! beside the one in use (sealed the same way, under its own binding), with
//! when it was set and the end date the admin recorded. The token paths try
//! it when Microsoft refuses the current secret (AADSTS7000215/7000222) or
//! the current one is about to expire, and promote it when it works.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum TenantEmail {
    Table,
    NextClientSecret,
    NextSecretSetAt,
    NextSecretExpiresOn,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one column at a time.
        let columns = [
            ColumnDef::new(TenantEmail::NextClientSecret)
                .text()
                .null()
                .to_owned(),
            ColumnDef::new(TenantEmail::NextSecretSetAt)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
            ColumnDef::new(TenantEmail::NextSecretExpiresOn)
                .date()
                .null()
                .to_owned(),
        ];
        for mut column in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(TenantEmail::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
