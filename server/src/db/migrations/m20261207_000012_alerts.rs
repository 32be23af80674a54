//! Alerts: where they go (`alert_destination`), which mailbox conditions are
//! raised right now (`alert_state`, one row per mailbox and condition, so an
//! alert is sent once per state, not once per check), and what is still to
//! be delivered (`alert_delivery`, durable like the outbox: a decided alert
//! survives a crash and is delivered once).
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum TenantEmail {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum AlertDestination {
    Table,
    Id,
    Kind,
    Name,
    Target,
    SenderEmailId,
    Secret,
    CreatedAt,
    CreatedBy,
    LastDeliveryAt,
    LastDeliveryOk,
    LastDeliveryDetail,
    LeaseOwner,
    LeaseUntil,
}

#[derive(DeriveIden)]
enum AlertState {
    Table,
    TenantEmailId,
    Condition,
    Level,
    Since,
    Title,
    Detail,
    Fix,
}

#[derive(DeriveIden)]
enum AlertDelivery {
    Table,
    Id,
    DestinationId,
    Event,
    State,
    BatchId,
    Attempts,
    NextAttemptAt,
    CreatedAt,
    DeliveredAt,
    LastError,
}

fn ts(c: impl IntoIden) -> ColumnDef {
    ColumnDef::new(c).timestamp_with_time_zone().to_owned()
}

fn id(c: impl IntoIden) -> ColumnDef {
    ColumnDef::new(c).string_len(36).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AlertDestination::Table)
                    .col(id(AlertDestination::Id).not_null().primary_key())
                    // `email` or `webhook` (the in-app banner needs no row).
                    .col(
                        ColumnDef::new(AlertDestination::Kind)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AlertDestination::Name)
                            .string_len(100)
                            .not_null(),
                    )
                    // Comma-separated addresses, or the webhook URL.
                    .col(
                        ColumnDef::new(AlertDestination::Target)
                            .string_len(2048)
                            .not_null(),
                    )
                    // The Tenant Email alert mails are sent through.
                    .col(id(AlertDestination::SenderEmailId).null())
                    // The webhook's signing secret, sealed like every secret at rest.
                    .col(ColumnDef::new(AlertDestination::Secret).text().null())
                    .col(ts(AlertDestination::CreatedAt).not_null())
                    .col(
                        ColumnDef::new(AlertDestination::CreatedBy)
                            .string_len(100)
                            .not_null(),
                    )
                    .col(ts(AlertDestination::LastDeliveryAt).null())
                    .col(
                        ColumnDef::new(AlertDestination::LastDeliveryOk)
                            .boolean()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(AlertDestination::LastDeliveryDetail)
                            .string_len(500)
                            .null(),
                    )
                    // One instance delivers a destination's alerts at a time.
                    .col(id(AlertDestination::LeaseOwner).null())
                    .col(ts(AlertDestination::LeaseUntil).null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_alert_destination_sender")
                            .from(AlertDestination::Table, AlertDestination::SenderEmailId)
                            .to(TenantEmail::Table, TenantEmail::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AlertState::Table)
                    .col(id(AlertState::TenantEmailId).not_null())
                    // connection / secret / outbox / inbox
                    .col(
                        ColumnDef::new(AlertState::Condition)
                            .string_len(32)
                            .not_null(),
                    )
                    // How bad: a connection status, a secret's days left, …
                    .col(ColumnDef::new(AlertState::Level).string_len(32).not_null())
                    .col(ts(AlertState::Since).not_null())
                    // What the banner and the Alerts page show while it lasts.
                    .col(ColumnDef::new(AlertState::Title).text().not_null())
                    .col(ColumnDef::new(AlertState::Detail).text().not_null())
                    .col(ColumnDef::new(AlertState::Fix).text().not_null())
                    .primary_key(
                        Index::create()
                            .col(AlertState::TenantEmailId)
                            .col(AlertState::Condition),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_alert_state_tenant_email")
                            .from(AlertState::Table, AlertState::TenantEmailId)
                            .to(TenantEmail::Table, TenantEmail::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AlertDelivery::Table)
                    .col(id(AlertDelivery::Id).not_null().primary_key())
                    .col(id(AlertDelivery::DestinationId).not_null())
                    // The alert as JSON, made when it was decided.
                    .col(ColumnDef::new(AlertDelivery::Event).text().not_null())
                    // pending / delivered / failed
                    .col(
                        ColumnDef::new(AlertDelivery::State)
                            .string_len(16)
                            .not_null(),
                    )
                    // Alerts delivered together (a digest); kept across retries,
                    // so a retried delivery is the same one (same id, same mail).
                    .col(id(AlertDelivery::BatchId).null())
                    .col(
                        ColumnDef::new(AlertDelivery::Attempts)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(ts(AlertDelivery::NextAttemptAt).not_null())
                    .col(ts(AlertDelivery::CreatedAt).not_null())
                    .col(ts(AlertDelivery::DeliveredAt).null())
                    .col(
                        ColumnDef::new(AlertDelivery::LastError)
                            .string_len(500)
                            .null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_alert_delivery_destination")
                            .from(AlertDelivery::Table, AlertDelivery::DestinationId)
                            .to(AlertDestination::Table, AlertDestination::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_alert_delivery_due")
                    .table(AlertDelivery::Table)
                    .col(AlertDelivery::State)
                    .col(AlertDelivery::DestinationId)
                    .col(AlertDelivery::NextAttemptAt)
                    .to_owned(),
            )
            .await
    }
}
