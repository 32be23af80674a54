//! The outbox: messages the application handed over, committed before the
//! caller hears "queued", with their attachments; and the per-mailbox Graph
//! request slots that keep several instances within Microsoft's limit of four
//! concurrent requests per mailbox.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum TenantEmail {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum OutboxMessage {
    Table,
    Id,
    TenantEmailId,
    IdempotencyKey,
    RequestHash,
    State,
    Subject,
    Recipients,
    Message,
    GraphMessageId,
    Attempts,
    NextAttemptAt,
    LeaseOwner,
    LeaseUntil,
    LastError,
    CreatedAt,
    UpdatedAt,
    SentAt,
}

#[derive(DeriveIden)]
enum OutboxAttachment {
    Table,
    OutboxMessageId,
    Position,
    Name,
    ContentType,
    Size,
    Content,
}

#[derive(DeriveIden)]
enum GraphSlot {
    Table,
    TenantEmailId,
    Slot,
    LeaseOwner,
    LeaseUntil,
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
                    .table(OutboxMessage::Table)
                    .col(
                        ColumnDef::new(OutboxMessage::Id)
                            .string_len(36)
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(OutboxMessage::TenantEmailId)
                            .string_len(36)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(OutboxMessage::IdempotencyKey)
                            .string_len(200)
                            .null(),
                    )
                    // SHA-256 of the request: the same key with other content is a conflict.
                    .col(
                        ColumnDef::new(OutboxMessage::RequestHash)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(OutboxMessage::State)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(OutboxMessage::Subject)
                            .string_len(998)
                            .not_null(),
                    )
                    .col(ColumnDef::new(OutboxMessage::Recipients).text().not_null())
                    // The message without attachment bytes, as JSON.
                    .col(ColumnDef::new(OutboxMessage::Message).text().not_null())
                    // The draft's immutable id once created: the key to "was it sent?".
                    .col(
                        ColumnDef::new(OutboxMessage::GraphMessageId)
                            .string_len(512)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(OutboxMessage::Attempts)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(ts(OutboxMessage::NextAttemptAt).not_null())
                    .col(
                        ColumnDef::new(OutboxMessage::LeaseOwner)
                            .string_len(36)
                            .null(),
                    )
                    .col(ts(OutboxMessage::LeaseUntil).null())
                    .col(ColumnDef::new(OutboxMessage::LastError).text().null())
                    .col(ts(OutboxMessage::CreatedAt).not_null())
                    .col(ts(OutboxMessage::UpdatedAt).not_null())
                    .col(ts(OutboxMessage::SentAt).null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(OutboxMessage::Table, OutboxMessage::TenantEmailId)
                            .to(TenantEmail::Table, TenantEmail::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("outbox_message_idempotency")
                    .table(OutboxMessage::Table)
                    .col(OutboxMessage::TenantEmailId)
                    .col(OutboxMessage::IdempotencyKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("outbox_message_due")
                    .table(OutboxMessage::Table)
                    .col(OutboxMessage::State)
                    .col(OutboxMessage::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("outbox_message_mailbox")
                    .table(OutboxMessage::Table)
                    .col(OutboxMessage::TenantEmailId)
                    .col(OutboxMessage::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OutboxAttachment::Table)
                    .col(
                        ColumnDef::new(OutboxAttachment::OutboxMessageId)
                            .string_len(36)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(OutboxAttachment::Position)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(OutboxAttachment::Name)
                            .string_len(255)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(OutboxAttachment::ContentType)
                            .string_len(255)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(OutboxAttachment::Size)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(OutboxAttachment::Content).blob().not_null())
                    .primary_key(
                        Index::create()
                            .col(OutboxAttachment::OutboxMessageId)
                            .col(OutboxAttachment::Position),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(OutboxAttachment::Table, OutboxAttachment::OutboxMessageId)
                            .to(OutboxMessage::Table, OutboxMessage::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(GraphSlot::Table)
                    .col(
                        ColumnDef::new(GraphSlot::TenantEmailId)
                            .string_len(36)
                            .not_null(),
                    )
                    .col(ColumnDef::new(GraphSlot::Slot).integer().not_null())
                    .col(ColumnDef::new(GraphSlot::LeaseOwner).string_len(36).null())
                    .col(ts(GraphSlot::LeaseUntil).null())
                    .primary_key(
                        Index::create()
                            .col(GraphSlot::TenantEmailId)
                            .col(GraphSlot::Slot),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(GraphSlot::Table, GraphSlot::TenantEmailId)
                            .to(TenantEmail::Table, TenantEmail::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }
}
