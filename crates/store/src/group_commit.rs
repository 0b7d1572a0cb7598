//! SQLite writes with group commit: concurrent write transactions share one durable commit.
//!
//! SQLite allows one writer at a time, and a durable commit waits for an fsync that costs more
//! than the rest of a typical use case together. So, as PostgreSQL does with `commit_delay`,
//! writers that arrive while another is writing join its transaction, each inside a savepoint of
//! its own, and one `COMMIT` makes the whole batch durable. A writer's `commit` returns only after
//! that `COMMIT` succeeded; if it fails, every writer in the batch gets the error. A writer that
//! fails or is dropped rolls back its own savepoint only. A writer alone runs exactly as before:
//! `BEGIN IMMEDIATE`, its statements, `COMMIT`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use sqlx::SqliteConnection;
use tokio::sync::{Mutex, OwnedMutexGuard, oneshot};

use crate::{StoreError, StoreResult};

/// Writers committed together at most, so one batch cannot hold the write lock for long.
const MAX_BATCH: usize = 64;

/// How long a writer that handed its batch on waits before committing the batch itself, in case
/// the writer it was waiting for gave up without committing.
const COMMIT_DELAY_LIMIT: Duration = Duration::from_millis(20);

/// The one writer connection and the batch it has open.
#[derive(Debug)]
pub(crate) struct GroupWriter {
    slot: Arc<Mutex<Slot>>,
    /// Writers waiting for the connection; a committing writer hands the batch on while any wait.
    waiting: AtomicUsize,
    next_batch: AtomicU64,
    /// Batches committed, and the writes they made durable, for tests and benchmarks.
    commits: AtomicU64,
    committed_writes: AtomicU64,
}

#[derive(Debug)]
struct Slot {
    connection: Box<SqliteConnection>,
    batch: Option<Batch>,
    /// Set when a writer was dropped mid-transaction; undone before the connection is used again.
    abandoned: Option<Undo>,
}

#[derive(Debug)]
struct Batch {
    id: u64,
    /// Writers whose work is in the batch, waiting to hear whether it committed.
    members: Vec<oneshot::Sender<Result<(), String>>>,
}

/// How to undo one writer's uncommitted work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Undo {
    /// It opened the batch: roll back the whole transaction (nobody else has joined yet).
    Transaction,
    /// It joined a batch: roll back to its savepoint.
    Savepoint,
}

impl GroupWriter {
    pub(crate) fn new(connection: SqliteConnection) -> Self {
        Self {
            slot: Arc::new(Mutex::new(Slot {
                connection: Box::new(connection),
                batch: None,
                abandoned: None,
            })),
            waiting: AtomicUsize::new(0),
            next_batch: AtomicU64::new(1),
            commits: AtomicU64::new(0),
            committed_writes: AtomicU64::new(0),
        }
    }

    /// Starts a write: opens a batch, or joins the open one with a savepoint.
    pub(crate) async fn begin(self: &Arc<Self>) -> StoreResult<WriteJob> {
        let mut slot = {
            let _waiting = Waiting::new(&self.waiting);
            self.slot.clone().lock_owned().await
        };
        slot.settle().await?;
        let undo = if slot.batch.is_some() {
            sqlx::raw_sql("SAVEPOINT custodian_write")
                .execute(&mut *slot.connection)
                .await?;
            Undo::Savepoint
        } else {
            sqlx::raw_sql("BEGIN IMMEDIATE")
                .execute(&mut *slot.connection)
                .await
                .map_err(StoreError::unavailable)?;
            slot.batch = Some(Batch {
                id: self.next_batch.fetch_add(1, Ordering::Relaxed),
                members: Vec::new(),
            });
            Undo::Transaction
        };
        Ok(WriteJob {
            slot: Some(slot),
            writer: Arc::clone(self),
            undo,
        })
    }

    /// Runs `work` on the connection outside any batch (migrations, closing).
    pub(crate) async fn with_connection<T>(
        &self,
        work: impl AsyncFnOnce(&mut SqliteConnection) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let mut slot = self.slot.lock().await;
        slot.settle().await?;
        if slot.batch.is_some() {
            slot.commit_batch(self).await?;
        }
        work(&mut slot.connection).await
    }

    /// How many commits made how many writes durable so far.
    pub(crate) fn commit_statistics(&self) -> CommitStatistics {
        CommitStatistics {
            commits: self.commits.load(Ordering::Relaxed),
            writes: self.committed_writes.load(Ordering::Relaxed),
        }
    }

    fn nobody_waiting(&self) -> bool {
        self.waiting.load(Ordering::Acquire) == 0
    }
}

/// How many durable commits made how many writes durable: more writes than commits means
/// writers shared commits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommitStatistics {
    pub commits: u64,
    pub writes: u64,
}

