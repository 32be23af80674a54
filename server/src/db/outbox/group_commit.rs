//! Group commit for the two writes every message makes on its way out
//! ("this is its draft", "it was sent"). Each caller still waits until its
//! write is durable, but writes that arrive while a commit is in progress
//! share the next one, so under load a commit (an fsync on SQLite with
//! synchronous=FULL, a WAL flush on PostgreSQL) is paid per batch instead of
//! per message. Nothing is delayed on purpose: a lone write commits at once.
use super::claim::{mark_sent, record_draft};
use super::OutboxMessage;
use crate::db::{Store, StoreError};
use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, DbErr, TransactionTrait};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Writes per transaction at most (keeps one batch's transaction short).
const MAX_BATCH: usize = 256;

enum Write {
    Draft {
        id: String,
        owner: String,
        graph_id: String,
    },
    Sent {
        id: String,
        owner: String,
    },
}

struct Job {
    write: Write,
    now: DateTime<Utc>,
    done: oneshot::Sender<Result<bool, StoreError>>,
}

#[derive(Clone)]
pub struct GroupCommit {
    jobs: mpsc::Sender<Job>,
    store: Store,
}

impl GroupCommit {
    /// Starts the committing task on the current runtime.
    pub fn start(store: &Store) -> Self {
        let (jobs, rx) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(run(store.conn.clone(), rx));
        Self {
            jobs,
            store: store.clone(),
        }
    }

    /// Records the id of `m`'s draft while its lease holds, durable when
    /// this returns `Ok(true)`; `Ok(false)`: the lease was lost.
    pub async fn record_draft(
        &self,
        m: &OutboxMessage,
        graph_id: &str,
    ) -> Result<bool, StoreError> {
        self.submit(Write::Draft {
            id: m.id.clone(),
            owner: m.lease().to_string(),
            graph_id: graph_id.into(),
        })
        .await
    }

    /// Records `m` as sent (and releases its lease), durable when this
    /// returns `Ok(true)`; `Ok(false)`: the lease was lost.
    pub async fn mark_sent(&self, m: &OutboxMessage) -> Result<bool, StoreError> {
        self.submit(Write::Sent {
            id: m.id.clone(),
            owner: m.lease().to_string(),
        })
        .await
    }

    async fn submit(&self, write: Write) -> Result<bool, StoreError> {
        let (done, result) = oneshot::channel();
        let now = self.store.now();
        self.jobs
            .send(Job { write, now, done })
            .await
            .map_err(|_| StoreError::Stopped)?;
        result.await.map_err(|_| StoreError::Stopped)?
    }
}

async fn run(db: DatabaseConnection, mut rx: mpsc::Receiver<Job>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        match commit(&db, &batch).await {
            Ok(results) => {
                for (job, applied) in batch.into_iter().zip(results) {
                    let _ = job.done.send(Ok(applied));
                }
            }
            // Nothing of this batch is durable: every caller hears so and
            // takes its usual "could not record" path.
            Err(e) => {
                let shared = Arc::new(e);
                for job in batch {
                    let _ = job.done.send(Err(StoreError::Batch(shared.clone())));
                }
            }
        }
    }
}

/// One transaction for the batch; each write keeps its own lease condition,
/// so one that lost its lease is refused without affecting the others.
async fn commit(db: &DatabaseConnection, batch: &[Job]) -> Result<Vec<bool>, DbErr> {
    let txn = db.begin().await?;
    let mut results = Vec::with_capacity(batch.len());
    for job in batch {
        let applied = match &job.write {
            Write::Draft {
                id,
                owner,
                graph_id,
            } => record_draft(&txn, id, owner, graph_id, job.now).await?,
            Write::Sent { id, owner } => mark_sent(&txn, id, owner, job.now).await?,
        };
        results.push(applied);
    }
    txn.commit().await?;
    Ok(results)
}
