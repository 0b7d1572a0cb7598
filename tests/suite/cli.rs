//! The `custodian` command, run as a process against each backend.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use custodian_store::DatabaseLocation;
use custodian_testkit::{Backend, TestDatabase};

/// The `custodian` binary, built now so the test never runs a stale one.
pub(crate) fn binary() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(cargo)
        .args(["build", "--quiet", "-p", "custodian"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("cargo runs");
    assert!(status.success(), "the custodian binary builds");
    let deps = std::env::current_exe().unwrap();
    deps.parent().unwrap().parent().unwrap().join("custodian")
}

pub(crate) fn database_url(db: &TestDatabase) -> String {
    match &db.location {
        DatabaseLocation::Sqlite(path) => format!("sqlite://{}", path.display()),
        DatabaseLocation::Postgres(url) => url.clone(),
    }
}

/// Runs the command against `db`, with `data` as its data folder (where the keys live).
pub(crate) fn run(db: &TestDatabase, data: &std::path::Path, args: &[&str]) -> Output {
    let folder = tempfile::tempdir().unwrap();
    Command::new(binary())
        .args(["--database-url", &database_url(db)])
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .current_dir(folder.path())
        .env("RUST_LOG", "warn")
        .output()
        .expect("custodian runs")
}

async fn cli_migrate_demo_and_verify(db: TestDatabase) {
    let data = tempfile::tempdir().unwrap();
    let data = data.path();
    let migrate = run(&db, data, &["migrate"]);
    assert!(
        migrate.status.success(),
        "{}",
        String::from_utf8_lossy(&migrate.stderr)
    );

    let demo = run(
        &db,
        data,
        &["demo", "load", "--people", "40", "--seed", "7"],
    );
    assert!(
        demo.status.success(),
        "{}",
        String::from_utf8_lossy(&demo.stderr)
    );
    let said = String::from_utf8_lossy(&demo.stdout);
    assert!(said.contains("Demo loaded: 40 people"), "{said}");

    let verify = run(&db, data, &["audit", "verify"]);
    let said = String::from_utf8_lossy(&verify.stdout);
    assert!(verify.status.success(), "{said}");
    assert!(said.contains("intact"), "{said}");
    let mut tx = db.register.read().await.unwrap();
    assert!(tx.count_persons().await.unwrap() >= 40);
    let head = tx.audit_head().await.unwrap();
    assert!(
        said.contains(&head.hash.to_string()),
        "the command prints the chain head to note down"
    );
    drop(tx);

    // Tampering, with the protective triggers removed first, makes the command fail and say where.
    let drop_trigger = match db.backend {
        Backend::Sqlite => "DROP TRIGGER audit_events_are_never_updated",
        Backend::Postgres => "DROP TRIGGER audit_events_are_never_updated ON audit_events",
    };
    crate::schema::execute_directly(&db, drop_trigger)
        .await
        .unwrap();
    crate::schema::execute_directly(
        &db,
        "UPDATE audit_events SET action = 'nothing.happened' WHERE seq = 7",
    )
    .await
    .unwrap();
    let verify = run(&db, data, &["audit", "verify"]);
    assert_eq!(verify.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&verify.stdout).contains("BROKEN at event 7"));
}

