//! A received attachment's `Content-ID`: the name an HTML body uses for an
//! inline image (`<img src="cid:…">`), so the reader can show it in place.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum InboxAttachment {
    Table,
    ContentId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(InboxAttachment::Table)
                    .add_column(ColumnDef::new(InboxAttachment::ContentId).text().null())
                    .to_owned(),
            )
            .await
    }
}
