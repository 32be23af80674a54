//! OAuth2 connect flow state (one row per "Click to Authenticate", so any
//! instance can finish it) and the mailbox connection it produces.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum TenantEmail {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum OauthFlow {
    Table,
    /// SHA-256 (hex) of the `state` value; the state itself is never stored.
    StateHash,
    TenantId,
    TenantEmailId,
    /// Sealed (AAD `oauth_flow|pkce_verifier|<state_hash>`).
    PkceVerifier,
    Nonce,
    /// SHA-256 (hex) of the random value in the browser's flow cookie.
    BrowserBinding,
    LoginHint,
    Authority,
    AuthorizationEndpoint,
    TokenEndpoint,
    ClientId,
    RedirectUri,
    Scopes,
    /// From the authority's discovery document at begin (may hold `{tenantid}`).
    Issuer,
    JwksUri,
    AllowNewAccount,
    CreatedAt,
    ExpiresAt,
    ConsumedAt,
}

#[derive(DeriveIden)]
enum MailboxConnection {
    Table,
    TenantEmailId,
    /// Sealed (AAD `mailbox_connection|refresh_token|<tenant_email_id>`).
    RefreshToken,
    /// Sealed (AAD `mailbox_connection|access_token|<tenant_email_id>`).
    AccessToken,
    AccessTokenExpiresAt,
    Oid,
    Tid,
    Upn,
    DisplayName,
    ClientId,
    Authority,
    Scopes,
    ConnectedAt,
    LastRefreshAt,
    LastError,
    LastErrorAt,
    Version,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(OauthFlow::Table)
                    .col(
                        ColumnDef::new(OauthFlow::StateHash)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(OauthFlow::TenantId)
                            .string_len(36)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(OauthFlow::TenantEmailId)
                            .string_len(36)
                            .not_null(),
                    )
                    .col(ColumnDef::new(OauthFlow::PkceVerifier).text().not_null())
                    .col(ColumnDef::new(OauthFlow::Nonce).string_len(128).not_null())
                    .col(
                        ColumnDef::new(OauthFlow::BrowserBinding)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(OauthFlow::LoginHint)
                            .string_len(254)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(OauthFlow::Authority)
                            .string_len(300)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(OauthFlow::AuthorizationEndpoint)
                            .string_len(256)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(OauthFlow::TokenEndpoint)
                            .string_len(256)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(OauthFlow::ClientId)
                            .string_len(36)
                            .not_null(),
                    )
                    .col(ColumnDef::new(OauthFlow::RedirectUri).text().not_null())
                    .col(ColumnDef::new(OauthFlow::Scopes).text().not_null())
                    .col(ColumnDef::new(OauthFlow::Issuer).text().not_null())
                    .col(ColumnDef::new(OauthFlow::JwksUri).text().not_null())
                    .col(
                        ColumnDef::new(OauthFlow::AllowNewAccount)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(
                        ColumnDef::new(OauthFlow::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(OauthFlow::ExpiresAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(OauthFlow::ConsumedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_oauth_flow_tenant_email")
                            .from(OauthFlow::Table, OauthFlow::TenantEmailId)
                            .to(TenantEmail::Table, TenantEmail::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_oauth_flow_expires_at")
                    .table(OauthFlow::Table)
                    .col(OauthFlow::ExpiresAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MailboxConnection::Table)
                    .col(
                        ColumnDef::new(MailboxConnection::TenantEmailId)
                            .string_len(36)
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(MailboxConnection::RefreshToken)
                            .text()
                            .not_null(),
                    )
                    .col(ColumnDef::new(MailboxConnection::AccessToken).text().null())
                    .col(
                        ColumnDef::new(MailboxConnection::AccessTokenExpiresAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(MailboxConnection::Oid)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(MailboxConnection::Tid)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(MailboxConnection::Upn)
                            .string_len(254)
                            .not_null(),
                    )
                    .col(ColumnDef::new(MailboxConnection::DisplayName).text().null())
                    .col(
                        ColumnDef::new(MailboxConnection::ClientId)
                            .string_len(36)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(MailboxConnection::Authority)
                            .string_len(300)
                            .not_null(),
                    )
                    .col(ColumnDef::new(MailboxConnection::Scopes).text().not_null())
                    .col(
                        ColumnDef::new(MailboxConnection::ConnectedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(MailboxConnection::LastRefreshAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(MailboxConnection::LastError).text().null())
                    .col(
                        ColumnDef::new(MailboxConnection::LastErrorAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(MailboxConnection::Version)
                            .integer()
                            .not_null()
                            .default(1),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_mailbox_connection_tenant_email")
                            .from(MailboxConnection::Table, MailboxConnection::TenantEmailId)
                            .to(TenantEmail::Table, TenantEmail::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }
}
