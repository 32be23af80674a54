//! API tokens for the host application's REST API (`/v1`). Only the SHA-256
//! of a token is stored: the plaintext is shown once, at creation.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tenant {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ApiToken {
    Table,
    Id,
    TenantId,
    Name,
    TokenHash,
    Prefix,
    CreatedAt,
    CreatedBy,
    LastUsedAt,
    RevokedAt,
}

fn ts(c: impl IntoIden) -> ColumnDef {
    ColumnDef::new(c).timestamp_with_time_zone().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ApiToken::Table)
                    .col(
                        ColumnDef::new(ApiToken::Id)
                            .string_len(36)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(ApiToken::TenantId).string_len(36).not_null())
                    .col(ColumnDef::new(ApiToken::Name).string_len(100).not_null())
                    // Hex SHA-256 of the whole token: what a request is looked up by.
                    .col(
                        ColumnDef::new(ApiToken::TokenHash)
                            .string_len(64)
                            .not_null()
                            .unique_key(),
                    )
                    // The first characters, so an admin can tell tokens apart.
                    .col(ColumnDef::new(ApiToken::Prefix).string_len(16).not_null())
                    .col(ts(ApiToken::CreatedAt).not_null())
                    .col(
                        ColumnDef::new(ApiToken::CreatedBy)
                            .string_len(100)
                            .not_null(),
                    )
                    .col(ts(ApiToken::LastUsedAt).null())
                    .col(ts(ApiToken::RevokedAt).null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_api_token_tenant")
                            .from(ApiToken::Table, ApiToken::TenantId)
                            .to(Tenant::Table, Tenant::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }
}
