//! Benchmark: the latency of one access decision (median and 99th percentile) with the shipped
//! policies alone, the baseline measured in the same run, and with 200 local policies added.
#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use custodian_access::{AccessPolicies, Action, Circumstances, LocalPolicy, Principal, Resource};
use custodian_core::staff::Role;
use uuid::Uuid;

/// How much slower the 99th percentile may be with 200 local policies than with none.
const TARGET_RATIO: f64 = 4.0;
/// A decision is made once per request; a request must stay well under a millisecond for it.
const TARGET_P99: Duration = Duration::from_micros(500);
const LOCAL_POLICIES: usize = 200;
const SAMPLES: usize = 20_000;

/// Local policies of the kinds organisations write: a service's team managers see another
/// service's recordings, a service forbids a purpose, a team may not take emergency access.
fn local_policies() -> Vec<LocalPolicy> {
    (0..LOCAL_POLICIES)
        .map(|n| {
            let text = match n % 3 {
                0 => format!(
                    r#"permit (principal in Custodian::Role::"team_manager", action == Custodian::Action::"view_recording", resource)
                       when {{ principal.services.contains("SERVICE-{n}") && resource.services.contains("PARTNER-{n}") }};"#
                ),
                1 => format!(
                    r#"forbid (principal, action == Custodian::Action::"play_recording", resource)
                       when {{ resource.services.contains("SERVICE-{n}") && resource.purposes.contains("social_media") }};"#
                ),
                _ => format!(
                    r#"forbid (principal, action == Custodian::Action::"break_glass", resource)
                       when {{ principal.services.contains("SERVICE-{n}") && context.connected }};"#
                ),
            };
            LocalPolicy {
                name: format!("local-{n}"),
                text,
            }
        })
        .collect()
}

/// The latencies of `SAMPLES` decisions (a mix of allowed and refused), sorted.
fn latencies(policies: &AccessPolicies) -> Vec<Duration> {
    let staff = Uuid::now_v7();
    let roles = [Role::Practitioner, Role::TeamManager];
    let services = ["CAMHS-NORTH", "SERVICE-7"];
    let principal = Principal {
        id: staff,
        roles: &roles,
        services: &services,
    };
    let ours = ["CAMHS-NORTH"];
    let theirs = ["ADULT-MH-EAST"];
    let purposes = ["clinical", "supervision_and_training"];
    let cases = [
        (ours.as_slice(), Circumstances::default()),
        (theirs.as_slice(), Circumstances::default()),
        (
            ours.as_slice(),
            Circumstances {
                connected: true,
                emergency: false,
            },
        ),
    ];
    for (n, (services, circumstances)) in cases.iter().cycle().take(2_000).enumerate() {
        let recording = Resource::Recording {
            id: Uuid::from_u128(n as u128),
            services,
            purposes: &purposes,
        };
        black_box(
            policies
                .decide(
                    &principal,
                    Action::PlayRecording,
                    &recording,
                    *circumstances,
                )
                .unwrap(),
        );
    }
    let mut times: Vec<Duration> = cases
        .iter()
        .cycle()
        .take(SAMPLES)
        .enumerate()
        .map(|(n, (services, circumstances))| {
            let recording = Resource::Recording {
                id: Uuid::from_u128(n as u128),
                services,
                purposes: &purposes,
            };
            let start = Instant::now();
            black_box(
                policies
                    .decide(
                        &principal,
                        Action::PlayRecording,
                        &recording,
                        *circumstances,
                    )
                    .unwrap(),
            );
            start.elapsed()
        })
        .collect();
    times.sort_unstable();
    times
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted[index]
}

fn main() {
    let shipped = AccessPolicies::shipped().unwrap();
    let local = local_policies();
    let with_local = AccessPolicies::with_local(&local).unwrap();
    let baseline = latencies(&shipped);
    let loaded = latencies(&with_local);
    let (base_p50, base_p99) = (percentile(&baseline, 0.5), percentile(&baseline, 0.99));
    let (p50, p99) = (percentile(&loaded, 0.5), percentile(&loaded, 0.99));
    let ratio = p99.as_secs_f64() / base_p99.as_secs_f64();
    println!("access decision, {SAMPLES} samples each (allowed, other team's, connected)");
    println!(
        "  shipped policies only ({:>3}): p50 {:>8.1?}  p99 {:>8.1?}   (baseline)",
        shipped.len(),
        base_p50,
        base_p99
    );
    println!(
        "  with {LOCAL_POLICIES} local policies ({:>3}): p50 {:>8.1?}  p99 {:>8.1?}   p99 ratio {ratio:.2} (target ≤ {TARGET_RATIO}; p99 ≤ {TARGET_P99:?})",
        with_local.len(),
        p50,
        p99
    );
    let met = ratio <= TARGET_RATIO && p99 <= TARGET_P99;
    println!("  {}", if met { "target met" } else { "TARGET MISSED" });
}
