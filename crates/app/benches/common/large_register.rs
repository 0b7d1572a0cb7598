//! A large register for benchmarks: the demo loaded through the use cases, then multiplied in
//! SQL. Each copy of a person or a recording keeps the first 12 bytes of its id (a valid v7
//! UUID, in the same place in id order) and takes the copy's number as the last 4.
#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;

use custodian_app::staff::NewStaff;
use custodian_app::{Caller, Custodian, SignInStep, SystemClock};
use custodian_core::staff::{Role, Username};
use custodian_core::text::{ServiceCode, ShortText};
use custodian_store::{DatabaseLocation, Register};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{Connection, Row, SqliteConnection};

/// The tables copied, with the column each is copied in order of, and the columns holding a
/// person's or a recording's id (mapped to the copy's ids).
pub const COPIED: &[(&str, &str, &[&str])] = &[
    ("persons", "id", &["id"]),
    ("person_services", "person_id", &["person_id"]),
    ("person_retention", "person_id", &["person_id"]),
    ("recordings", "id", &["id", "source_id", "original_id"]),
    (
        "recording_subjects",
        "recording_id",
        &["recording_id", "person_id"],
    ),
    ("recording_purposes", "recording_id", &["recording_id"]),
    ("recording_retention", "recording_id", &["recording_id"]),
    (
        "recording_disposal_states",
        "recording_id",
        &["recording_id"],
    ),
];

/// Runs `bench` in a fresh folder (in `CUSTODIAN_BENCH_DIR`, by default the system's temporary
/// folder, removed afterwards) for the number of recordings `CUSTODIAN_BENCH_RECORDINGS` asks
/// for, by default `default_recordings`.
pub fn run_in_folder<F, Fut>(default_recordings: u64, bench: F)
where
    F: FnOnce(std::path::PathBuf, u64) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let wanted: u64 = std::env::var("CUSTODIAN_BENCH_RECORDINGS")
        .ok()
        .map_or(default_recordings, |v| v.parse().unwrap());
    let parent = std::env::var_os("CUSTODIAN_BENCH_DIR")
        .map_or_else(std::env::temp_dir, std::path::PathBuf::from);
    let folder = tempfile::tempdir_in(parent).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(bench(folder.path().to_path_buf(), wanted));
}

/// The application over the register in `folder`, migrated.
pub async fn open(folder: &Path) -> Custodian {
    let register = Register::connect(&DatabaseLocation::Sqlite(folder.join("register.db")))
        .await
        .unwrap();
    register.migrate().await.unwrap();
    let vault = custodian_app::vault::VaultSettings::local(folder);
    Custodian::start(register, Arc::new(SystemClock), vault)
        .await
        .unwrap()
}

/// A practitioner of the demo's services, who may record a discharge.
pub async fn practitioner(custodian: &Custodian) -> Caller {
    member(custodian, "bench.practitioner", Role::Practitioner).await
}

/// A member of the demo's services with `role`, signed in.
pub async fn member(custodian: &Custodian, username: &str, role: Role) -> Caller {
    custodian
        .create_member_with_password(
            NewStaff {
                username: Username::parse(username).unwrap(),
                display_name: ShortText::parse("name", "Bench Member").unwrap(),
                roles: vec![role],
                services: ["ADULT-MH-EAST", "CARE-HOME-ELM", "COMMUNITY-NURSING"]
                    .iter()
                    .map(|s| ServiceCode::parse(s).unwrap())
                    .collect(),
            },
            "benchmark pass phrase",
        )
        .await
        .unwrap();
    let SignInStep::Complete(signed_in) = custodian
        .sign_in(username, "benchmark pass phrase")
        .await
        .unwrap()
    else {
        unreachable!("a member without an authenticator app signs in at once")
    };
    signed_in.caller
}

/// A raw connection for loading: no durability, no foreign keys, a large cache.
pub async fn raw_connection(database: &Path) -> SqliteConnection {
    let options = SqliteConnectOptions::new()
        .filename(database)
        .journal_mode(SqliteJournalMode::Wal)
        // Loading only: a crash loses the benchmark, nothing else.
        .synchronous(SqliteSynchronous::Off)
        .foreign_keys(false)
        .pragma("cache_size", "-1000000");
    SqliteConnection::connect_with(&options).await.unwrap()
}

/// Adds `copies` copies of every person and recording, table by table, in id order so each
/// statement appends to the tables' b-trees rather than scattering across them.
pub async fn multiply(raw: &mut SqliteConnection, copies: u64) {
    sqlx::query("CREATE TEMP TABLE copies (k INTEGER PRIMARY KEY, k4 TEXT NOT NULL)")
        .execute(&mut *raw)
        .await
        .unwrap();
    sqlx::query(
        "WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < $1)
         INSERT INTO copies SELECT k, printf('%08X', k) FROM n",
    )
    .bind(i64::try_from(copies).unwrap())
    .execute(&mut *raw)
    .await
    .unwrap();
    for (table, order, mapped) in COPIED {
        copy_table(raw, table, order, mapped, copies).await;
    }
}

async fn copy_table(
    raw: &mut SqliteConnection,
    table: &str,
    order: &str,
    mapped: &[&str],
    copies: u64,
) {
    let template = format!("template_{table}");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "CREATE TEMP TABLE {template} AS SELECT * FROM main.{table}"
    )))
    .execute(&mut *raw)
    .await
    .unwrap();
    let columns: Vec<String> = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT name FROM pragma_table_info('{table}')"
    )))
    .fetch_all(&mut *raw)
    .await
    .unwrap()
    .iter()
    .map(|row| row.get::<String, _>(0))
    .collect();
    let values: Vec<String> = columns
        .iter()
        .map(|column| match column.as_str() {
            c if mapped.contains(&c) => {
                // Through hex: `||` on blobs makes text, which a STRICT blob column refuses.
                format!(
                    "CASE WHEN t.{c} IS NULL THEN NULL ELSE unhex(hex(substr(t.{c}, 1, 12)) || c.k4) END"
                )
            }
            "nhs_number" => "NULL".to_owned(),
            "local_identifier" => "'BENCH-' || hex(substr(t.id, 1, 12)) || c.k4".to_owned(),
            c => format!("t.{c}"),
        })
        .collect();
    let keys: Vec<Vec<u8>> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT DISTINCT {order} FROM {template} ORDER BY {order}"
    )))
    .fetch_all(&mut *raw)
    .await
    .unwrap();
    // About 100,000 rows per statement.
    let per_statement = usize::try_from((100_000 / copies.max(1)).max(1)).unwrap();
    let sql = format!(
        "INSERT INTO main.{table} ({}) SELECT {} FROM {template} t CROSS JOIN copies c
         WHERE t.{order} >= $1 AND t.{order} <= $2 ORDER BY t.{order}, c.k",
        columns.join(", "),
        values.join(", ")
    );
    for chunk in keys.chunks(per_statement) {
        let (Some(first), Some(last)) = (chunk.first(), chunk.last()) else {
            continue;
        };
        sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
            .bind(first)
            .bind(last)
            .execute(&mut *raw)
            .await
            .unwrap();
    }
}
