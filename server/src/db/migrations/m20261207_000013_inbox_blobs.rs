//! Received attachments too large to hold whole: their bytes go to
//! `inbox_blob_chunk` as they arrive from Graph, a chunk at a time, under an
//! `inbox_blob` that the attachment row points to once its page is committed.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum TenantEmail {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum InboxBlob {
    Table,
    Id,
    TenantEmailId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum InboxBlobChunk {
    Table,
    BlobId,
    Seq,
    Bytes,
}

#[derive(DeriveIden)]
enum InboxAttachment {
    Table,
    BlobId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(InboxBlob::Table)
                    .col(
                        ColumnDef::new(InboxBlob::Id)
                            .string_len(36)
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(InboxBlob::TenantEmailId)
                            .string_len(36)
                            .not_null(),
                    )
                    // A blob no attachment points to, older than a sync lease, was
                    // left by a sync that stopped before its page was committed.
                    .col(
                        ColumnDef::new(InboxBlob::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(InboxBlob::Table, InboxBlob::TenantEmailId)
                            .to(TenantEmail::Table, TenantEmail::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("inbox_blob_mailbox")
                    .table(InboxBlob::Table)
                    .col(InboxBlob::TenantEmailId)
                    .col(InboxBlob::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(InboxBlobChunk::Table)
                    .col(
                        ColumnDef::new(InboxBlobChunk::BlobId)
                            .string_len(36)
                            .not_null(),
                    )
                    .col(ColumnDef::new(InboxBlobChunk::Seq).integer().not_null())
                    .col(ColumnDef::new(InboxBlobChunk::Bytes).blob().not_null())
                    .primary_key(
                        Index::create()
                            .col(InboxBlobChunk::BlobId)
                            .col(InboxBlobChunk::Seq),
                    )
                    // A chunk written for a blob already swept away is refused.
                    .foreign_key(
                        ForeignKey::create()
                            .from(InboxBlobChunk::Table, InboxBlobChunk::BlobId)
                            .to(InboxBlob::Table, InboxBlob::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // No foreign key (SQLite cannot add one to an existing table): the
        // sweep keeps every blob an attachment points to.
        manager
            .alter_table(
                Table::alter()
                    .table(InboxAttachment::Table)
                    .add_column(
                        ColumnDef::new(InboxAttachment::BlobId)
                            .string_len(36)
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("inbox_attachment_blob")
                    .table(InboxAttachment::Table)
                    .col(InboxAttachment::BlobId)
                    .to_owned(),
            )
            .await
    }
}
