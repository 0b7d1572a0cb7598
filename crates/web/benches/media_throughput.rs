//! Benchmark: durable encrypted ingest of a large recording through the HTTP API beside
//! `dd … bs=4M conv=fsync` on the same disk, and streaming it back under a grant (decrypt and
//! verify) beside serving the same plain file through the same server stack; peak RSS during each.
#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use base64::Engine;
use custodian_app::persons::PersonForm;
use custodian_app::vault::VaultSettings;
use custodian_app::{Custodian, SystemClock};
use custodian_core::consent::{
    ConsentAnswer, ConsentForm, ConsentGiver, Scope, Signature, SignatureMethod,
};
use custodian_core::nhs_number::NhsNumber;
use custodian_core::person::{Capacity, PersonName};
use custodian_core::purpose::PurposeSet;
use custodian_core::text::ShortText;
use custodian_store::{DatabaseLocation, Register};

const TARGET_RATIO: f64 = 0.8;
const ROUNDS: usize = 3;
const MIB: u64 = 1024 * 1024;

/// Writes `size` bytes of incompressible synthetic video (an MP4 header, then noise), durably.
fn write_media(path: &Path, size: u64) {
    let mut file = std::fs::File::create(path).unwrap();
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut block = vec![0u8; 4 * MIB as usize];
    let mut written = 0;
    while written < size {
        for word in block.chunks_exact_mut(8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            word.copy_from_slice(&state.to_le_bytes());
        }
        if written == 0 {
            block[..24].copy_from_slice(b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom");
        }
        let take = block.len().min(usize::try_from(size - written).unwrap());
        file.write_all(&block[..take]).unwrap();
        written += take as u64;
    }
    file.sync_all().unwrap();
}

/// This process's peak resident set since the last reset, in MiB (Linux).
fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN);
    kib / 1024.0
}

/// Starts a new peak-RSS measurement (Linux: writing 5 to clear_refs resets VmHWM).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Reads a response head: the status code and the headers, lower-cased.
fn read_head(reader: &mut BufReader<TcpStream>) -> (u16, Vec<(String, String)>) {
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        let Some((name, value)) = line.trim_end().split_once(':') else {
            break;
        };
        headers.push((name.to_ascii_lowercase(), value.trim().to_owned()));
    }
    (status, headers)
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> &'a str {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map_or("", |(_, v)| v.as_str())
}

