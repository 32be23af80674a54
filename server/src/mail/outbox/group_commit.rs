//! Group commit for the two writes every message makes on its way out
//! ("this is its draft", "it was sent"). Each caller still waits until its
//! write is durable, but writes that arrive while a commit is in progress
//! share the next one, so under load a commit (an fsync on SQLite with
//! synchronous=FULL, a WAL flush on PostgreSQL) is paid per batch instead of
//! per message. Nothing is delayed on purpose: a lone write commits at once.
use super::store;
use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, DbErr, TransactionTrait};
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
    done: oneshot::Sender<Result<bool, String>>,
}

#[derive(Clone)]
pub struct GroupCommit {
    jobs: mpsc::Sender<Job>,
}

impl GroupCommit {
    /// Starts the committing task on the current runtime.
    pub fn start(db: DatabaseConnection) -> Self {
        let (jobs, rx) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(run(db, rx));
        Self { jobs }
    }

    /// `store::record_draft`, durable when this returns `Ok`.
    pub async fn record_draft(
        &self,
        id: &str,
        owner: &str,
        graph_id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, String> {
        self.submit(
            Write::Draft {
                id: id.into(),
                owner: owner.into(),
                graph_id: graph_id.into(),
            },
            now,
        )
        .await
    }

    /// `store::mark_sent`, durable when this returns `Ok`.
    pub async fn mark_sent(
        &self,
        id: &str,
        owner: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, String> {
        self.submit(
            Write::Sent {
                id: id.into(),
                owner: owner.into(),
            },
            now,
        )
        .await
    }

    async fn submit(&self, write: Write, now: DateTime<Utc>) -> Result<bool, String> {
        let (done, result) = oneshot::channel();
        self.jobs
            .send(Job { write, now, done })
            .await
            .map_err(|_| "the commit task has stopped".to_string())?;
        result
            .await
            .map_err(|_| "the commit task has stopped".to_string())?
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
                let why = e.to_string();
                for job in batch {
                    let _ = job.done.send(Err(why.clone()));
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
            } => store::record_draft(&txn, id, owner, graph_id, job.now).await?,
            Write::Sent { id, owner } => store::mark_sent(&txn, id, owner, job.now).await?,
        };
        results.push(applied);
    }
    txn.commit().await?;
    Ok(results)
}
