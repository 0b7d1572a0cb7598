//! Benchmark: every staff page rendered through the real router, one request at a time, with
//! 10,000 people and 100,000 recordings in an SQLite register — p50, p99 and max per page
//! against the 50 ms p99 target, beside the same stack serving the stylesheet in the same run.
#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use custodian_app::persons::PersonForm;
use custodian_app::sessions::SessionRequest;
use custodian_app::vault::VaultSettings;
use custodian_app::{Caller, Custodian, SystemClock};
use custodian_core::consent::{
    CapacityDecision, ConsentAnswer, ConsentForm, ConsentGiver, Scope, Signature, SignatureMethod,
};
use custodian_core::ids::{ConsentId, PersonId, RecordingId, SessionId};
use custodian_core::nhs_number::{NhsNumber, check_digit};
use custodian_core::person::{Capacity, PersonName, RepresentativeKind};
use custodian_core::purpose::PurposeSet;
use custodian_core::recording::{RecordingForm, RecordingKind};
use custodian_core::session::SessionKind;
use custodian_core::signature::SignatureDrawing;
use custodian_core::text::{Note, ServiceCode, ShortText};
use custodian_store::{DatabaseLocation, Register};
use futures_util::StreamExt;
use tower::ServiceExt;

const TARGET_MS: f64 = 50.0;
/// Recordings per person, in turn: ten on average.
const RECORDINGS_EACH: [usize; 5] = [6, 8, 10, 12, 14];
/// People loaded at once, so that the register's group commit shares fsyncs between them.
const LOADERS: usize = 32;
const WARM_UP: usize = 20;
const PASSWORD: &str = "benchmark pass phrase";
/// The pages, each asked about a different person in turn; first the baseline, the same stack
/// serving a static file.
const PAGES: &[(&str, &str)] = &[
    ("baseline: the stylesheet", "/assets/custodian.css"),
    ("sign in", "/sign-in"),
    ("password form", "/password"),
    ("dashboard", "/"),
    ("new person form", "/persons/new"),
    ("find by family name", "/persons?q={family}"),
    ("find by given and family", "/persons?q={given}+{family}"),
    ("find by NHS number", "/persons?q={nhs_number}"),
    ("person", "/persons/{person}"),
    ("consent", "/consents/{consent}"),
    ("consent form", "/persons/{person}/consents/new"),
    ("withdrawal form", "/consents/{consent}/withdraw"),
    ("recording", "/recordings/{recording}"),
    (
        "recording with a decision",
        "/recordings/{recording}?purpose=teaching",
    ),
    ("new session form", "/persons/{person}/sessions/new"),
    ("new course form", "/persons/{person}/courses/new"),
    ("session", "/sessions/{session}"),
    ("capture in a session", "/sessions/{session}/capture"),
    ("upload in a session", "/sessions/{session}/upload"),
];
const GIVEN: &[&str] = &[
    "Ada", "Bela", "Cato", "Dara", "Elin", "Farah", "Gus", "Hana", "Ivo", "Jude", "Kit", "Lior",
    "Mira", "Nico", "Odile", "Pax", "Quin", "Rhea", "Sol", "Tamsin", "Ula", "Wren", "Yara", "Zeb",
];
/// Invented family names are a start and an end: 200 of them, about 50 people each.
const FAMILY_STARTS: &[&str] = &[
    "Ash", "Brack", "Corr", "Dun", "Els", "Fen", "Garr", "Holl", "Inch", "Jess", "Kirr", "Lark",
    "Merr", "Nettle", "Orr", "Pell", "Quarr", "Red", "Stow", "Tarr",
];
const FAMILY_ENDS: &[&str] = &[
    "down", "ley", "well", "more", "wick", "ford", "by", "combe", "ton", "field",
];

/// One synthetic person as loaded: what the pages are asked about.
struct Loaded {
    id: PersonId,
    given: &'static str,
    family: String,
    nhs_number: String,
    consent: ConsentId,
    recordings: Vec<RecordingId>,
    session: Option<SessionId>,
}

fn text(value: &str) -> ShortText {
    ShortText::parse("bench", value).unwrap()
}

fn note(value: &str) -> Note {
    Note::parse("bench", value).unwrap()
}