/// Uploads `file` in one tus creation-with-upload request; returns the recording id.
fn upload(address: SocketAddr, token: &str, person: &str, file: &Path) -> String {
    let size = std::fs::metadata(file).unwrap().len();
    let recording = serde_json::json!({
        "kind": "video", "service": "CAMHS-NORTH", "subjects": [person], "purposes": ["clinical"],
        "device": "BENCH-1", "made_at": "2026-11-23T09:00:00Z", "location": "Therapy room 2",
    });
    let metadata = base64::engine::general_purpose::STANDARD.encode(recording.to_string());
    let mut stream = TcpStream::connect(address).unwrap();
    write!(
        stream,
        "POST /api/v1/uploads HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\nTus-Resumable: 1.0.0\r\n\
         Upload-Length: {size}\r\nUpload-Metadata: recording {metadata}\r\nContent-Type: application/offset+octet-stream\r\n\
         Content-Length: {size}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    std::io::copy(&mut std::fs::File::open(file).unwrap(), &mut stream).unwrap();
    let mut reader = BufReader::new(stream);
    let (status, headers) = read_head(&mut reader);
    let mut body = String::new();
    reader.read_to_string(&mut body).unwrap();
    assert_eq!(status, 201, "{body}");
    header(&headers, "custodian-recording-id").to_owned()
}

/// Asks for the recording's first byte for clinical care: the use is decided and a grant
/// issued for the requests that follow.
fn grant(address: SocketAddr, token: &str, recording: &str) -> String {
    let mut stream = TcpStream::connect(address).unwrap();
    write!(
        stream,
        "GET /api/v1/recordings/{recording}/media?purpose=clinical HTTP/1.1\r\nHost: bench\r\n\
         Authorization: Bearer {token}\r\nRange: bytes=0-0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut reader = BufReader::new(stream);
    let (status, headers) = read_head(&mut reader);
    assert_eq!(status, 206, "the use is allowed");
    header(&headers, "custodian-grant").to_owned()
}

/// Downloads `path` and discards it; returns how many bytes arrived.
fn download(address: SocketAddr, token: &str, path: &str) -> u64 {
    let mut stream = TcpStream::connect(address).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n").unwrap();
    let mut reader = BufReader::with_capacity(256 * 1024, stream);
    let (status, headers) = read_head(&mut reader);
    assert_eq!(status, 200, "{path}");
    let expected: u64 = header(&headers, "content-length").parse().unwrap();
    let received = std::io::copy(&mut reader, &mut std::io::sink()).unwrap();
    assert_eq!(received, expected, "{path}: the whole body arrived");
    received
}

fn dd(input: &Path, output: &Path) -> f64 {
    let start = Instant::now();
    let status = Command::new("dd")
        .arg(format!("if={}", input.display()))
        .arg(format!("of={}", output.display()))
        .args(["bs=4M", "conv=fsync", "status=none"])
        .status()
        .unwrap();
    assert!(status.success());
    let seconds = start.elapsed().as_secs_f64();
    std::fs::remove_file(output).unwrap();
    seconds
}

/// A server on loopback with a signed-in administrator's token, a person, and a route serving
/// `plain` as a file for the baseline.
async fn server(folder: &Path, plain: PathBuf) -> (SocketAddr, String, String) {
    let register = Register::connect(&DatabaseLocation::Sqlite(folder.join("register.db")))
        .await
        .unwrap();
    register.migrate().await.unwrap();
    let mut vault = VaultSettings::local(&folder.join("data"));
    vault.max_upload_bytes = 64 * 1024 * MIB;
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
    let (_, secret) = custodian
        .create_token(&caller, ShortText::parse("name", "bench").unwrap(), None)
        .await
        .unwrap();
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
    // Playing it needs consent to the purpose it is played for (X1).
    custodian
        .record_consent(
            &caller,
            person.id,
            ConsentForm {
                answer: ConsentAnswer::Given,
                purposes: PurposeSet::parse(["clinical"]).unwrap(),
                given_by: ConsentGiver::Person,
                scope: Scope::Service {
                    service: custodian_core::text::ServiceCode::parse("CAMHS-NORTH").unwrap(),
                },
                signed_at: time::OffsetDateTime::now_utc() - time::Duration::days(30),
                signature: Signature {
                    method: SignatureMethod::TypedWithWitness,
                    signed_by: ShortText::parse("signed_by", "Ada Benchmark").unwrap(),
                    witness: Some(ShortText::parse("witness", "Nurse Witness").unwrap()),
                    drawing: None,
                },
                representatives_may_have_copies: false,
                research: None,
                told_refusal_does_not_affect_care: true,
                notes: None,
            },
        )
        .await
        .unwrap();
    let router = custodian_web::router(custodian_web::AppState::new(custodian))
        .route_service("/plain", tower_http::services::ServeFile::new(plain));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (address, secret.expose().to_owned(), person.id.to_string())
}

fn main() {
    let size = std::env::var("BENCH_MEDIA_MIB")
        .ok()
        .and_then(|m| m.parse().ok())
        .unwrap_or(1024)
        * MIB;
    let base = std::env::var("BENCH_DIR").unwrap_or_else(|_| ".".to_owned());
    let folder = tempfile::tempdir_in(&base).unwrap();
    let plain = folder.path().join("original.mp4");
    write_media(&plain, size);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let (address, token, person) = runtime.block_on(server(folder.path(), plain.clone()));
    let mb = size as f64 / 1e6;

    let (mut dd_rates, mut ingest_rates) = (Vec::new(), Vec::new());
    let mut recording = String::new();
    reset_peak_rss();
    for _ in 0..ROUNDS {
        dd_rates.push(mb / dd(&plain, &folder.path().join("dd.out")));
        let start = Instant::now();
        recording = upload(address, &token, &person, &plain);
        ingest_rates.push(mb / start.elapsed().as_secs_f64());
    }
    let ingest_peak = peak_rss_mib();

    let grant = grant(address, &token, &recording);
    let (mut plain_rates, mut vault_rates) = (Vec::new(), Vec::new());
    reset_peak_rss();
    for _ in 0..ROUNDS {
        let start = Instant::now();
        assert_eq!(download(address, &token, "/plain"), size);
        plain_rates.push(mb / start.elapsed().as_secs_f64());
        let start = Instant::now();
        assert_eq!(
            download(
                address,
                &token,
                &format!("/api/v1/recordings/{recording}/media?purpose=clinical&grant={grant}")
            ),
            size
        );
        vault_rates.push(mb / start.elapsed().as_secs_f64());
    }
    let stream_peak = peak_rss_mib();

    let verdict = |ratio: f64| {
        if ratio >= TARGET_RATIO {
            "MET"
        } else {
            "NOT MET"
        }
    };
    let (dd_rate, ingest_rate) = (median(dd_rates), median(ingest_rates));
    let (plain_rate, vault_rate) = (median(plain_rates), median(vault_rates));
    println!(
        "media throughput benchmark: {} MiB of synthetic video, median of {ROUNDS} alternating rounds, in {}",
        size / MIB,
        folder.path().display()
    );
    println!("  baseline: dd bs=4M conv=fsync                      {dd_rate:>8.0} MB/s");
    println!(
        "  ingest: HTTP upload, hash, encrypt, fsync, register {ingest_rate:>8.0} MB/s   {:.2}x dd (target {TARGET_RATIO}x) -> {}",
        ingest_rate / dd_rate,
        verdict(ingest_rate / dd_rate)
    );
    println!("  baseline: plain file served by tower-http ServeFile {plain_rate:>8.0} MB/s");
    println!(
        "  stream back under a grant: decrypt, verify, serve   {vault_rate:>8.0} MB/s   {:.2}x the plain file (target {TARGET_RATIO}x) -> {}",
        vault_rate / plain_rate,
        verdict(vault_rate / plain_rate)
    );
    println!(
        "  peak RSS of the whole process (server and client): ingest {ingest_peak:.0} MiB, streaming {stream_peak:.0} MiB"
    );
    println!(
        "  threads while streaming back, on {} cores: this process's client reads on the main thread; the server's \
         async workers check the grant (one register read) and write to the socket; per read, up to {} blocking \
         threads decrypt and authenticate 4 MiB segments in parallel, and one more hashes the whole against the \
         SHA-256 kept at ingest before the last piece goes out",
        std::thread::available_parallelism().map_or(1, usize::from),
        std::thread::available_parallelism()
            .map_or(1, usize::from)
            .min(4)
    );
}
