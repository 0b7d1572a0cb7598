//! Custodian's register: the database port, with SQLite (the embedded default) and PostgreSQL
//! behind one type chosen at start-up. Every query is written once and runs on both.

mod access;
mod audit;
mod batch;
mod consents;
mod error;
mod grants;
mod group_commit;
mod holds;
mod location;
mod media;
mod persons;
mod physical_media;
mod queue;
mod recordings;
mod retention;
mod rows;
mod sessions;
mod sso;
mod staff;
mod sweep;
mod sweep_rows;
mod tasks;
mod totp;

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Connection, Postgres, Sqlite, Transaction};

use crate::group_commit::{GroupWriter, WriteJob};

pub use access::{EmergencyAccess, PersonAccess, PersonalConnection, PolicyProposal, StoredPolicy};
pub use error::StoreError;
pub use group_commit::CommitStatistics;
pub use location::DatabaseLocation;
pub use media::{DestructionRecord, MediaRecord};
pub use persons::PersonMatch;
pub use queue::{DueRange, QueueKey};
pub use retention::{
    DisposalReviewRecord, DisposalToStore, PeriodChangeRecord, PersonRetention, RecordingIdRow,
    RecordingRetention, StaffIdRow, StoredDisposal,
};
pub use sso::PendingSsoLogin;
pub use staff::{ApiToken, StaffAccount};
pub use sweep::{
    ExtensionRecord, StoredState, SweepCounts, SweepDerivation, SweepRecord, SweepSubject,
    SweeperRow, WithdrawalRecord,
};
pub use tasks::DisposalTaskRecord;

/// The result of a register operation.
pub type StoreResult<T> = Result<T, StoreError>;

/// Runs the same query code on whichever backend a transaction belongs to. The body is
/// compiled once per backend, so each query is written once and type-checked for both.
macro_rules! on_both {
    ($tx:expr, $conn:ident => $body:expr) => {
        match &mut $tx.conn {
            $crate::Conn::SqliteRead($conn) => $body,
            $crate::Conn::SqliteWrite(job) => {
                let $conn = job.connection()?;
                $body
            }
            $crate::Conn::Postgres($conn) => $body,
        }
    };
}
pub(crate) use on_both;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The register, on one backend or the other. Cheap to clone: it holds connection pools.
#[derive(Clone, Debug)]
pub struct Register {
    backend: Backend,
}

#[derive(Clone, Debug)]
enum Backend {
    /// One writer connection, so writers queue in the process instead of failing with "busy"
    /// and share a durable commit when they arrive together; several readers, which WAL lets
    /// run beside the writer.
    Sqlite {
        writer: Arc<GroupWriter>,
        reader: SqlitePool,
    },
    Postgres(PgPool),
}

/// A transaction on the register. Dropping it without [`RegisterTx::commit`] rolls it back, so a
/// use case that fails half-way leaves nothing behind.
pub struct RegisterTx {
    conn: Conn,
}

enum Conn {
    SqliteRead(Transaction<'static, Sqlite>),
    SqliteWrite(WriteJob),
    Postgres(Transaction<'static, Postgres>),
}

/// Makes `path` readable and writable by its owner only (`mode` 0700 for folders, 0600 files).
fn owner_only(path: &std::path::Path, mode: u32) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
    }
    #[cfg(not(unix))]
    {
        let _ = (path, mode);
        Ok(())
    }
}

/// Creates the file at `path` if it is missing, never readable by others even for a moment,
/// and makes an existing one its owner's only.
fn create_owner_only(path: &std::path::Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).truncate(false).write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?;
    owner_only(path, 0o600)
}

