//! Near-instant arrival: a receiving mailbox may ask Microsoft to notify
//! Tenant Mail of new mail (`arrival` = `notify`); `graph_subscription` keeps
//! its Graph change-notification subscription: the id Graph gave it, the
//! folder it watches, when it expires, and only a SHA-256 of the
//! `clientState` secret each notification must carry.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum TenantEmail {
    Table,
    Id,
    Arrival,
}

#[derive(DeriveIden)]
enum GraphSubscription {
    Table,
    TenantEmailId,
    SubscriptionId,
    Folder,
    NotificationUrl,
    ClientStateHash,
    ExpiresAt,
    NeedsReauth,
    CreatedAt,
    LastNotifiedAt,
    LastError,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(TenantEmail::Table)
                    .add_column(
                        ColumnDef::new(TenantEmail::Arrival)
                            .string_len(8)
                            .not_null()
                            .default("poll"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(GraphSubscription::Table)
                    .col(
                        ColumnDef::new(GraphSubscription::TenantEmailId)
                            .string_len(36)
                            .not_null()
                            .primary_key(),
                    )
                    // None while the last attempt to subscribe failed (`last_error` says why).
                    .col(
                        ColumnDef::new(GraphSubscription::SubscriptionId)
                            .string_len(128)
                            .null(),
                    )
                    .col(ColumnDef::new(GraphSubscription::Folder).text().not_null())
                    .col(
                        ColumnDef::new(GraphSubscription::NotificationUrl)
                            .text()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(GraphSubscription::ClientStateHash)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(GraphSubscription::ExpiresAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(GraphSubscription::NeedsReauth)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(
                        ColumnDef::new(GraphSubscription::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(GraphSubscription::LastNotifiedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(GraphSubscription::LastError).text().null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(GraphSubscription::Table, GraphSubscription::TenantEmailId)
                            .to(TenantEmail::Table, TenantEmail::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // A notification names its subscription: found by that id.
        manager
            .create_index(
                Index::create()
                    .name("graph_subscription_id")
                    .table(GraphSubscription::Table)
                    .col(GraphSubscription::SubscriptionId)
                    .unique()
                    .to_owned(),
            )
            .await
    }
}
