//! Benchmark: the gate (X1) on SQLite with 100,000 recordings — deciding a use (access and
//! consent) and issuing its grant, durably audited, and a byte-range request's check under a
//! grant — each beside a bare primary-key read of a recording and a bare durable insert,
//! measured in the same run on the same disk.
//!
//! The register is the demo multiplied to `CUSTODIAN_BENCH_RECORDINGS` (default 100,000); the
//! uses are of the demo's own recordings (the copies have no consents), with the whole register
//! in place. `CUSTODIAN_BENCH_DIR` sets the folder (default the system's temporary folder).
#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

#[path = "common/large_register.rs"]
mod large_register;

use std::path::Path;
use std::time::{Duration, Instant};

use custodian_app::uses::UseAsked;
use custodian_app::{Caller, Custodian, Secret};
use custodian_core::ids::RecordingId;
use custodian_core::purpose::Purpose;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{Connection, SqliteConnection};

/// The allocator the `custodian` binary uses.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Issue 19: deciding a use and issuing its grant, under 2 ms at the 99th percentile.
const TARGET_P99: Duration = Duration::from_millis(2);
const DEFAULT_RECORDINGS: u64 = 100_000;
const DEMO_PEOPLE: u32 = 300;
const SAMPLES: usize = 1_000;

fn main() {
    large_register::run_in_folder(DEFAULT_RECORDINGS, |folder, wanted| async move {
        run(&folder, wanted).await;
    });
}

async fn run(folder: &Path, wanted: u64) {
    let database = folder.join("register.db");
    let custodian = large_register::open(folder).await;
    let summary = custodian_demo::load(&custodian, DEMO_PEOPLE, 3)
        .await
        .unwrap();
    let caller = large_register::practitioner(&custodian).await;
    let demo: Vec<RecordingId> = {
        let mut raw = large_register::raw_connection(&database).await;
        let ids: Vec<uuid::Uuid> = sqlx::query_scalar("SELECT id FROM recordings")
            .fetch_all(&mut raw)
            .await
            .unwrap();
        ids.into_iter().map(RecordingId::from_uuid).collect()
    };
    custodian.register().close().await;
    let mut raw = large_register::raw_connection(&database).await;
    let copies = wanted
        .div_ceil(u64::from(summary.recordings))
        .saturating_sub(1);
    large_register::multiply(&mut raw, copies).await;
    // The demo registers recordings without media; a request under a grant reads the grant and
    // the media's row (not the vault), so each gets a row to find.
    sqlx::query(
        "INSERT INTO recording_media (recording_id, object_key, content_type, size, sha256, wrapped_key, stored_at, stored_by)
         SELECT r.id, 'bench/' || hex(r.id), 'video/mp4', 1, zeroblob(32), zeroblob(64), r.made_at, r.made_by
         FROM recordings r WHERE NOT EXISTS (SELECT 1 FROM recording_media m WHERE m.recording_id = r.id)",
    )
    .execute(&mut raw)
    .await
    .unwrap();
    let recordings: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM recordings")
        .fetch_one(&mut raw)
        .await
        .unwrap();
    raw.close().await.unwrap();
    let custodian = large_register::open(folder).await;

    // The demo's recordings the practitioner may use for clinical care, found by the gate itself.
    let mut usable = Vec::new();
    for recording in &demo {
        if let Ok(permit) = custodian.authorize_use(&caller, &asked(*recording)).await {
            let grant = permit.grant().unwrap().secret.clone();
            usable.push((*recording, grant));
        }
    }
    assert!(
        !usable.is_empty(),
        "no demo recording may be used for clinical care"
    );

    let bare_reads = bare_primary_key_reads(&database, &demo).await;
    let bare_writes = bare_durable_inserts(folder).await;
    let decided = decide_and_grant(&custodian, &caller, &usable).await;
    let under_grant = ranges_under_grants(&custodian, &caller, &usable).await;

    println!(
        "use gate benchmark: SQLite (WAL, synchronous=FULL), {recordings} recordings, {} of the demo's usable for clinical care, {SAMPLES} samples each",
        usable.len()
    );
    line(
        "baseline: bare primary-key read of a recording",
        &bare_reads,
        None,
    );
    line(
        "baseline: bare durable insert (one fsync)",
        &bare_writes,
        None,
    );
    line(
        "decide a use and issue its grant, audited durably",
        &decided,
        Some(&bare_reads),
    );
    line(
        "a range request's check under a grant (one read)",
        &under_grant,
        Some(&bare_reads),
    );
    let p99 = percentile(&decided, 99);
    println!(
        "  target: deciding and granting p99 under {} ms -> {}{}",
        TARGET_P99.as_millis(),
        if p99 < TARGET_P99 { "MET" } else { "NOT MET" },
        if p99 >= TARGET_P99 && percentile(&bare_writes, 50) * 2 > TARGET_P99 {
            format!(
                " (a bare durable write alone takes {:.2} ms at the median on this disk)",
                ms(percentile(&bare_writes, 50))
            )
        } else {
            String::new()
        }
    );
}

