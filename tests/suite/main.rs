//! The behaviour suite: one test binary, each story run on SQLite and on PostgreSQL.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

/// Runs each named story once per backend, given what it asks for: `database:` stories take a
/// fresh `TestDatabase`, `app:` stories a `TestApp`, and `backend:` stories (which build their own
/// app, with single sign-on say) the `Backend`. `needs` names what else from outside the stories
/// need (`custodian_testkit::Needs`). Without PostgreSQL or a need, a bare `cargo test` skips the
/// stories and says so; `./test`, which provides everything, fails them.
macro_rules! on_both_backends {
    (@given database $backend:expr) => { custodian_testkit::TestDatabase::new($backend).await };
    (@given app $backend:expr) => { custodian_testkit::TestApp::new($backend).await };
    (@given backend $backend:expr) => { $backend };
    (@skip_without [$($need:ident),*]) => {
        $(
            if custodian_testkit::skip_without(custodian_testkit::Needs::$need).await {
                return;
            }
        )*
    };
    ($given:ident: $($story:ident),+ $(,)?) => {
        on_both_backends!($given, needs []: $($story),+);
    };
    ($given:ident, needs $needs:tt: $($story:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $story() {
                    on_both_backends!(@skip_without $needs);
                    super::$story(on_both_backends!(@given $given custodian_testkit::Backend::Sqlite)).await
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $story() {
                    if custodian_testkit::skip_without(custodian_testkit::Needs::Postgres).await {
                        return;
                    }
                    on_both_backends!(@skip_without $needs);
                    super::$story(on_both_backends!(@given $given custodian_testkit::Backend::Postgres)).await
                }
            )+
        }
    };
}

mod access;
mod access_admin_pages;
mod access_pages;
mod access_table;
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
