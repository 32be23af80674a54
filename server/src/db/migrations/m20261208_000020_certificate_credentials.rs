//! Certificate credentials: which credential a tenant email uses (`secret`
//! or `certificate`) and the public half of its certificate (PEM, the
//! portal's SHA-1 thumbprint, expiry). The private key is sealed in
//! `client_secret`, the column that always holds the credential in use, so
//! key rotation and the start-up check cover it like a secret.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum TenantEmail {
    Table,
    Credential,
    CertificatePem,
    CertificateThumbprint,
    CertificateExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one column at a time.
        let columns = [
            ColumnDef::new(TenantEmail::Credential)
                .string_len(16)
                .not_null()
                .default("secret")
                .to_owned(),
            ColumnDef::new(TenantEmail::CertificatePem)
                .text()
                .null()
                .to_owned(),
            ColumnDef::new(TenantEmail::CertificateThumbprint)
                .string_len(64)
                .null()
                .to_owned(),
            ColumnDef::new(TenantEmail::CertificateExpiresAt)
                .timestamp_with_time_zone()
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