/// Counts a writer as waiting while it waits for the connection, even if it is cancelled.
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn new(counter: &'a AtomicUsize) -> Self {
        counter.fetch_add(1, Ordering::AcqRel);
        Self(counter)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Slot {
    /// Undoes the work of a writer that was dropped without committing.
    async fn settle(&mut self) -> StoreResult<()> {
        match self.abandoned.take() {
            None => Ok(()),
            Some(Undo::Savepoint) => {
                sqlx::raw_sql(
                    "ROLLBACK TO SAVEPOINT custodian_write; RELEASE SAVEPOINT custodian_write",
                )
                .execute(&mut *self.connection)
                .await?;
                Ok(())
            }
            Some(Undo::Transaction) => {
                self.batch = None;
                sqlx::raw_sql("ROLLBACK")
                    .execute(&mut *self.connection)
                    .await?;
                Ok(())
            }
        }
    }

    /// Commits the open batch and tells every member how it went.
    async fn commit_batch(&mut self, writer: &GroupWriter) -> StoreResult<()> {
        let Some(batch) = self.batch.take() else {
            return Ok(());
        };
        let result = sqlx::raw_sql("COMMIT").execute(&mut *self.connection).await;
        if result.is_err() {
            // Leave no half-open transaction behind; the commit's own error is what matters.
            let _ = sqlx::raw_sql("ROLLBACK")
                .execute(&mut *self.connection)
                .await;
        }
        if result.is_ok() && !batch.members.is_empty() {
            writer.commits.fetch_add(1, Ordering::Relaxed);
            writer
                .committed_writes
                .fetch_add(batch.members.len() as u64, Ordering::Relaxed);
        }
        let shared = result.as_ref().map(|_| ()).map_err(ToString::to_string);
        for member in batch.members {
            let _ = member.send(shared.clone());
        }
        result.map(|_| ()).map_err(StoreError::from)
    }
}

/// One writer's transaction: a whole SQLite transaction, or a savepoint in a shared one.
pub(crate) struct WriteJob {
    slot: Option<OwnedMutexGuard<Slot>>,
    writer: Arc<GroupWriter>,
    undo: Undo,
}

impl WriteJob {
    /// The connection, for queries.
    pub(crate) fn connection(&mut self) -> StoreResult<&mut Box<SqliteConnection>> {
        match self.slot.as_mut() {
            Some(slot) => Ok(&mut slot.connection),
            None => Err(StoreError::corrupt(
                "write transaction",
                "used after it ended",
            )),
        }
    }

    /// Makes the work durable, alone or with the writers waiting behind it, and returns only
    /// once it is.
    pub(crate) async fn commit(mut self) -> StoreResult<()> {
        let Some(mut slot) = self.slot.take() else {
            return Ok(());
        };
        if self.undo == Undo::Savepoint
            && let Err(error) = sqlx::raw_sql("RELEASE SAVEPOINT custodian_write")
                .execute(&mut *slot.connection)
                .await
        {
            slot.abandoned = Some(Undo::Savepoint);
            return Err(error.into());
        }
        let (told, mut hear) = oneshot::channel();
        let Some(batch) = slot.batch.as_mut() else {
            return Err(StoreError::corrupt(
                "write batch",
                "missing while committing",
            ));
        };
        batch.members.push(told);
        let batch_id = batch.id;
        if self.writer.nobody_waiting() || batch.members.len() >= MAX_BATCH {
            return slot.commit_batch(&self.writer).await;
        }
        // Hand the open batch to the next writer; whoever ends it commits it for everyone.
        drop(slot);
        let heard = match tokio::time::timeout(COMMIT_DELAY_LIMIT, &mut hear).await {
            Ok(heard) => heard,
            Err(_) => {
                let mut slot = self.writer.slot.lock().await;
                slot.settle().await?;
                if slot.batch.as_ref().is_some_and(|b| b.id == batch_id) {
                    return slot.commit_batch(&self.writer).await;
                }
                // Someone ended the batch meanwhile, so the answer is already waiting.
                drop(slot);
                hear.await
            }
        };
        match heard {
            Ok(Ok(())) => Ok(()),
            Ok(Err(message)) => Err(StoreError::CommitFailed(message)),
            Err(_) => Err(StoreError::CommitFailed(
                "the batch ended without a commit".to_owned(),
            )),
        }
    }

    /// Abandons the work.
    pub(crate) async fn rollback(mut self) -> StoreResult<()> {
        let Some(mut slot) = self.slot.take() else {
            return Ok(());
        };
        slot.abandoned = Some(self.undo);
        slot.settle().await?;
        if self.writer.nobody_waiting() {
            slot.commit_batch(&self.writer).await?;
        }
        Ok(())
    }
}

impl Drop for WriteJob {
    /// A writer dropped without committing (an error mid-way) is undone; if nobody else is
    /// waiting to write, a task commits whatever others left in the batch, so the write lock
    /// is never held by an idle connection.
    fn drop(&mut self) {
        let Some(mut slot) = self.slot.take() else {
            return;
        };
        slot.abandoned = Some(self.undo);
        drop(slot);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let writer = Arc::clone(&self.writer);
            runtime.spawn(async move {
                let mut slot = writer.slot.lock().await;
                if slot.settle().await.is_ok()
                    && writer.nobody_waiting()
                    && let Err(error) = slot.commit_batch(&writer).await
                {
                    tracing::error!(%error, "committing a write batch after an abandoned write failed");
                }
            });
        }
    }
}
