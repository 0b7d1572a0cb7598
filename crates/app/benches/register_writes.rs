//! Benchmark: durable consent creation with its audit event through the use-case layer on
//! SQLite — one member of staff at a time, and many at once as a busy server sees them —
//! beside a bare durable SQLite insert measured in the same run on the same disk.
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
const CONCURRENT_WRITERS: usize = 16;

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

/// An application over a fresh SQLite register, with a signed-in caller and a person.
async fn application(
    folder: &std::path::Path,
) -> (
    Custodian,
    custodian_app::Caller,
    custodian_core::ids::PersonId,
) {
    let register = Register::connect(&DatabaseLocation::Sqlite(folder.join("register.db")))
        .await
        .unwrap();
    register.migrate().await.unwrap();
    let vault = custodian_app::vault::VaultSettings::local(folder);
    let custodian = Custodian::start(register, Arc::new(SystemClock), vault)
        .await
        .unwrap();
    custodian
        .create_member_with_password(
            custodian_app::staff::NewStaff {
                username: custodian_core::staff::Username::parse("bench.clinician").unwrap(),
                display_name: ShortText::parse("name", "Bench Clinician").unwrap(),
                roles: vec![custodian_core::staff::Role::Practitioner],
                services: vec![custodian_core::text::ServiceCode::parse("CAMHS-NORTH").unwrap()],
            },
            "benchmark pass phrase",
        )
        .await
        .unwrap();
    let custodian_app::SignInStep::Complete(signed_in) = custodian
        .sign_in("bench.clinician", "benchmark pass phrase")
        .await
        .unwrap()
    else {
        unreachable!("a practitioner without an authenticator app signs in at once")
    };
    let caller = signed_in.caller;
    let person = custodian
        .register_person(
            &caller,
            PersonForm {
                name: PersonName::parse("Ada", "Benchmark").unwrap(),
                date_of_birth: time::macros::date!(1970 - 01 - 01),
                nhs_number: Some(NhsNumber::parse("9990000018").unwrap()),
                local_identifier: None,
                capacity: Capacity::HasCapacity,
                service: None,
            },
        )
        .await
        .unwrap();
    (custodian, caller, person.id)
}

fn consent_form() -> ConsentForm {
    ConsentForm {
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
            drawing: Some(
                custodian_core::signature::SignatureDrawing::parse("10,150 40,60 80,150").unwrap(),
            ),
        },
        representatives_may_have_copies: false,
        research: None,
        told_refusal_does_not_affect_care: true,
        notes: None,
    }
}

/// Consents recorded per second by `writers` members of staff at once, each one after another.
async fn consents_per_second(
    folder: &std::path::Path,
    writers: usize,
) -> (f64, Option<custodian_store::CommitStatistics>) {
    let (custodian, caller, person) = application(folder).await;
    let before = custodian.register().commit_statistics();
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..writers {
        let (custodian, caller) = (custodian.clone(), caller.clone());
        tasks.push(tokio::spawn(async move {
            let mut count = 0u32;
            while start.elapsed() < BUDGET {
                custodian
                    .record_consent(&caller, person, consent_form())
                    .await
                    .unwrap();
                count += 1;
            }
            count
        }));
    }
    let mut count = 0u32;
    for task in tasks {
        count += task.await.unwrap();
    }
    let rate = f64::from(count) / start.elapsed().as_secs_f64();
    let trail = custodian.verify_audit_trail().await.unwrap();
    assert!(
        trail.events >= u64::from(count),
        "every consent has its audit event"
    );
    let statistics = match (before, custodian.register().commit_statistics()) {
        (Some(before), Some(after)) => Some(custodian_store::CommitStatistics {
            commits: after.commits - before.commits,
            writes: after.writes - before.writes,
        }),
        _ => None,
    };
    (rate, statistics)
}

fn main() {
    // The server runs on the multi-threaded runtime; measure on the same.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let base = std::env::var("BENCH_DIR").unwrap_or_else(|_| ".".to_owned());
    let (bare, alone, together) = runtime.block_on(async {
        let folders = [(); 3].map(|()| tempfile::tempdir_in(&base).unwrap());
        let bare = bare_inserts_per_second(folders[0].path()).await;
        let alone = consents_per_second(folders[1].path(), 1).await;
        let together = consents_per_second(folders[2].path(), CONCURRENT_WRITERS).await;
        (bare, alone, together)
    });
    let batch = |statistics: Option<custodian_store::CommitStatistics>| {
        statistics.map_or(String::new(), |s| {
            format!(
                "  ({:.1} writes per fsync)",
                s.writes as f64 / s.commits.max(1) as f64
            )
        })
    };
    println!(
        "register write benchmark: SQLite, WAL, synchronous=FULL; every write durable before it returns"
    );
    println!("  baseline: bare durable insert, one writer            {bare:>8.0} /s");
    println!(
        "  record_consent, one member of staff at a time         {:>8.0} /s   {:.2}x the bare insert{}",
        alone.0,
        alone.0 / bare,
        batch(alone.1)
    );
    println!(
        "  record_consent, {CONCURRENT_WRITERS} members of staff at once            {:>8.0} /s   {:.2}x the bare insert{}",
        together.0,
        together.0 / bare,
        batch(together.1)
    );
    let best = alone.0.max(together.0);
    println!(
        "  target {TARGET_PER_SECOND:.0} consents/s: one at a time {:.2}x, at once {:.2}x the target -> {}",
        alone.0 / TARGET_PER_SECOND,
        together.0 / TARGET_PER_SECOND,
        if best >= TARGET_PER_SECOND {
            "MET"
        } else {
            "NOT MET"
        }
    );
}
