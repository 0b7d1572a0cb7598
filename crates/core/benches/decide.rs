//! Benchmark: decisions per second on one core for a recording with 5 subjects and 50 consent
//! events each, beside a bare scan of the same events measured in the same run.
#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use custodian_core::decision::{RecordingEvidence, decide};
use custodian_core::fixtures::{Covering, Story, requester};
use custodian_core::purpose::Purpose;
use custodian_core::session::SessionKind;

const PEOPLE: [&str; 5] = ["Alex", "Billie", "Casey", "Dana", "Eli"];
const TARGET_PER_SECOND: f64 = 1_000_000.0;

/// Each person has 50 events: 38 answers across purposes and scopes, 10 withdrawals of
/// purposes other than the one asked about, and 2 "still willing" confirmations.
fn evidence() -> RecordingEvidence {
    let mut story = Story::recording(
        &PEOPLE,
        &[Purpose::Clinical, Purpose::SupervisionAndTraining],
    )
    .in_session(SessionKind::Group, &[])
    .in_course();
    let others = [
        Purpose::Activities,
        Purpose::Outings,
        Purpose::Newsletters,
        Purpose::SocialMedia,
        Purpose::AwardEntries,
        Purpose::FamilyAndVisitors,
    ];
    let scopes = [
        Covering::Service,
        Covering::Course,
        Covering::Session,
        Covering::Recording,
    ];
    for name in PEOPLE {
        let mut withdrawable = Vec::new();
        for n in 0..38i64 {
            let other = others[(n as usize) % others.len()];
            let scope = scopes[(n as usize) % scopes.len()];
            let consent = if n % 7 == 3 {
                story.refuses(name, &[other], scope, n)
            } else if n == 37 {
                story.consents(
                    name,
                    &[Purpose::Clinical, Purpose::SupervisionAndTraining],
                    Covering::Course,
                    n,
                )
            } else {
                story.consents(name, &[other, Purpose::Teaching], scope, n)
            };
            if n % 7 != 3 && n != 37 && withdrawable.len() < 10 {
                withdrawable.push((consent, other, n));
            }
        }
        for (consent, purpose, signed) in withdrawable {
            story.withdraws_purposes(consent, Some(&[purpose]), signed + 1, true);
        }
        story.confirms(name, true, 51);
        story.confirms(name, true, 52);
    }
    story.evidence().clone()
}

/// The least any decision must do: visit every consent and withdrawal of every subject once.
fn bare_scan(evidence: &RecordingEvidence, purpose: Purpose) -> usize {
    evidence
        .people
        .iter()
        .map(|p| {
            p.consents()
                .iter()
                .filter(|c| c.purposes.contains(purpose))
                .count()
                + p.withdrawals()
                    .iter()
                    .filter(|w| w.purposes.contains(purpose))
                    .count()
        })
        .sum()
}

/// Runs `work` for three seconds after a warm-up and returns how many runs a second it managed.
/// With `FIXED_ITERATIONS=N` it runs exactly N times untimed instead, so that
/// `valgrind --tool=callgrind` can count instructions per decision (this VM has no hardware
/// counters, and its wall-clock times vary with its neighbours).
fn per_second(mut work: impl FnMut() -> usize) -> f64 {
    if let Some(runs) = std::env::var("FIXED_ITERATIONS")
        .ok()
        .and_then(|n| n.parse::<u64>().ok())
    {
        for _ in 0..runs {
            black_box(work());
        }
        return runs as f64;
    }
    for _ in 0..10_000 {
        black_box(work());
    }
    let budget = Duration::from_secs(3);
    let start = Instant::now();
    let mut iterations = 0u64;
    while start.elapsed() < budget {
        for _ in 0..1_000 {
            black_box(work());
        }
        iterations += 1_000;
    }
    iterations as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let evidence = evidence();
    let events: usize = evidence
        .people
        .iter()
        .map(|p| p.consents().len() + p.withdrawals().len())
        .sum::<usize>()
        + evidence
            .session
            .as_ref()
            .map_or(0, |s| s.confirmations().len());
    let asker = requester();
    let at = custodian_core::fixtures::at(200);
    let allowed = decide(&evidence, Purpose::Clinical, &asker, at);
    let refused = decide(&evidence, Purpose::Teaching, &asker, at);
    assert!(
        allowed.is_allowed(),
        "the benchmark's main case must be allowed: {:?}",
        allowed.reasons
    );
    assert!(!refused.is_allowed());

    let scan = per_second(|| bare_scan(black_box(&evidence), black_box(Purpose::Clinical)));
    let allowing = per_second(|| {
        decide(
            black_box(&evidence),
            black_box(Purpose::Clinical),
            &asker,
            at,
        )
        .reasons
        .len()
    });
    let refusing = per_second(|| {
        decide(
            black_box(&evidence),
            black_box(Purpose::Teaching),
            &asker,
            at,
        )
        .reasons
        .len()
    });

    println!(
        "decision benchmark: {} subjects, {events} consent events ({} per subject), one core",
        PEOPLE.len(),
        events / PEOPLE.len()
    );
    println!("  baseline: bare scan of the same events   {scan:>12.0} /s");
    println!(
        "  decide (allowed, clinical)                {allowing:>12.0} /s   {:.2}x the scan",
        allowing / scan
    );
    println!(
        "  decide (refused, teaching)                {refusing:>12.0} /s   {:.2}x the scan",
        refusing / scan
    );
    let slowest = allowing.min(refusing);
    println!(
        "  target {TARGET_PER_SECOND:.0} decisions/s: slowest case is {:.2}x the target -> {}",
        slowest / TARGET_PER_SECOND,
        if slowest >= TARGET_PER_SECOND {
            "MET"
        } else {
            "NOT MET"
        }
    );
}
