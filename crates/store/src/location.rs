//! Where the register lives: an SQLite file (the default) or a PostgreSQL server.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::StoreError;

/// A database location, parsed from `sqlite://PATH`, a plain path, or `postgres://…`.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseLocation {
    Sqlite(PathBuf),
    Postgres(String),
}

impl DatabaseLocation {
    /// The default: `register.db` in the data folder.
    pub fn in_data_dir(data_dir: &Path) -> Self {
        Self::Sqlite(data_dir.join("register.db"))
    }

    /// Parses a database URL.
    pub fn parse(url: &str) -> Result<Self, StoreError> {
        let url = url.trim();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_owned()));
        }
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            let path = path.split('?').next().unwrap_or_default();
            if path.is_empty() {
                return Err(StoreError::BadLocation {
                    location: url.to_owned(),
                });
            }
            return Ok(Self::Sqlite(PathBuf::from(path)));
        }
        Err(StoreError::BadLocation {
            location: redact(url),
        })
    }
}

/// Shown without any password, so it can be logged.
impl fmt::Debug for DatabaseLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for DatabaseLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            Self::Postgres(url) => f.write_str(&redact(url)),
        }
    }
}

/// Replaces the password in `scheme://user:password@host` with `***`.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((credentials, host)) => {
            let user = credentials.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}")
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_backends_and_never_shows_a_password() {
        assert_eq!(
            DatabaseLocation::parse("sqlite://data/register.db").unwrap(),
            DatabaseLocation::Sqlite(PathBuf::from("data/register.db"))
        );
        let pg =
            DatabaseLocation::parse("postgres://custodian:s3cret@db.internal/custodian").unwrap();
        assert_eq!(
            pg.to_string(),
            "postgres://custodian:***@db.internal/custodian"
        );
        assert!(!format!("{pg:?}").contains("s3cret"));
        let error = DatabaseLocation::parse("mysql://root:hunter2@x/y").unwrap_err();
        assert!(!error.to_string().contains("hunter2"), "{error}");
    }
}
