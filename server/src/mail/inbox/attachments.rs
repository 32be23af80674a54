//! A received message's attachments: listed (described only), then each file
//! fetched through `$value` and stored as it arrives — kept in its row when
//! small, written to a blob a chunk at a time when not — so memory holds at
//! most a chunk of a file, never a message's worth of base64 JSON.
use super::sync::{Inbox, SyncOutcome};
use crate::db::inbox::{FileContent, NewAttachment};
use crate::db::{Store, StoreError};
use crate::identity::AccessToken;
use crate::mail::graph::{AttachmentKind, AttachmentMeta, GraphError};

/// A file up to this size stays in memory and in its attachment row; a larger
/// one is written to a blob in chunks of this size.
pub const CHUNK_BYTES: usize = 1024 * 1024;
/// Graph's largest attachment is 150 MB: an answer past this is refused.
pub const MAX_FILE_BYTES: u64 = 160 * 1024 * 1024;

/// Why a file's download stopped.
enum Stopped {
    /// Graph's answer was cut off or too large: the sync stops, the next one retries.
    Read(String),
    Store(StoreError),
}

/// A message's attachments, and how many of their bytes are held in memory.
pub(super) struct Received {
    pub attachments: Vec<NewAttachment>,
    pub held: usize,
}

impl Inbox {
    /// Lists the message's attachments and fetches each file. A message gone
    /// meanwhile has none; a file gone meanwhile is kept as described.
    pub(super) async fn fetch_attachments(
        &self,
        id: &str,
        token: &AccessToken,
        message_id: &str,
    ) -> Result<Received, SyncOutcome> {
        let list = match self
            .call(id, |g| g.attachment_list(token, message_id))
            .await
        {
            Ok(list) => list,
            Err(GraphError::Rejected { status: 404, .. }) => Vec::new(),
            Err(e) => return Err(self.graph_problem(id, e).await),
        };
        let mut out = Received {
            attachments: Vec::with_capacity(list.len()),
            held: 0,
        };
        for mut meta in list {
            let content = match meta.kind {
                AttachmentKind::File => self.fetch_file(id, token, message_id, &meta).await?,
                // A forwarded message: kept as the `.eml` file Graph's MIME
                // export makes of it, downloadable like any file.
                AttachmentKind::Item => {
                    let content = self.fetch_file(id, token, message_id, &meta).await?;
                    if content.is_some() {
                        meta.name = eml_name(&meta.name);
                        meta.content_type = "message/rfc822".into();
                    }
                    content
                }
                AttachmentKind::Reference => None,
            };
            let size = match &content {
                Some(FileContent::Bytes(b)) => {
                    out.held += b.len();
                    i64::try_from(b.len()).unwrap_or(i64::MAX)
                }
                Some(FileContent::Blob { size, .. }) => *size,
                None => meta.size,
            };
            out.attachments.push(NewAttachment {
                graph_id: meta.id,
                name: meta.name,
                content_type: meta.content_type,
                size,
                is_inline: meta.is_inline,
                content_id: meta.content_id,
                content,
            });
        }
        Ok(out)
    }

    /// One file's bytes, under one of the mailbox's Graph request slots.
    async fn fetch_file(
        &self,
        id: &str,
        token: &AccessToken,
        message_id: &str,
        meta: &AttachmentMeta,
    ) -> Result<Option<FileContent>, SyncOutcome> {
        let store = &self.store;
        let fetched = self
            .call(id, |g| async move {
                let response = g.attachment_value(token, message_id, &meta.id).await?;
                Ok(save(store, id, response).await)
            })
            .await;
        match fetched {
            Ok(Ok(content)) => Ok(Some(content)),
            Ok(Err(Stopped::Read(why))) => Err(SyncOutcome::Failed(format!(
                "The attachment \"{}\" could not be read from Microsoft Graph: {why}",
                meta.name
            ))),
            Ok(Err(Stopped::Store(e))) => Err(e.into()),
            Err(GraphError::Rejected { status: 404, .. }) => Ok(None),
            Err(e) => Err(self.graph_problem(id, e).await),
        }
    }
}

/// Reads a `$value` answer: the bytes in memory while they fit in one chunk,
/// in a blob of this mailbox from the moment they do not. A blob left by a
/// failure is deleted here (or, after a crash, by the next sync's sweep).
async fn save(
    store: &Store,
    mailbox: &str,
    response: reqwest::Response,
) -> Result<FileContent, Stopped> {
    let mut blob: Option<String> = None;
    let saved = write(store, mailbox, response, &mut blob).await;
    if let (Err(_), Some(id)) = (&saved, &blob) {
        if let Err(e) = store.inbox().blob_discard(id).await {
            tracing::warn!(error = %e, "inbox: cannot delete a half-written attachment; the next sync sweeps it");
        }
    }
    saved
}

async fn write(
    store: &Store,
    mailbox: &str,
    mut response: reqwest::Response,
    blob: &mut Option<String>,
) -> Result<FileContent, Stopped> {
    if response
        .content_length()
        .is_some_and(|n| n > MAX_FILE_BYTES)
    {
        return Err(too_large());
    }
    let mut buffer: Vec<u8> = Vec::new();
    let (mut total, mut seq) = (0u64, 0i32);
    loop {
        let piece = match response.chunk().await {
            Ok(Some(piece)) => piece,
            Ok(None) => break,
            Err(e) => return Err(Stopped::Read(crate::mail::graph::chain(e))),
        };
        total += piece.len() as u64;
        if total > MAX_FILE_BYTES {
            return Err(too_large());
        }
        buffer.extend_from_slice(&piece);
        while buffer.len() >= CHUNK_BYTES {
            let rest = buffer.split_off(CHUNK_BYTES);
            let full = std::mem::replace(&mut buffer, rest);
            append(store, mailbox, blob, seq, full).await?;
            seq += 1;
        }
    }
    let Some(id) = blob.clone() else {
        return Ok(FileContent::Bytes(buffer));
    };
    if !buffer.is_empty() {
        append(store, mailbox, blob, seq, buffer).await?;
    }
    Ok(FileContent::Blob {
        id,
        size: i64::try_from(total).unwrap_or(i64::MAX),
    })
}

/// Writes chunk `seq`, creating the blob with the first one.
async fn append(
    store: &Store,
    mailbox: &str,
    blob: &mut Option<String>,
    seq: i32,
    bytes: Vec<u8>,
) -> Result<(), Stopped> {
    let id = match blob {
        Some(id) => id.clone(),
        None => {
            let id = store
                .inbox()
                .blob_create(mailbox)
                .await
                .map_err(Stopped::Store)?;
            *blob = Some(id.clone());
            id
        }
    };
    store
        .inbox()
        .blob_append(&id, seq, bytes)
        .await
        .map_err(Stopped::Store)
}

/// An attached message's file name: its subject, as `.eml`.
fn eml_name(name: &str) -> String {
    let name = name.trim();
    if name.to_ascii_lowercase().ends_with(".eml") {
        name.to_string()
    } else if name.is_empty() {
        "message.eml".to_string()
    } else {
        format!("{name}.eml")
    }
}

fn too_large() -> Stopped {
    Stopped::Read(format!(
        "it is larger than {} MiB, more than Microsoft 365 allows",
        MAX_FILE_BYTES / (1024 * 1024)
    ))
}
