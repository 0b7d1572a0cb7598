//! The outside programs and services some tests need, and what a test does when one is missing.
//!
//! `./test` installs and starts all of them and sets `CUSTODIAN_TEST_EVERYTHING=1`: there a
//! missing one fails the test that needs it, naming it. A bare `cargo test` runs every test that
//! needs nothing from outside and skips the rest, saying once on the terminal (past the harness's
//! output capture, so it is never a silent pass) which tests it skipped, why, and what to run.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use sqlx::Connection as _;

use crate::database::postgres_admin_url;

/// Something from outside the workspace that a test needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Needs {
    /// The PostgreSQL server (every story's `postgres::` run).
    Postgres,
    /// Garage, the S3-compatible store (the vault's `s3::` stories).
    Garage,
    /// Headless Chromium, chromedriver, axe-core and poppler (the browser journeys).
    Browser,
    /// Node.js with oidc-provider (the single sign-on stories).
    OidcProvider,
    /// Schemathesis (the OpenAPI document checked against the running API).
    Schemathesis,
}

impl Needs {
    /// Which tests need it, for the notice.
    const fn tests(self) -> &'static str {
        match self {
            Self::Postgres => "the PostgreSQL run of every story (tests under `postgres::`)",
            Self::Garage => "the vault's stories on S3 (tests under `s3::`)",
            Self::Browser => "the browser journeys (tests in `browser*` files)",
            Self::OidcProvider => "the single sign-on stories",
            Self::Schemathesis => "the schemathesis run against the OpenAPI document",
        }
    }
}

/// Whether the test needing `needs` must stop here: `true` (after the notice) under a bare
/// `cargo test` when it is missing; a panic naming it under `./test`; `false` when it is here.
pub async fn skip_without(needs: Needs) -> bool {
    let Some(missing) = what_is_missing(needs).await else {
        return false;
    };
    if std::env::var_os("CUSTODIAN_TEST_EVERYTHING").is_some_and(|v| v == "1") {
        panic!("{} cannot run: {missing}", needs.tests());
    }
    tell_once(needs, &missing);
    true
}

/// What is missing for `needs`, worked out once per test run.
async fn what_is_missing(needs: Needs) -> Option<String> {
    static POSTGRES: tokio::sync::OnceCell<Option<String>> = tokio::sync::OnceCell::const_new();
    match needs {
        Needs::Postgres => POSTGRES.get_or_init(postgres_missing).await.clone(),
        Needs::Garage => crate::garage::binary()
            .is_none()
            .then(|| "Garage is not installed (nor CUSTODIAN_GARAGE set)".to_owned()),
        Needs::Browser => {
            first_missing(&[chromium(), chromedriver(), on_path("pdftotext"), axe_core()])
        }
        Needs::OidcProvider => first_missing(&[
            node(),
            oidc_folder().join("node_modules/oidc-provider/package.json"),
        ]),
        Needs::Schemathesis => first_missing(&[schemathesis()]),
    }
}

async fn postgres_missing() -> Option<String> {
    let url = postgres_admin_url();
    match tokio::time::timeout(Duration::from_secs(5), sqlx::PgConnection::connect(&url)).await {
        Ok(Ok(connection)) => {
            connection.close().await.ok();
            None
        }
        Ok(Err(error)) => Some(format!("PostgreSQL is not reachable at {url} ({error})")),
        Err(_) => Some(format!("PostgreSQL did not answer at {url} within 5 s")),
    }
}

/// Schemathesis as `./test` installs it, or where `CUSTODIAN_SCHEMATHESIS` says.
pub fn schemathesis() -> PathBuf {
    std::env::var_os("CUSTODIAN_SCHEMATHESIS").map_or_else(
        || {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/custodian/venv/bin/st")
        },
        PathBuf::from,
    )
}

/// Headless Chromium: `CUSTODIAN_CHROMIUM`, or Debian's.
pub(crate) fn chromium() -> PathBuf {
    program("CUSTODIAN_CHROMIUM", "/usr/bin/chromium")
}

/// Chromedriver: `CUSTODIAN_CHROMEDRIVER`, or Debian's.
pub(crate) fn chromedriver() -> PathBuf {
    program("CUSTODIAN_CHROMEDRIVER", "/usr/bin/chromedriver")
}

/// axe-core as `npm ci` installs it in `tests/browser`.
pub(crate) fn axe_core() -> PathBuf {
    tests_folder("browser/node_modules/axe-core/axe.min.js")
}

/// Node.js: `CUSTODIAN_NODE`, or `node` on the path.
pub(crate) fn node() -> PathBuf {
    on_path(&std::env::var("CUSTODIAN_NODE").unwrap_or_else(|_| "node".to_owned()))
}

/// The OpenID provider the single sign-on stories start, with its packages.
pub(crate) fn oidc_folder() -> PathBuf {
    tests_folder("oidc")
}

fn program(variable: &str, default: &str) -> PathBuf {
    std::env::var_os(variable).map_or_else(|| PathBuf::from(default), PathBuf::from)
}

fn on_path(name: &str) -> PathBuf {
    if name.contains('/') {
        return PathBuf::from(name);
    }
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|folder| folder.join(name))
                .find(|candidate| candidate.is_file())
        })
        .unwrap_or_else(|| PathBuf::from(name))
}

fn tests_folder(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests")
        .join(relative)
}

fn first_missing(paths: &[PathBuf]) -> Option<String> {
    paths
        .iter()
        .find(|path| !path.is_file())
        .map(|path| format!("{} is missing", path.display()))
}

/// Says once per run, straight to the terminal, which tests are skipped and why.
fn tell_once(needs: Needs, missing: &str) {
    static TOLD: OnceLock<Mutex<Vec<Needs>>> = OnceLock::new();
    let mut told = TOLD
        .get_or_init(|| Mutex::new(Vec::new()))
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if told.contains(&needs) {
        return;
    }
    told.push(needs);
    // Written to the stream itself, not through `eprintln!`, which the harness captures.
    let _ = writeln!(
        std::io::stderr().lock(),
        "\nSKIPPED {}: {missing}. `./test` installs and starts everything the tests need.",
        needs.tests()
    );
}
