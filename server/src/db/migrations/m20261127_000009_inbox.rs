//! Receiving: per-mailbox settings on `tenant_email`, the delta-sync state of
//! each mailbox, and the received messages with their attachments.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum TenantEmail {
    Table,
    Id,
    ReceiveFolder,
    AfterProcessing,
    MoveToFolder,
    PollIntervalSeconds,
    ImportSince,
}

#[derive(DeriveIden)]
enum InboxSync {
    Table,
    TenantEmailId,
    Folder,
    Since,
    NextLink,
    DeltaLink,
    RoundStartedAt,
    LastSyncAt,
    LastError,
    SyncRequestedAt,
    LeaseOwner,
    LeaseUntil,
    LastSeq,
}

#[derive(DeriveIden)]
enum InboxMessage {
    Table,
    Id,
    TenantEmailId,
    Seq,
    GraphId,
    InternetMessageId,
    FromName,
    FromAddress,
    ToJson,
    CcJson,
    ReplyToJson,
    Subject,
    ReceivedAt,
    BodyText,
    BodyHtml,
    AttachmentCount,
    ActionState,
    ActionError,
    ActionAttempts,
    LeftFolderAt,
    AcknowledgedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum InboxAttachment {
    Table,
    Id,
    MessageId,
    GraphAttachmentId,
    Name,
    ContentType,
    Size,
    IsInline,
    Content,
}

fn ts(c: impl IntoIden) -> ColumnDef {
    ColumnDef::new(c).timestamp_with_time_zone().to_owned()
}

async fn add_column(manager: &SchemaManager<'_>, column: ColumnDef) -> Result<(), DbErr> {
    // One column per statement: SQLite's ALTER TABLE adds one at a time.
    manager
        .alter_table(
            Table::alter()
                .table(TenantEmail::Table)
                .add_column(column)
                .to_owned(),
        )
        .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_column(
            manager,
            ColumnDef::new(TenantEmail::ReceiveFolder)
                .string_len(255)
                .not_null()
                .default("inbox")
                .to_owned(),
        )
        .await?;
        add_column(
            manager,
            ColumnDef::new(TenantEmail::AfterProcessing)
                .string_len(16)
                .not_null()
                .default("leave")
                .to_owned(),
        )
        .await?;
        add_column(
            manager,
            ColumnDef::new(TenantEmail::MoveToFolder)
                .string_len(255)
                .null()
                .to_owned(),
        )
        .await?;
        add_column(
            manager,
            ColumnDef::new(TenantEmail::PollIntervalSeconds)
                .integer()
                .not_null()
                .default(60)
                .to_owned(),
        )
        .await?;
        add_column(manager, ts(TenantEmail::ImportSince).null().to_owned()).await?;

        manager
            .create_table(
                Table::create()
                    .table(InboxSync::Table)
                    .col(
                        ColumnDef::new(InboxSync::TenantEmailId)
                            .string_len(36)
                            .not_null()
                            .primary_key(),
                    )
                    // The folder the links below belong to: another folder starts over.
                    .col(ColumnDef::new(InboxSync::Folder).string_len(255).not_null())
                    // Mail received before this is not imported.
                    .col(ts(InboxSync::Since).not_null())
                    // Mid-round: the next page to fetch (committed with the page before it).
                    .col(ColumnDef::new(InboxSync::NextLink).text().null())
                    // Between rounds: where the next round starts.
                    .col(ColumnDef::new(InboxSync::DeltaLink).text().null())
                    .col(ts(InboxSync::RoundStartedAt).null())
                    .col(ts(InboxSync::LastSyncAt).null())
                    .col(ColumnDef::new(InboxSync::LastError).text().null())
                    .col(ts(InboxSync::SyncRequestedAt).null())
                    .col(ColumnDef::new(InboxSync::LeaseOwner).string_len(36).null())
                    .col(ts(InboxSync::LeaseUntil).null())
                    // The last position given to a received message of this mailbox.
                    .col(
                        ColumnDef::new(InboxSync::LastSeq)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(InboxSync::Table, InboxSync::TenantEmailId)
                            .to(TenantEmail::Table, TenantEmail::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(InboxMessage::Table)
                    .col(
                        ColumnDef::new(InboxMessage::Id)
                            .string_len(36)
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(InboxMessage::TenantEmailId)
                            .string_len(36)
                            .not_null(),
                    )
                    .col(ColumnDef::new(InboxMessage::Seq).big_integer().not_null())
                    // Graph's immutable id: the key replays are deduplicated on.
                    .col(
                        ColumnDef::new(InboxMessage::GraphId)
                            .string_len(512)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(InboxMessage::InternetMessageId)
                            .text()
                            .not_null(),
                    )
                    .col(ColumnDef::new(InboxMessage::FromName).text().null())
                    .col(ColumnDef::new(InboxMessage::FromAddress).text().null())
                    .col(ColumnDef::new(InboxMessage::ToJson).text().not_null())
                    .col(ColumnDef::new(InboxMessage::CcJson).text().not_null())
                    .col(ColumnDef::new(InboxMessage::ReplyToJson).text().not_null())
                    .col(ColumnDef::new(InboxMessage::Subject).text().not_null())
                    .col(ts(InboxMessage::ReceivedAt).not_null())
                    .col(ColumnDef::new(InboxMessage::BodyText).text().not_null())
                    .col(ColumnDef::new(InboxMessage::BodyHtml).text().null())
                    .col(
                        ColumnDef::new(InboxMessage::AttachmentCount)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(
                        ColumnDef::new(InboxMessage::ActionState)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(InboxMessage::ActionError).text().null())
                    .col(
                        ColumnDef::new(InboxMessage::ActionAttempts)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(ts(InboxMessage::LeftFolderAt).null())
                    .col(ts(InboxMessage::AcknowledgedAt).null())
                    .col(ts(InboxMessage::CreatedAt).not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(InboxMessage::Table, InboxMessage::TenantEmailId)
                            .to(TenantEmail::Table, TenantEmail::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("inbox_message_graph_id")
                    .table(InboxMessage::Table)
                    .col(InboxMessage::TenantEmailId)
                    .col(InboxMessage::GraphId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("inbox_message_seq")
                    .table(InboxMessage::Table)
                    .col(InboxMessage::TenantEmailId)
                    .col(InboxMessage::Seq)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("inbox_message_action")
                    .table(InboxMessage::Table)
                    .col(InboxMessage::ActionState)
                    .col(InboxMessage::TenantEmailId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(InboxAttachment::Table)
                    .col(
                        ColumnDef::new(InboxAttachment::Id)
                            .string_len(36)
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(InboxAttachment::MessageId)
                            .string_len(36)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(InboxAttachment::GraphAttachmentId)
                            .text()
                            .not_null(),
                    )
                    .col(ColumnDef::new(InboxAttachment::Name).text().not_null())
                    .col(
                        ColumnDef::new(InboxAttachment::ContentType)
                            .text()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(InboxAttachment::Size)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(InboxAttachment::IsInline)
                            .boolean()
                            .not_null(),
                    )
                    // Null for attachments that are not files (an attached item or a link).
                    .col(ColumnDef::new(InboxAttachment::Content).blob().null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(InboxAttachment::Table, InboxAttachment::MessageId)
                            .to(InboxMessage::Table, InboxMessage::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("inbox_attachment_message")
                    .table(InboxAttachment::Table)
                    .col(InboxAttachment::MessageId)
                    .to_owned(),
            )
            .await
    }
}