fn service() -> ServiceCode {
    ServiceCode::parse("CAMHS-NORTH").unwrap()
}

/// A valid NHS number of the 999 test range, different for each `i` below 100,000. Of ten
/// numbers that differ in their last digit before the check digit, at most one has none.
fn nhs_number(i: usize) -> String {
    (i * 10..i * 10 + 10)
        .find_map(|serial| {
            let digits = format!("999{serial:06}");
            let nine = std::array::from_fn(|k| digits.as_bytes()[k] - b'0');
            check_digit(&nine).map(|check| format!("{digits}{check}"))
        })
        .unwrap()
}

/// The `i`th person, through the use cases: registered, a consent (every tenth lacks capacity,
/// and a representative answers), a session for every third, and their recordings, the first
/// four of them in that session. The member of staff signed in made them all.
async fn load_person(custodian: &Custodian, caller: &Caller, i: usize) -> Loaded {
    let now = custodian.now();
    let ago = |days: usize| now - time::Duration::days(i64::try_from(days).unwrap());
    // Sessions and recordings are spread over the last year, so some are today's.
    let starts_at = ago(i % 365) - time::Duration::hours(2);
    let given = GIVEN[i % GIVEN.len()];
    let family = format!(
        "{}{}",
        FAMILY_STARTS[i / GIVEN.len() % FAMILY_STARTS.len()],
        FAMILY_ENDS[i / GIVEN.len() / FAMILY_STARTS.len() % FAMILY_ENDS.len()]
    );
    let nhs = nhs_number(i);
    let lacks_capacity = i % 10 == 9;
    let form = PersonForm {
        name: PersonName::parse(given, &family).unwrap(),
        date_of_birth: ago(3_650 + i * 37 % 25_000).date(),
        nhs_number: Some(NhsNumber::parse(&nhs).unwrap()),
        local_identifier: None,
        capacity: [Capacity::HasCapacity, Capacity::LacksCapacity][usize::from(lacks_capacity)],
        service: None,
    };
    let person = custodian.register_person(caller, form).await.unwrap().id;
    let given_by = if lacks_capacity {
        let kind = RepresentativeKind::NextOfKin;
        let representative = custodian
            .add_representative(caller, person, text("Noor Example"), kind, None)
            .await
            .unwrap();
        ConsentGiver::Representative {
            representative_id: representative.id,
            capacity_decision: CapacityDecision {
                assessed_on: ago(400).date(),
                assessed_by: text("Dr R. Assessor"),
                decision: note("Unable to weigh the information needed to decide."),
            },
            best_interest_note: note("Recordings support their care; the family agrees."),
        }
    } else {
        ConsentGiver::Person
    };
    let consent = ConsentForm {
        answer: ConsentAnswer::Given,
        purposes: PurposeSet::parse(["clinical", "supervision_and_training", "care_plan"]).unwrap(),
        given_by,
        scope: Scope::Service { service: service() },
        signed_at: ago(398),
        signature: Signature {
            method: SignatureMethod::Drawn,
            signed_by: text(&format!("{given} {family}")),
            witness: None,
            drawing: Some(SignatureDrawing::parse("10,150 40,60 80,150").unwrap()),
        },
        representatives_may_have_copies: lacks_capacity,
        research: None,
        told_refusal_does_not_affect_care: true,
        notes: None,
    };
    let consent = custodian
        .record_consent(caller, person, consent)
        .await
        .unwrap();
    let session = if i.is_multiple_of(3) {
        let request = SessionRequest {
            kind: SessionKind::Individual,
            personal_meeting_kind: None,
            service: service(),
            course: None,
            title: text("Therapy session"),
            starts_at,
            participants: vec![person],
            attendees_informed_at: None,
        };
        Some(custodian.start_session(caller, request).await.unwrap().id)
    } else {
        None
    };
    let mut recordings = Vec::new();
    for r in 0..RECORDINGS_EACH[i % RECORDINGS_EACH.len()] {
        let in_session = session.filter(|_| r < 4);
        let form = RecordingForm {
            kind: [RecordingKind::Video, RecordingKind::Photograph][r % 2],
            service: service(),
            subjects: vec![person],
            purposes: PurposeSet::parse(["clinical"]).unwrap(),
            made_by: caller.member.id,
            device: text(&format!("TAB-{:04}", r + 1)),
            made_at: match in_session {
                Some(_) => starts_at + time::Duration::minutes(i64::try_from(r).unwrap() * 10),
                None => ago((i + r * 37) % 365) - time::Duration::hours(1),
            },
            location: text("Therapy room 2"),
        };
        let recording = custodian.register_recording(caller, form, in_session).await;
        recordings.push(recording.unwrap().id);
    }
    let consent = consent.id;
    Loaded {
        id: person,
        given,
        family,
        nhs_number: nhs,
        consent,
        recordings,
        session,
    }
}

