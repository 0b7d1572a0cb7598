//! The one error type of the register.

use std::path::PathBuf;

/// Why a register operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "`{location}` is not a database location; use `sqlite://PATH` or `postgres://USER@HOST/DATABASE`"
    )]
    BadLocation { location: String },

    #[error("cannot create the register's file or folder `{}`, readable by Custodian alone: {source}", path.display())]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("the database is unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),

    /// A uniqueness rule was broken: the caller tried to add something that exists already.
    #[error("this would duplicate an existing record ({constraint})")]
    Duplicate { constraint: String },

    /// A reference named something that does not exist.
    #[error("this refers to a record that does not exist ({constraint})")]
    MissingReference { constraint: String },

    /// The database holds something the domain cannot accept: corruption or a bug.
    #[error("stored {what} is not valid: {problem}")]
    Corrupt { what: &'static str, problem: String },

    /// A shared commit failed, so this write, made durable with others, was not.
    #[error("the database could not commit the change: {0}")]
    CommitFailed(String),

    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),

    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

impl StoreError {
    pub(crate) fn unavailable(error: sqlx::Error) -> Self {
        Self::Unavailable(error)
    }

    pub(crate) fn corrupt(what: &'static str, problem: impl std::fmt::Display) -> Self {
        Self::Corrupt {
            what,
            problem: problem.to_string(),
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        if let sqlx::Error::Database(database) = &error {
            let constraint = database
                .constraint()
                .map(str::to_owned)
                .unwrap_or_else(|| database.message().to_owned());
            if database.is_unique_violation() {
                return Self::Duplicate { constraint };
            }
            if database.is_foreign_key_violation() {
                return Self::MissingReference { constraint };
            }
        }
        match error {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_) => Self::Unavailable(error),
            other => Self::Database(other),
        }
    }
}
