//! The behaviour suite: one test binary, each story run on SQLite and on PostgreSQL.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

/// Runs each named story, `async fn story(db: TestDatabase)`, once per backend.
macro_rules! on_both_backends {
    ($($story:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $story() {
                    super::$story(custodian_testkit::TestDatabase::new(custodian_testkit::Backend::Sqlite).await).await
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $story() {
                    super::$story(custodian_testkit::TestDatabase::new(custodian_testkit::Backend::Postgres).await).await
                }
            )+
        }
    };
}

/// Runs each named story, `async fn story(app: TestApp)`, once per backend.
macro_rules! app_on_both_backends {
    ($($story:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $story() {
                    super::$story(custodian_testkit::TestApp::new(custodian_testkit::Backend::Sqlite).await).await
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $story() {
                    super::$story(custodian_testkit::TestApp::new(custodian_testkit::Backend::Postgres).await).await
                }
            )+
        }
    };
}

mod access;
mod access_admin_pages;
mod access_pages;
mod access_table;
/// Runs each named story, `async fn story(backend: Backend)`, once per backend: for stories that
/// build their own app (with single sign-on, say).
macro_rules! sso_on_both_backends {
    ($($story:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $story() {
                    super::$story(custodian_testkit::Backend::Sqlite).await
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $story() {
                    super::$story(custodian_testkit::Backend::Postgres).await
                }
            )+
        }
    };
}

mod accounts;
mod audit;
mod browser;
mod browser_access;
mod browser_journey;
mod browser_keyboard;
mod browser_retention;
mod browser_sso;
mod browser_totp;
mod cli;
mod cli_vault;
mod consent_pages;
mod decisions;
mod hardening;
mod input;
mod media_gate;
mod media_gate_properties;
mod openapi;
mod pages;
mod reads;
mod register;
mod retention;
mod retention_disposal;
mod retention_holds;
mod retention_pages;
mod retention_pages_holds;
mod retention_physical_media;
mod retention_queue;
mod schema;
mod schemathesis;
mod session_pages;
mod sso;
mod totp;
mod vault;
