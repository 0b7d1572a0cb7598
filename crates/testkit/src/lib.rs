//! Test support: a fresh, migrated register on either backend for every test, and the whole
//! application driven through its router.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod app;
mod browser;
mod client;
mod database;
pub mod fixtures;
mod garage;
pub mod oidc;
pub mod outside;

pub use app::{
    ADMIN_PASSWORD, CLINICIAN, CLINICIAN_PASSWORD, CLINICIAN_SERVICE, IG_LEAD, IG_LEAD_PASSWORD,
    Reply, SignIn, TEST_MAX_UPLOAD, TestApp, form_token_for,
};
pub use browser::Browser;
pub use client::As;
pub use database::{Backend, TestDatabase, postgres_admin_url};
pub use garage::Garage;
pub use outside::{Needs, skip_without};