impl Register {
    /// Connects to the register at `location`, creating an SQLite file (and its folder) if needed.
    /// Does not migrate: call [`Register::migrate`].
    pub async fn connect(location: &DatabaseLocation) -> StoreResult<Self> {
        let backend = match location {
            DatabaseLocation::Sqlite(path) => {
                if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(folder)
                        .and_then(|()| owner_only(folder, 0o700))
                        .map_err(|source| StoreError::Folder {
                            path: folder.to_path_buf(),
                            source,
                        })?;
                }
                // Names and NHS numbers are for Custodian's own account only, not every local
                // user's; SQLite gives its -wal and -shm files the database file's permissions.
                create_owner_only(path).map_err(|source| StoreError::Folder {
                    path: path.clone(),
                    source,
                })?;
                // WAL with full synchronisation: a commit is on disk before it is acknowledged.
                let options = SqliteConnectOptions::new()
                    .filename(path)
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Full)
                    .foreign_keys(true)
                    // Deleted content (a destroyed content key) is overwritten, not just unlinked.
                    .pragma("secure_delete", "ON")
                    .busy_timeout(Duration::from_secs(10))
                    // Reads of a large register (the retention sweep's, lists) go through the
                    // memory map (up to 64 GiB, address space only: SQLite maps no more than
                    // the file) rather than a system call per page, and keep more pages.
                    .pragma("mmap_size", "68719476736")
                    .pragma("cache_size", "-32768");
                let writer = Arc::new(GroupWriter::new(
                    sqlx::SqliteConnection::connect_with(&options)
                        .await
                        .map_err(StoreError::unavailable)?,
                ));
                let reader = SqlitePoolOptions::new()
                    .max_connections(8)
                    // Each connection's thread hands rows over up to a thousand at a time
                    // rather than fifty, so a long read (the sweep's) switches threads less.
                    .connect_with(options.read_only(true).row_buffer_size(1024))
                    .await
                    .map_err(StoreError::unavailable)?;
                Backend::Sqlite { writer, reader }
            }
            DatabaseLocation::Postgres(url) => {
                let options: PgConnectOptions = url.parse().map_err(StoreError::unavailable)?;
                let pool = PgPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(options)
                    .await
                    .map_err(StoreError::unavailable)?;
                Backend::Postgres(pool)
            }
        };
        Ok(Self { backend })
    }

    /// Brings the schema up to date with this version's migrations.
    pub async fn migrate(&self) -> StoreResult<()> {
        match &self.backend {
            Backend::Sqlite { writer, .. } => {
                writer
                    .with_connection(async |connection| {
                        Ok(SQLITE_MIGRATIONS.run(connection).await?)
                    })
                    .await?
            }
            Backend::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await?,
        }
        Ok(())
    }

    /// On SQLite, how many durable commits made how many writes durable (PostgreSQL groups
    /// commits itself and reports nothing here).
    pub fn commit_statistics(&self) -> Option<CommitStatistics> {
        match &self.backend {
            Backend::Sqlite { writer, .. } => Some(writer.commit_statistics()),
            Backend::Postgres(_) => None,
        }
    }

    /// "sqlite" or "postgres".
    pub fn backend_name(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite { .. } => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// Starts a transaction that will write. On SQLite it takes the write lock at once, so a
    /// transaction never fails half-way because another writer got there first, and writers
    /// arriving together share one durable commit (see `group_commit`).
    pub async fn write(&self) -> StoreResult<RegisterTx> {
        let conn = match &self.backend {
            Backend::Sqlite { writer, .. } => Conn::SqliteWrite(writer.begin().await?),
            Backend::Postgres(pool) => {
                Conn::Postgres(pool.begin().await.map_err(StoreError::unavailable)?)
            }
        };
        Ok(RegisterTx { conn })
    }

    /// Starts a read-only transaction: a consistent snapshot for gathering evidence and lists.
    pub async fn read(&self) -> StoreResult<RegisterTx> {
        let conn = match &self.backend {
            Backend::Sqlite { reader, .. } => {
                Conn::SqliteRead(reader.begin().await.map_err(StoreError::unavailable)?)
            }
            Backend::Postgres(pool) => Conn::Postgres(
                pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await
                    .map_err(StoreError::unavailable)?,
            ),
        };
        Ok(RegisterTx { conn })
    }

    /// Checks the database answers, for readiness probes.
    pub async fn ping(&self) -> StoreResult<()> {
        let mut tx = self.read().await?;
        // Cast, because PostgreSQL types a bare 1 as a 4-byte integer and SQLite as an 8-byte one.
        let one: i64 = on_both!(tx, conn => sqlx::query_scalar("SELECT CAST(1 AS BIGINT)")
            .fetch_one(&mut **conn)
            .await?);
        debug_assert_eq!(one, 1);
        tx.rollback().await
    }

    /// After a destruction, removes what the database may still hold of the destroyed key beyond
    /// its live pages: on SQLite, checkpoints and truncates the write-ahead log (deleted content
    /// is already overwritten, `secure_delete`); PostgreSQL reclaims space with `VACUUM`.
    pub async fn scrub(&self) -> StoreResult<()> {
        match &self.backend {
            Backend::Sqlite { writer, .. } => {
                writer
                    .with_connection(async |connection| {
                        sqlx::raw_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                            .execute(connection)
                            .await?;
                        Ok(())
                    })
                    .await
            }
            Backend::Postgres(pool) => {
                sqlx::raw_sql("VACUUM recording_media")
                    .execute(pool)
                    .await?;
                Ok(())
            }
        }
    }

    /// Closes every connection, waiting for transactions in progress.
    pub async fn close(&self) {
        match &self.backend {
            Backend::Sqlite { writer, reader } => {
                reader.close().await;
                // Commit any batch still open; the connection closes when the register is dropped.
                if let Err(error) = writer.with_connection(async |_| Ok(())).await {
                    tracing::error!(%error, "closing the register");
                }
            }
            Backend::Postgres(pool) => pool.close().await,
        }
    }
}

impl RegisterTx {
    /// Makes the transaction's changes permanent.
    pub async fn commit(self) -> StoreResult<()> {
        match self.conn {
            Conn::SqliteRead(tx) => tx.commit().await?,
            Conn::SqliteWrite(job) => job.commit().await?,
            Conn::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }

    /// Abandons the transaction's changes.
    pub async fn rollback(self) -> StoreResult<()> {
        match self.conn {
            Conn::SqliteRead(tx) => tx.rollback().await?,
            Conn::SqliteWrite(job) => job.rollback().await?,
            Conn::Postgres(tx) => tx.rollback().await?,
        }
        Ok(())
    }
}
