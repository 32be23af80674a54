//! `inbox_blob` and `inbox_blob_chunk`: the bytes of a received attachment
//! too large to hold whole, written a chunk at a time as Graph sends them.
//!
//! A blob is written before the page that names it is committed (the page's
//! transaction cannot stay open while megabytes arrive). A sync that stops in
//! between leaves a blob no attachment points to; [`Inbox::sweep_blobs`]
//! deletes those once they are older than a sync lease, so it never takes
//! one a live sync is still writing or about to commit.
use super::Inbox;
use crate::db::entities::{inbox_attachment, inbox_blob, inbox_blob_chunk};
use crate::db::StoreError;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    TransactionTrait,
};

/// How a stored file's bytes are kept.
pub enum FileContent {
    /// Small enough to keep in the attachment row.
    Bytes(Vec<u8>),
    /// In the chunks of this blob, in order (`size` bytes in all).
    Blob { id: String, size: i64 },
}

// Hand-written: file bytes stay out of debug output and logs.
impl std::fmt::Debug for FileContent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FileContent::Bytes(b) => write!(f, "Bytes({} bytes)", b.len()),
            FileContent::Blob { id, size } => write!(f, "Blob({id}, {size} bytes)"),
        }
    }
}

/// Unreferenced blobs deleted per sweep (the next sync takes the rest).
const SWEEP_BATCH: u64 = 100;

impl Inbox<'_> {
    /// A new, empty blob of this mailbox.
    pub async fn blob_create(&self, tenant_email_id: &str) -> Result<String, StoreError> {
        let id = uuid::Uuid::new_v4().to_string();
        inbox_blob::ActiveModel {
            id: Set(id.clone()),
            tenant_email_id: Set(tenant_email_id.to_string()),
            created_at: Set(self.0.now()),
        }
        .insert(&self.0.conn)
        .await?;
        Ok(id)
    }

    /// Adds chunk `seq` (0, 1, 2 …) of a blob. Fails when the blob has been
    /// swept away meanwhile (its writer had stalled past a sync lease).
    pub async fn blob_append(
        &self,
        blob_id: &str,
        seq: i32,
        bytes: Vec<u8>,
    ) -> Result<(), StoreError> {
        inbox_blob_chunk::ActiveModel {
            blob_id: Set(blob_id.to_string()),
            seq: Set(seq),
            bytes: Set(bytes),
        }
        .insert(&self.0.conn)
        .await?;
        Ok(())
    }

    /// Chunk `seq` of a blob, or `None` past its last one.
    pub async fn blob_chunk(&self, blob_id: &str, seq: i32) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(inbox_blob_chunk::Entity::find()
            .select_only()
            .column(inbox_blob_chunk::Column::Bytes)
            .filter(inbox_blob_chunk::Column::BlobId.eq(blob_id))
            .filter(inbox_blob_chunk::Column::Seq.eq(seq))
            .into_tuple()
            .one(&self.0.conn)
            .await?)
    }

    /// A whole blob (callers bound its size: an inline image, say).
    pub async fn blob_bytes(&self, blob_id: &str) -> Result<Vec<u8>, StoreError> {
        let chunks: Vec<Vec<u8>> = inbox_blob_chunk::Entity::find()
            .select_only()
            .column(inbox_blob_chunk::Column::Bytes)
            .filter(inbox_blob_chunk::Column::BlobId.eq(blob_id))
            .order_by_asc(inbox_blob_chunk::Column::Seq)
            .into_tuple()
            .all(&self.0.conn)
            .await?;
        Ok(chunks.concat())
    }

    /// Deletes a blob and its chunks (a download that failed half-way).
    pub async fn blob_discard(&self, blob_id: &str) -> Result<(), StoreError> {
        self.delete_blobs(vec![blob_id.to_string()]).await
    }

    /// Deletes this mailbox's blobs that no attachment points to and that are
    /// older than `lease` (left by a sync that stopped before committing).
    /// Returns how many were deleted.
    pub async fn sweep_blobs(
        &self,
        tenant_email_id: &str,
        lease: chrono::Duration,
    ) -> Result<usize, StoreError> {
        let cutoff = self.0.now() - lease;
        let old: Vec<String> = inbox_blob::Entity::find()
            .select_only()
            .column(inbox_blob::Column::Id)
            .filter(inbox_blob::Column::TenantEmailId.eq(tenant_email_id))
            .filter(inbox_blob::Column::CreatedAt.lt(cutoff))
            .limit(SWEEP_BATCH)
            .into_tuple()
            .all(&self.0.conn)
            .await?;
        if old.is_empty() {
            return Ok(0);
        }
        let kept: Vec<Option<String>> = inbox_attachment::Entity::find()
            .select_only()
            .column(inbox_attachment::Column::BlobId)
            .filter(inbox_attachment::Column::BlobId.is_in(old.iter().cloned()))
            .into_tuple()
            .all(&self.0.conn)
            .await?;
        let kept: std::collections::HashSet<String> = kept.into_iter().flatten().collect();
        let orphans: Vec<String> = old.into_iter().filter(|b| !kept.contains(b)).collect();
        let n = orphans.len();
        if n > 0 {
            self.delete_blobs(orphans).await?;
        }
        Ok(n)
    }

    /// Chunks first, then the blobs, in one transaction (not left to the
    /// foreign key's cascade, so it holds whatever the connection's settings).
    async fn delete_blobs(&self, ids: Vec<String>) -> Result<(), StoreError> {
        let txn = self.0.conn.begin().await?;
        inbox_blob_chunk::Entity::delete_many()
            .filter(inbox_blob_chunk::Column::BlobId.is_in(ids.iter().cloned()))
            .exec(&txn)
            .await?;
        inbox_blob::Entity::delete_many()
            .filter(inbox_blob::Column::Id.is_in(ids))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(())
    }
}