/// Loads `people` people, `LOADERS` at a time.
async fn load(custodian: &Custodian, caller: &Caller, people: usize) -> Vec<Loaded> {
    let people = (0..people).map(|i| load_person(custodian, caller, i));
    let loading = futures_util::stream::iter(people).buffer_unordered(LOADERS);
    loading.collect().await
}

/// Signs in through the sign-in page, as a browser would; returns the cookie to send.
async fn sign_in(router: &Router) -> String {
    // The sign-in page first: its cookie and the token its form carries.
    let page = router
        .clone()
        .oneshot(Request::get("/sign-in").body(Body::empty()).unwrap())
        .await
        .unwrap();
    let form_cookie = page.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let html = axum::body::to_bytes(page.into_body(), usize::MAX)
        .await
        .unwrap();
    let html = String::from_utf8(html.to_vec()).unwrap();
    let token = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap();
    let password = PASSWORD.replace(' ', "+");
    let request = Request::post("/sign-in")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, form_cookie)
        .body(Body::from(format!(
            "username=bench.clinician&password={password}&csrf={token}"
        )))
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    assert!(response.status().is_redirection(), "{}", response.status());
    let cookie = response.headers().get(header::SET_COOKIE).unwrap();
    let cookie = cookie.to_str().unwrap().split(';').next().unwrap();
    cookie.to_owned()
}

/// The path of the `n`th request for a page: its placeholders filled in for a different person
/// each time (one with a session, if the page needs one).
fn path(template: &str, loaded: &[Loaded], n: usize) -> String {
    let start = n * 7_919 % loaded.len();
    let needs_session = template.contains("{session}");
    let p = (loaded.iter().cycle().skip(start))
        .find(|p| p.session.is_some() || !needs_session)
        .unwrap();
    let session = p.session.map(|s| s.to_string()).unwrap_or_default();
    let recording = p.recordings[n % p.recordings.len()].to_string();
    template
        .replace("{person}", &p.id.to_string())
        .replace("{consent}", &p.consent.to_string())
        .replace("{recording}", &recording)
        .replace("{session}", &session)
        .replace("{given}", p.given)
        .replace("{family}", &p.family)
        .replace("{nhs_number}", &p.nhs_number)
}

/// The latency of each of `count` requests for `template`, sorted, after a few unmeasured ones.
/// Each must answer 200 with a body, read whole, so a redirect or an error cannot pass.
async fn measure(
    router: &Router,
    cookie: &str,
    template: &str,
    loaded: &[Loaded],
) -> Vec<Duration> {
    let mut latencies = Vec::new();
    for n in 0..WARM_UP + requests() {
        let path = path(template, loaded, n);
        let request = Request::get(&path).header(header::COOKIE, cookie);
        let (request, router) = (request.body(Body::empty()).unwrap(), router.clone());
        let start = Instant::now();
        let response = router.oneshot(request).await.unwrap();
        let (status, location) = (response.status(), response.headers().get(header::LOCATION));
        let location = location.cloned();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX).await;
        let (elapsed, body) = (start.elapsed(), body.unwrap());
        if status != StatusCode::OK || body.is_empty() {
            let body = String::from_utf8_lossy(&body);
            panic!("{path}: {status}, location {location:?}: {body}");
        }
        if n >= WARM_UP {
            latencies.push(elapsed);
        }
    }
    latencies.sort_unstable();
    latencies
}

/// The nearest-rank `p`th percentile of sorted latencies, in milliseconds.
fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let rank = ((p / 100.0 * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1].as_secs_f64() * 1e3
}

