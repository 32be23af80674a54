//! RFC 9207: when the authority's metadata promises an `iss` parameter on
//! authorization responses, a response without one must be rejected.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum OauthFlow {
    Table,
    IssRequired,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(OauthFlow::Table)
                    .add_column(
                        ColumnDef::new(OauthFlow::IssRequired)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .to_owned(),
            )
            .await
    }
}