fn asked(recording: RecordingId) -> UseAsked {
    UseAsked {
        recording,
        purpose: Purpose::Clinical,
        study: None,
    }
}

async fn decide_and_grant(
    custodian: &Custodian,
    caller: &Caller,
    usable: &[(RecordingId, Secret)],
) -> Vec<Duration> {
    let mut times = Vec::with_capacity(SAMPLES);
    for (recording, _) in usable.iter().cycle().take(SAMPLES) {
        let started = Instant::now();
        let permit = custodian
            .authorize_use(caller, &asked(*recording))
            .await
            .unwrap();
        times.push(started.elapsed());
        std::hint::black_box(permit);
    }
    times.sort_unstable();
    times
}

async fn ranges_under_grants(
    custodian: &Custodian,
    caller: &Caller,
    usable: &[(RecordingId, Secret)],
) -> Vec<Duration> {
    let mut times = Vec::with_capacity(SAMPLES);
    for (recording, grant) in usable.iter().cycle().take(SAMPLES) {
        let started = Instant::now();
        let permit = custodian
            .use_under_grant(caller, &asked(*recording), grant)
            .await
            .unwrap();
        times.push(started.elapsed());
        std::hint::black_box(permit);
    }
    times.sort_unstable();
    times
}

/// Reads recordings by primary key with the register's own read settings.
async fn bare_primary_key_reads(database: &Path, ids: &[RecordingId]) -> Vec<Duration> {
    let options = SqliteConnectOptions::new()
        .filename(database)
        .read_only(true)
        .pragma("mmap_size", "68719476736")
        .pragma("cache_size", "-32768");
    let mut connection = SqliteConnection::connect_with(&options).await.unwrap();
    let mut times = Vec::with_capacity(SAMPLES);
    for id in ids.iter().cycle().take(SAMPLES) {
        let started = Instant::now();
        let row: Option<(uuid::Uuid, String, time::OffsetDateTime)> =
            sqlx::query_as("SELECT id, kind, made_at FROM recordings WHERE id = $1")
                .bind(id.as_uuid())
                .fetch_optional(&mut connection)
                .await
                .unwrap();
        times.push(started.elapsed());
        assert!(row.is_some());
    }
    times.sort_unstable();
    times
}

/// One row per durable transaction, with the register's own SQLite settings: the floor under
/// any durable write on this disk.
async fn bare_durable_inserts(folder: &Path) -> Vec<Duration> {
    let options = SqliteConnectOptions::new()
        .filename(folder.join("bare.db"))
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full);
    let mut connection = SqliteConnection::connect_with(&options).await.unwrap();
    sqlx::query("CREATE TABLE rows (id BLOB PRIMARY KEY, body TEXT NOT NULL) STRICT")
        .execute(&mut connection)
        .await
        .unwrap();
    let mut times = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let started = Instant::now();
        let mut tx = connection.begin_with("BEGIN IMMEDIATE").await.unwrap();
        sqlx::query("INSERT INTO rows (id, body) VALUES ($1, $2)")
            .bind(uuid::Uuid::now_v7())
            .bind("a grant's worth of text")
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        times.push(started.elapsed());
    }
    times.sort_unstable();
    times
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    sorted
        .get((sorted.len() * p / 100).min(sorted.len().saturating_sub(1)))
        .copied()
        .unwrap_or_default()
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

fn line(name: &str, times: &[Duration], baseline: Option<&[Duration]>) {
    let (p50, p99) = (percentile(times, 50), percentile(times, 99));
    let ratio = baseline.map_or_else(String::new, |base| {
        format!(
            "   {:.1} x the bare read at p50",
            p50.as_secs_f64() / percentile(base, 50).as_secs_f64().max(1e-9)
        )
    });
    println!(
        "  {name:<52} p50 {:>7.3} ms  p99 {:>7.3} ms{ratio}",
        ms(p50),
        ms(p99)
    );
}
