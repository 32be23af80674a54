//! Sign-in throttle buckets shared by every instance: one row per bucket,
//! holding its GCRA "theoretical arrival time". The key is a SHA-256 of the
//! bucket's name (which contains a username and an address), so its length
//! is fixed.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SignInThrottle {
    Table,
    Key,
    TatMs,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SignInThrottle::Table)
                    .col(
                        ColumnDef::new(SignInThrottle::Key)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    // Unix milliseconds; a row in the past is an empty bucket.
                    .col(
                        ColumnDef::new(SignInThrottle::TatMs)
                            .big_integer()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await
    }
}