async fn cli_serve_creates_an_administrator_and_answers_health_checks(db: TestDatabase) {
    let folder = tempfile::tempdir().unwrap();
    let mut server = Command::new(binary())
        .args([
            "--database-url",
            &database_url(&db),
            "serve",
            "--listen",
            "127.0.0.1:0",
        ])
        .current_dir(folder.path())
        .env("RUST_LOG", "warn")
        .env_remove("CUSTODIAN_ADMIN_PASSWORD")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("custodian serve starts");
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let mut said = String::new();
    let address = loop {
        let line = lines
            .next()
            .expect("the server says where it listens")
            .unwrap();
        said.push_str(&line);
        said.push('\n');
        if let Some(rest) = line.strip_prefix("Custodian is listening on http://") {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    assert!(said.contains("username: admin"), "{said}");
    assert!(said.contains("one-time password: "), "{said}");

    for (path, expected) in [
        ("/healthz", "200 OK"),
        ("/readyz", "200 OK"),
        ("/api/v1/persons?q=a", "401 Unauthorized"),
    ] {
        let mut stream = std::net::TcpStream::connect(&address).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        assert!(
            response.starts_with(&format!("HTTP/1.1 {expected}")),
            "{path}: {response}"
        );
    }
    server.kill().ok();
    server.wait().ok();
}

async fn d2_cli_retention_sweep_reports_and_refuses_a_clock_that_went_backwards(db: TestDatabase) {
    let data = tempfile::tempdir().unwrap();
    let data = data.path();
    let demo = run(
        &db,
        data,
        &["demo", "load", "--people", "10", "--seed", "3"],
    );
    assert!(
        demo.status.success(),
        "{}",
        String::from_utf8_lossy(&demo.stderr)
    );
    let swept = run(&db, data, &["retention", "sweep"]);
    let said = String::from_utf8_lossy(&swept.stdout);
    assert!(
        swept.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&swept.stderr)
    );
    assert!(said.starts_with("Swept "), "{said}");

    // A last sweep recorded in the future is what a clock set back looks like from here.
    let mut tx = db.register.write().await.unwrap();
    tx.set_last_sweep(time::OffsetDateTime::now_utc() + time::Duration::days(1))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let refused = run(&db, data, &["retention", "sweep"]);
    let said = String::from_utf8_lossy(&refused.stdout);
    assert_eq!(refused.status.code(), Some(1), "{said}");
    assert!(said.contains("earlier than the last sweep"), "{said}");
}

/// Two `custodian retention sweep` processes started together on one register (D2): each due
/// recording is noticed once, whichever process got there, and a third sweep finds nothing new.
async fn d2_two_sweeping_processes_on_one_register_notice_each_due_recording_once(
    db: TestDatabase,
) {
    let data = tempfile::tempdir().unwrap();
    let data = data.path();
    let demo = run(
        &db,
        data,
        &["demo", "load", "--people", "40", "--seed", "7"],
    );
    assert!(
        demo.status.success(),
        "{}",
        String::from_utf8_lossy(&demo.stderr)
    );

    let sweeper = || {
        let folder = tempfile::tempdir().unwrap();
        let child = Command::new(binary())
            .args(["--database-url", &database_url(&db)])
            .arg("--data-dir")
            .arg(data)
            .args(["retention", "sweep"])
            .current_dir(folder.path())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("custodian runs");
        (child, folder)
    };
    let (one, _keep_one) = sweeper();
    let (other, _keep_other) = sweeper();
    let mut due = None;
    let mut noticed = 0;
    for child in [one, other] {
        let output = child.wait_with_output().unwrap();
        let said = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "{said}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        if said.starts_with("Another sweep has been running since") {
            continue;
        }
        let (found_due, found_noticed) = due_and_noticed(&said);
        assert!(due.is_none_or(|d| d == found_due), "{said}");
        due = Some(found_due);
        noticed += found_noticed;
    }
    let due = due.expect("at least one process swept");
    assert!(
        due > 0,
        "the demo has recordings due, so the test means something"
    );
    assert_eq!(
        noticed, due,
        "each due recording is noticed by one process only"
    );

    let third = run(&db, data, &["retention", "sweep"]);
    let said = String::from_utf8_lossy(&third.stdout);
    assert_eq!(due_and_noticed(&said), (due, 0), "{said}");
}

/// The due and newly noticed counts from a sweep's report.
fn due_and_noticed(said: &str) -> (u32, u32) {
    let number_before = |marker: &str| -> u32 {
        let (head, _) = said.split_once(marker).unwrap_or_else(|| panic!("{said}"));
        head.rsplit(|c: char| !c.is_ascii_digit())
            .find(|s| !s.is_empty())
            .unwrap()
            .parse()
            .unwrap()
    };
    (number_before(" due now"), number_before(" newly noticed"))
}

on_both_backends!(database:
    d2_two_sweeping_processes_on_one_register_notice_each_due_recording_once,
    cli_migrate_demo_and_verify,
    cli_serve_creates_an_administrator_and_answers_health_checks,
    d2_cli_retention_sweep_reports_and_refuses_a_clock_that_went_backwards
);
