//! Test support: a fresh, migrated register on either backend for every test.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod database;

pub use database::{Backend, TestDatabase, postgres_admin_url};
