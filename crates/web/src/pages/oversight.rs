//! The information-governance lead's oversight (S5): the report of refused attempts, and
//! marking emergency access as reviewed (S3).

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use custodian_app::london::london_time;
use custodian_core::audit::Actor;
use custodian_core::ids::{PersonId, StaffId};
use serde::Deserialize;
use uuid::Uuid;

use super::render;
use super::signed_in::SignedIn;
use crate::AppState;
use crate::extract::Path;
use crate::pages::PageResult;
use crate::pages::checked::{Checked, NoFields};

/// The periods the report offers, in days.
const PERIODS: [u16; 3] = [7, 30, 90];

/// The period shown when none is chosen.
const DEFAULT_DAYS: u16 = 30;

#[derive(Deserialize, Default)]
pub struct Period {
    #[serde(default)]
    since: String,
}

/// A count of refusals for one person, member of staff or rule.
pub struct CountLine {
    /// The person whose record the line links to, if the viewer may see it.
    link: Option<String>,
    words: String,
    count: u64,
}

/// One refusal of the latest.
pub struct RefusalLine {
    when: String,
    who: String,
    tried: String,
    rule: String,
    reason: String,
    person: Option<String>,
}

#[derive(Template)]
#[template(path = "refusals.html")]
struct RefusalsPage {
    title: &'static str,
    signed_in_as: Option<super::signed_in::Who>,
    days: u16,
    periods: Vec<u16>,
    total: u64,
    by_person: Vec<CountLine>,
    by_staff: Vec<CountLine>,
    by_rule: Vec<CountLine>,
    latest: Vec<RefusalLine>,
}

/// The report of refused attempts over the chosen period.
pub async fn refusals(
    State(state): State<AppState>,
    staff: SignedIn,
    Query(period): Query<Period>,
) -> PageResult {
    let days = period
        .since
        .parse::<u16>()
        .ok()
        .filter(|days| PERIODS.contains(days))
        .unwrap_or(DEFAULT_DAYS);
    let custodian = &state.custodian;
    let since = custodian.now() - time::Duration::days(i64::from(days));
    let report = custodian.refusal_report(&staff.caller, since).await?;
    // Each person once, whether counted or among the latest refusals.
    let persons: Vec<PersonId> = report
        .by_person
        .keys()
        .filter_map(|id| id.parse().ok())
        .chain(report.latest.iter().filter_map(|event| event.person))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let staff_ids: Vec<StaffId> = report
        .by_staff
        .keys()
        .filter_map(|id| id.parse().ok())
        .collect();
    let person_names = custodian.names_shown(&staff.caller, &persons).await?;
    let staff_names = custodian.staff_names(&staff.caller, &staff_ids).await?;
    let person_words = |id: &str| -> (Option<String>, String) {
        match id
            .parse::<PersonId>()
            .ok()
            .and_then(|p| person_names.get(&p))
        {
            Some(name) => (Some(id.to_owned()), name.full()),
            None => (None, "A person whose record you may not see".to_owned()),
        }
    };
    let staff_words = |id: &str| -> String {
        id.parse::<StaffId>()
            .ok()
            .and_then(|s| staff_names.get(&s).cloned())
            .unwrap_or_else(|| "An account no longer known".to_owned())
    };
    let latest = report
        .latest
        .iter()
        .map(|event| {
            let detail: serde_json::Value = serde_json::from_str(&event.detail).unwrap_or_default();
            let text = |key: &str| detail.get(key).and_then(|v| v.as_str()).map(str::to_owned);
            RefusalLine {
                when: london_time(event.at),
                who: match &event.actor {
                    Actor::Staff(id) => staff_words(&id.to_string()),
                    Actor::System => "Custodian".to_owned(),
                },
                tried: action_words(&text("action").unwrap_or_default()),
                rule: rule_words(
                    &text("requirement").unwrap_or_else(|| "S2".to_owned()),
                    text("policy").as_deref(),
                ),
                reason: super::sentence(&text("reason").unwrap_or_default()),
                person: event
                    .person
                    .map(|person| person_words(&person.to_string()).1),
            }
        })
        .collect();
    let page = RefusalsPage {
        title: "Refused attempts",
        signed_in_as: Some(staff.who()),
        days,
        periods: PERIODS.to_vec(),
        total: report.total,
        by_person: counted(&report.by_person, |id| person_words(id)),
        by_staff: counted(&report.by_staff, |id| (None, staff_words(id))),
        by_rule: counted(&report.by_rule, |rule| {
            let (requirement, policy) = rule.split_once(' ').unwrap_or((rule, ""));
            let policy = (policy != "no policy allows it").then_some(policy);
            (None, rule_words(requirement, policy))
        }),
        latest,
    };
    Ok(render(StatusCode::OK, &page))
}

/// Counts as lines, the most first.
fn counted(
    counts: &BTreeMap<String, u64>,
    words: impl Fn(&str) -> (Option<String>, String),
) -> Vec<CountLine> {
    let mut lines: Vec<CountLine> = counts
        .iter()
        .map(|(key, count)| {
            let (link, words) = words(key);
            CountLine {
                link,
                words,
                count: *count,
            }
        })
        .collect();
    lines.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.words.cmp(&b.words)));
    lines
}

/// A rule as the report names it: the requirement and, for a forbid, its policy.
fn rule_words(requirement: &str, policy: Option<&str>) -> String {
    match policy {
        Some(policy) if !policy.is_empty() => format!("{requirement}, policy {policy}"),
        _ => format!("{requirement}, no policy allows it"),
    }
}

/// An act access was asked for, in plain words.
fn action_words(action: &str) -> String {
    let words = match action {
        "view_person" => "See a person's record",
        "update_person" => "Change a person's record",
        "record_consent" => "Record a consent",
        "start_session" => "Start a session",
        "make_recording" => "Make a recording",
        "assign_service" => "Add a person to a service",
        "break_glass" => "Take emergency access",
        "view_session" => "See a session",
        "run_session" => "Run a session",
        "view_recording" => "See a recording",
        "play_recording" => "Play a recording",
        "update_recording" => "Change a recording",
        "destroy_recording" => "Destroy a recording",
        "find_persons" => "Search for people",
        "register_person" => "Register a person",
        "manage_courses" => "Set up a course",
        "read_audit_trail" => "Read the audit trail",
        "oversee_access" => "Oversee access",
        "manage_accounts" => "Manage staff accounts",
        "manage_policies" => "Change access policies",
        other => return super::sentence(&other.replace('_', " ")),
    };
    words.to_owned()
}

/// Marks emergency access as reviewed, from the dashboard's list.
pub async fn review(
    State(state): State<AppState>,
    staff: SignedIn,
    Path(id): Path<Uuid>,
    Checked(NoFields {}): Checked<NoFields>,
) -> PageResult {
    state
        .custodian
        .review_emergency_access(&staff.caller, id)
        .await?;
    Ok(Redirect::to("/#emergency").into_response())
}
