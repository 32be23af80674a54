use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tenant {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum TenantEmail {
    Table,
    Id,
    TenantId,
    AccountType,
    Address,
    AddressNormalized,
    Direction,
    ApplicationId,
    ClientSecret,
    ClientSecretSetAt,
    SecretExpiresOn,
    AuthorityUrl,
    AuthorizationEndpoint,
    TokenEndpoint,
    Scopes,
    ConnectionStatus,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TenantEmail::Table)
                    .col(ColumnDef::new(TenantEmail::Id).string_len(36).not_null().primary_key())
                    .col(ColumnDef::new(TenantEmail::TenantId).string_len(36).not_null())
                    .col(ColumnDef::new(TenantEmail::AccountType).string_len(40).not_null())
                    .col(ColumnDef::new(TenantEmail::Address).string_len(254).not_null())
                    .col(ColumnDef::new(TenantEmail::AddressNormalized).string_len(254).not_null())
                    .col(ColumnDef::new(TenantEmail::Direction).string_len(20).not_null())
                    .col(ColumnDef::new(TenantEmail::ApplicationId).string_len(36).not_null())
                    .col(ColumnDef::new(TenantEmail::ClientSecret).text().null())
                    .col(ColumnDef::new(TenantEmail::ClientSecretSetAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(TenantEmail::SecretExpiresOn).date().null())
                    .col(ColumnDef::new(TenantEmail::AuthorityUrl).string_len(300).not_null())
                    .col(ColumnDef::new(TenantEmail::AuthorizationEndpoint).string_len(256).not_null())
                    .col(ColumnDef::new(TenantEmail::TokenEndpoint).string_len(256).not_null())
                    .col(ColumnDef::new(TenantEmail::Scopes).text().not_null())
                    .col(ColumnDef::new(TenantEmail::ConnectionStatus).string_len(30).not_null())
                    .col(ColumnDef::new(TenantEmail::Version).integer().not_null().default(1))
                    .col(ColumnDef::new(TenantEmail::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(TenantEmail::UpdatedAt).timestamp_with_time_zone().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_tenant_email_tenant")
                            .from(TenantEmail::Table, TenantEmail::TenantId)
                            .to(Tenant::Table, Tenant::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_tenant_email_tenant_address")
                    .table(TenantEmail::Table)
                    .col(TenantEmail::TenantId)
                    .col(TenantEmail::AddressNormalized)
                    .unique()
                    .to_owned(),
            )
            .await
    }
}