/// A setting from the environment, for a quicker run while working on the benchmark.
fn setting(name: &str, default: usize) -> usize {
    let value = std::env::var(name).ok().and_then(|v| v.parse().ok());
    value.unwrap_or(default)
}

fn requests() -> usize {
    setting("BENCH_REQUESTS", 1_000)
}

/// Loads the register, then measures every page; returns the pages over the target.
async fn run(folder: &std::path::Path) -> Vec<&'static str> {
    let location = DatabaseLocation::Sqlite(folder.join("register.db"));
    let register = Register::connect(&location).await.unwrap();
    register.migrate().await.unwrap();
    let vault = VaultSettings::local(&folder.join("data"));
    let custodian = Custodian::start(register, Arc::new(SystemClock), vault);
    let custodian = custodian.await.unwrap();
    custodian
        .create_member_with_password(
            custodian_app::staff::NewStaff {
                username: custodian_core::staff::Username::parse("bench.clinician").unwrap(),
                display_name: custodian_core::text::ShortText::parse("name", "Bench Clinician")
                    .unwrap(),
                roles: vec![custodian_core::staff::Role::Practitioner],
                services: vec![custodian_core::text::ServiceCode::parse("CAMHS-NORTH").unwrap()],
            },
            PASSWORD,
        )
        .await
        .unwrap();
    let custodian_app::SignInStep::Complete(signed_in) = custodian
        .sign_in("bench.clinician", PASSWORD)
        .await
        .unwrap()
    else {
        unreachable!("a practitioner without an authenticator app signs in at once")
    };
    let caller = signed_in.caller;
    assert!(
        !caller.must_change_password,
        "it would be sent to /password"
    );

    let start = Instant::now();
    let loaded = load(&custodian, &caller, setting("BENCH_PEOPLE", 10_000)).await;
    let seconds = start.elapsed().as_secs_f64();
    let recordings: usize = loaded.iter().map(|p| p.recordings.len()).sum();
    let sessions = loaded.iter().filter(|p| p.session.is_some()).count();
    let writes = custodian.register().commit_statistics().unwrap();
    println!("page render benchmark: SQLite, in {}", folder.display());
    println!(
        "  loaded {} people with a consent each, {recordings} recordings, {sessions} sessions \
         through the use cases in {seconds:.1} s ({:.0} writes/s, {:.1} per fsync)",
        loaded.len(),
        writes.writes as f64 / seconds,
        writes.writes as f64 / writes.commits.max(1) as f64,
    );
    println!(
        "  {} requests per page, one at a time, in-process through the router",
        requests()
    );

    let router = custodian_web::router(custodian_web::AppState::new(custodian));
    let cookie = sign_in(&router).await;
    let mut failed = Vec::new();
    let mut baseline = f64::NAN;
    println!(
        "  {:<30} {:>8} {:>8} {:>8} {:>13} {:>11}",
        "page", "p50 ms", "p99 ms", "max ms", "p50/baseline", "p99/target"
    );
    for (name, template) in PAGES {
        let latencies = measure(&router, &cookie, template, &loaded).await;
        let (p50, p99) = (percentile(&latencies, 50.0), percentile(&latencies, 99.0));
        let max = percentile(&latencies, 100.0);
        print!("  {name:<30} {p50:>8.3} {p99:>8.3} {max:>8.3}");
        if baseline.is_nan() {
            baseline = p50;
            println!();
            continue;
        }
        let ratio = p99 / TARGET_MS;
        let verdict = if ratio <= 1.0 { "PASS" } else { "FAIL" };
        if ratio > 1.0 {
            failed.push(*name);
        }
        println!(" {:>12.1}x {ratio:>10.2}x {verdict}", p50 / baseline);
    }
    failed
}

fn main() {
    let base = std::env::var("BENCH_DIR").unwrap_or_else(|_| ".".to_owned());
    let folder = tempfile::tempdir_in(&base).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let failed = runtime.block_on(run(folder.path()));
    drop(runtime);
    drop(folder);
    if !failed.is_empty() {
        println!("  p99 over {TARGET_MS} ms: {}", failed.join(", "));
        std::process::exit(1);
    }
}
