//! A fresh register per test: a temporary SQLite file, or a PostgreSQL schema of its own that
//! is dropped afterwards, so tests never see each other's data and can run in parallel.

use std::path::PathBuf;

use custodian_store::{DatabaseLocation, Register};
use sqlx::Connection;

/// Which database a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The PostgreSQL server tests use: `CUSTODIAN_TEST_POSTGRES_URL`, or the local server on
/// 127.0.0.1:5432 as user `postgres` (which `./test` makes sure is running).
pub fn postgres_admin_url() -> String {
    std::env::var("CUSTODIAN_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A migrated register that disappears when the test ends.
pub struct TestDatabase {
    pub backend: Backend,
    pub location: DatabaseLocation,
    pub register: Register,
    /// Keeps the SQLite file's folder alive.
    folder: Option<tempfile::TempDir>,
    /// The PostgreSQL schema to drop afterwards.
    schema: Option<String>,
}

impl TestDatabase {
    /// Creates and migrates a fresh register on `backend`.
    pub async fn new(backend: Backend) -> Self {
        let (location, folder, schema) = match backend {
            Backend::Sqlite => {
                let folder = tempfile::tempdir().expect("a temporary folder");
                let location = DatabaseLocation::Sqlite(folder.path().join("register.db"));
                (location, Some(folder), None)
            }
            Backend::Postgres => {
                let schema = format!("test_{}", uuid::Uuid::now_v7().simple());
                let admin = postgres_admin_url();
                let mut connection = sqlx::PgConnection::connect(&admin).await.unwrap_or_else(|error| {
                    panic!(
                        "cannot reach PostgreSQL at {admin} ({error}); start it (`./test` does) or set CUSTODIAN_TEST_POSTGRES_URL"
                    )
                });
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
                    .execute(&mut connection)
                    .await
                    .expect("a test schema");
                connection.close().await.ok();
                let separator = if admin.contains('?') { '&' } else { '?' };
                let location = DatabaseLocation::parse(&format!(
                    "{admin}{separator}options%5Bsearch_path%5D={schema}"
                ))
                .expect("a url");
                (location, None, Some(schema))
            }
        };
        let register = Register::connect(&location)
            .await
            .expect("the register connects");
        register.migrate().await.expect("the register migrates");
        Self {
            backend,
            location,
            register,
            folder,
            schema,
        }
    }

    /// The SQLite file, for tests that open it directly.
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        match &self.location {
            DatabaseLocation::Sqlite(path) => Some(path.clone()),
            DatabaseLocation::Postgres(_) => None,
        }
    }

    /// The PostgreSQL schema, for tests that open it directly.
    pub fn postgres_schema(&self) -> Option<&str> {
        self.schema.as_deref()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let _ = self.folder.take();
        if let Some(schema) = self.schema.take() {
            // Drop runs outside any async context we can rely on: clean up on a thread of its own.
            let admin = postgres_admin_url();
            let cleanup = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .ok()?;
                runtime.block_on(async {
                    let mut connection = sqlx::PgConnection::connect(&admin).await.ok()?;
                    sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
                        .execute(&mut connection)
                        .await
                        .ok()?;
                    connection.close().await.ok()
                })
            });
            let _ = cleanup.join();
        }
    }
}
