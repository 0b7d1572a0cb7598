//! Benchmark: durable consent creation with its audit event through the use-case layer on
//! SQLite, beside a bare durable SQLite insert measured in the same run on the same disk.
#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use custodian_app::persons::PersonForm;
use custodian_app::{Custodian, SystemClock};
use custodian_core::consent::{
    ConsentAnswer, ConsentForm, ConsentGiver, Scope, Signature, SignatureMethod,
};
use custodian_core::nhs_number::NhsNumber;
use custodian_core::person::{Capacity, PersonName};
use custodian_core::purpose::PurposeSet;
use custodian_core::text::{ServiceCode, ShortText};
use custodian_store::{DatabaseLocation, Register};
use sqlx::Connection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};

const TARGET_PER_SECOND: f64 = 2_000.0;
const BUDGET: Duration = Duration::from_secs(5);

/// Inserts one row per durable transaction, with the register's own SQLite settings.
async fn bare_inserts_per_second(folder: &std::path::Path) -> f64 {
    let options = SqliteConnectOptions::new()
        .filename(folder.join("bare.db"))
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full);
    let mut connection = sqlx::SqliteConnection::connect_with(&options)
        .await
        .unwrap();
    sqlx::query("CREATE TABLE rows (id BLOB PRIMARY KEY, body TEXT NOT NULL) STRICT")
        .execute(&mut connection)
        .await
        .unwrap();
    let start = Instant::now();
    let mut count = 0u32;
    while start.elapsed() < BUDGET {
        let mut tx = connection.begin_with("BEGIN IMMEDIATE").await.unwrap();
        sqlx::query("INSERT INTO rows (id, body) VALUES ($1, $2)")
            .bind(uuid::Uuid::now_v7())
            .bind("a consent form's worth of text")
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        count += 1;
    }
    f64::from(count) / start.elapsed().as_secs_f64()
}

async fn consents_per_second(folder: &std::path::Path) -> f64 {
    let register = Register::connect(&DatabaseLocation::Sqlite(folder.join("register.db")))
        .await
        .unwrap();
    register.migrate().await.unwrap();
    let custodian = Custodian::new(register, Arc::new(SystemClock)).unwrap();
    custodian
        .ensure_administrator(Some("benchmark pass phrase"))
        .await
        .unwrap();
    let caller = custodian
        .sign_in("admin", "benchmark pass phrase")
        .await
        .unwrap()
        .caller;
    let person = custodian
        .register_person(
            &caller,
            PersonForm {
                name: PersonName::parse("Ada", "Benchmark").unwrap(),
                date_of_birth: time::macros::date!(1970 - 01 - 01),
                nhs_number: Some(NhsNumber::parse("9990000018").unwrap()),
                local_identifier: None,
                capacity: Capacity::HasCapacity,
            },
        )
        .await
        .unwrap();
    let form = || ConsentForm {
        answer: ConsentAnswer::Given,
        purposes: PurposeSet::parse(["clinical", "supervision_and_training"]).unwrap(),
        given_by: ConsentGiver::Person,
        scope: Scope::Service {
            service: ServiceCode::parse("CAMHS-NORTH").unwrap(),
        },
        signed_at: time::OffsetDateTime::now_utc(),
        signature: Signature {
            method: SignatureMethod::Drawn,
            signed_by: ShortText::parse("signed_by", "Ada Benchmark").unwrap(),
            witness: None,
        },
        representatives_may_have_copies: false,
        research: None,
        told_refusal_does_not_affect_care: true,
        notes: None,
    };
    let start = Instant::now();
    let mut count = 0u32;
    while start.elapsed() < BUDGET {
        custodian
            .record_consent(&caller, person.id, form())
            .await
            .unwrap();
        count += 1;
    }
    let rate = f64::from(count) / start.elapsed().as_secs_f64();
    let trail = custodian.verify_audit_trail().await.unwrap();
    assert!(
        trail.events >= u64::from(count),
        "every consent has its audit event"
    );
    rate
}

fn main() {
    // The server runs on the multi-threaded runtime; measure on the same.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let folder =
        tempfile::tempdir_in(std::env::var("BENCH_DIR").unwrap_or_else(|_| ".".to_owned()))
            .unwrap();
    let (bare, consents) = runtime.block_on(async {
        let bare = bare_inserts_per_second(folder.path()).await;
        let consents = consents_per_second(folder.path()).await;
        (bare, consents)
    });
    println!(
        "register write benchmark: SQLite, WAL, synchronous=FULL, one transaction per write, one writer"
    );
    println!("  baseline: bare durable insert                   {bare:>8.0} /s");
    println!(
        "  record_consent (consent + purposes + audit)     {consents:>8.0} /s   {:.2}x the bare insert",
        consents / bare
    );
    println!(
        "  target {TARGET_PER_SECOND:.0} consents/s: {:.2}x the target -> {}",
        consents / TARGET_PER_SECOND,
        if consents >= TARGET_PER_SECOND {
            "MET"
        } else {
            "NOT MET"
        }
    );
}
