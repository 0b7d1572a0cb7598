//! The disposal queue for records managers (D2, D7, D9, C8, D10): what is due now and soon, what
//! waits and what is held, destroying what was approved, and marking tasks done.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use custodian_app::london::london_time;
use custodian_app::retention::{
    DisposalQueue, DisposalTaskView, QUEUE_PAGE, QUEUE_WINDOWS, QueueCounts, QueueCursor,
    QueueRequest, QueuedDisposal,
};
use custodian_app::{AppError, RefusalKind};
use custodian_core::ids::RecordingId;
use custodian_core::recording::RecordingKind;
use custodian_core::retention::{DisposalAction, HoldRef, QueueSection};
use serde::Deserialize;

use super::signed_in::SignedIn;
use super::views::action_words;
use super::{FieldError, form_errors, render};
use crate::AppState;
use crate::extract::Path;
use crate::pages::PageResult;
use crate::pages::checked::{Checked, NoFields};

#[derive(Deserialize, Default)]
pub struct Shown {
    #[serde(default)]
    within: String,
    #[serde(default)]
    done: String,
    /// A part of the queue to go on with, from `after`.
    #[serde(default)]
    section: String,
    #[serde(default)]
    after: String,
}

/// One recording in the queue, in words.
pub struct QueueLine {
    pub(super) id: String,
    pub(super) recording: String,
    pub(super) due: String,
    pub(super) action: String,
    /// Whether an approval of it is carried out here, by destroying it.
    pub(super) destroys: bool,
    pub(super) rule: String,
    pub(super) reason: String,
    pub(super) holds: Vec<String>,
    pub(super) approved: bool,
}

/// One open task, in words.
pub struct TaskLine {
    recording_id: String,
    task: String,
    what: &'static str,
    detail: String,
    raised: String,
}

#[derive(Template)]
#[template(path = "disposals.html")]
struct QueuePage {
    title: &'static str,
    signed_in_as: Option<super::signed_in::Who>,
    errors: Vec<FieldError>,
    done: Option<&'static str>,
    today: String,
    within: u32,
    windows: Vec<u32>,
    /// Whether the page goes on with one part, rather than showing the whole queue.
    continuing: bool,
    page_size: u32,
    /// How long each part was at the last sweep, in a sentence.
    counted: Option<String>,
    sections: Vec<Section>,
    tasks: Vec<TaskLine>,
}

/// A part of the queue: due now, due soon, held, waiting.
pub struct Section {
    id: &'static str,
    heading: String,
    intro: &'static str,
    none: &'static str,
    /// Whether its recordings may be reviewed now.
    reviewable: bool,
    lines: Vec<QueueLine>,
    /// The link to its next page, when there is more than shown.
    next: Option<String>,
}

form_errors!(QueuePage);

/// The queue, for the window chosen (30 days unless 60 or 90 is asked for).
pub async fn show(
    State(state): State<AppState>,
    staff: SignedIn,
    Query(shown): Query<Shown>,
) -> PageResult {
    let within = shown
        .within
        .parse::<u32>()
        .ok()
        .filter(|days| QUEUE_WINDOWS.contains(days))
        .unwrap_or(QUEUE_WINDOWS[0]);
    // A link that no longer parses shows the whole queue: there is nothing to fix by hand.
    let (section, after) = QueueSection::parse(&shown.section)
        .ok()
        .zip(shown.after.parse::<QueueCursor>().ok())
        .unzip();
    let request = QueueRequest {
        section,
        after,
        ..QueueRequest::first(within)
    };
    let done = match shown.done.as_str() {
        "approved" => Some(
            "Its disposal is approved. Once approved, a destruction is carried out from this page; other actions are done by hand.",
        ),
        "extended" => Some("It is kept until the new date, with your reason in its history."),
        "destroyed" => Some(
            "The recording is destroyed. The register keeps a record of what it was, and its signed certificate of destruction.",
        ),
        "task" => Some("The task is marked done, in the recording's history."),
        _ => None,
    };
    queue_page(&state, &staff, request, Vec::new(), done, StatusCode::OK).await
}

/// Carries out an approved destruction; a hold, or no approval, is shown on the queue.
pub async fn destroy(
    State(state): State<AppState>,
    staff: SignedIn,
    Path(id): Path<RecordingId>,
    Checked(NoFields {}): Checked<NoFields>,
) -> PageResult {
    match state.custodian.carry_out_disposal(&staff.caller, id).await {
        Ok(_) => Ok(Redirect::to("/disposals?done=destroyed").into_response()),
        Err(error) => refused_on_the_queue(&state, &staff, error, "queue").await,
    }
}

/// Marks a recording's task done, once.
pub async fn task_done(
    State(state): State<AppState>,
    staff: SignedIn,
    Path((id, task)): Path<(RecordingId, String)>,
    Checked(NoFields {}): Checked<NoFields>,
) -> PageResult {
    match state
        .custodian
        .mark_disposal_task_done(&staff.caller, id, &task)
        .await
    {
        Ok(_) => Ok(Redirect::to("/disposals?done=task#tasks").into_response()),
        Err(error) => refused_on_the_queue(&state, &staff, error, "tasks").await,
    }
}

/// A conflict (held, not approved, already done) is shown at the top of the queue, where the
/// records manager can see why and act; anything else is the usual error page.
async fn refused_on_the_queue(
    state: &AppState,
    staff: &SignedIn,
    error: AppError,
    field: &'static str,
) -> PageResult {
    let (message, status) = match error {
        AppError::Rule { code, message } if code.kind() == RefusalKind::Conflict => {
            (message, StatusCode::CONFLICT)
        }
        AppError::Rule { code, message } if code.kind() == RefusalKind::Gone => {
            (message, StatusCode::GONE)
        }
        error => return Err(error.into()),
    };
    let errors = vec![FieldError::new(field, super::sentence(&message))];
    let request = QueueRequest::first(QUEUE_WINDOWS[0]);
    queue_page(state, staff, request, errors, None, status).await
}

async fn queue_page(
    state: &AppState,
    staff: &SignedIn,
    request: QueueRequest,
    errors: Vec<FieldError>,
    done: Option<&'static str>,
    status: StatusCode,
) -> PageResult {
    let custodian = &state.custodian;
    let within = request.within_days;
    // A page that goes on with one part shows that part alone.
    let continuing = request.section.is_some();
    let queue: DisposalQueue = custodian.disposal_queue(&staff.caller, request).await?;
    let tasks = custodian.open_disposal_tasks(&staff.caller).await?;
    let parts = request
        .section
        .map_or_else(|| QueueSection::ALL.to_vec(), |part| vec![part]);
    let sections = parts
        .into_iter()
        .map(|part| {
            let mut shown = section(&queue, part);
            if continuing {
                shown.heading = format!("{}, continued", shown.heading);
            }
            shown
        })
        .collect();
    let page = QueuePage {
        title: "Disposal queue",
        signed_in_as: Some(staff.who()),
        errors,
        done,
        today: super::long_date(queue.today),
        within,
        windows: QUEUE_WINDOWS.to_vec(),
        continuing,
        page_size: QUEUE_PAGE,
        counted: queue.at_last_sweep.as_ref().map(counted),
        sections,
        tasks: tasks.iter().map(task_line).collect(),
    };
    Ok(render(status, &page))
}

/// One part of the queue as the page shows it, with the link to its next page.
fn section(queue: &DisposalQueue, part: QueueSection) -> Section {
    let within = queue.within_days;
    let (id, heading, intro, none, entries, next) = match part {
        QueueSection::DueNow => (
            "due-now",
            "Due now".to_owned(),
            "Review each: approve its disposal, or keep it longer with a reason.",
            "Nothing is due.",
            &queue.due_now,
            queue.next.due_now,
        ),
        QueueSection::DueWithin => (
            "due-soon",
            format!("Due within {within} days"),
            "These come up for review on the date shown; nothing needs doing yet.",
            "Nothing comes due in this time.",
            &queue.due_within,
            queue.next.due_within,
        ),
        QueueSection::Held => (
            "held",
            "Under a legal hold".to_owned(),
            "Due or waiting, but held for a matter: nothing can be destroyed until every hold on it is lifted.",
            "Nothing due is held.",
            &queue.held,
            queue.next.held,
        ),
        QueueSection::Waiting => (
            "waiting",
            "Waiting for an event".to_owned(),
            "Their period starts with an event not yet recorded, such as the end of care.",
            "Nothing is waiting.",
            &queue.waiting,
            queue.next.waiting,
        ),
    };
    Section {
        id,
        heading,
        intro,
        none,
        reviewable: part == QueueSection::DueNow,
        lines: entries.iter().map(line).collect(),
        next: next.map(|after| {
            format!(
                "/disposals?within={within}&section={}&after={after}#{id}",
                part.as_str()
            )
        }),
    }
}

/// "At the last sweep, 28 November 2026 at 02:00 GMT: 1,204 due now, …".
fn counted(counts: &QueueCounts) -> String {
    format!(
        "At the last sweep, {}: {} due now, {} due within 90 days, {} under a legal hold and {} waiting for an event.",
        london_time(counts.at),
        with_commas(counts.due_now),
        with_commas(counts.due_within_90_days),
        with_commas(counts.held),
        with_commas(counts.waiting),
    )
}

/// 1234567 as "1,234,567".
fn with_commas(number: i64) -> String {
    let digits = number.unsigned_abs().to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if number < 0 {
        grouped.push('-');
    }
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

/// A recording as the queue names it: "Video recording made 3 March 2026 at 14:05 GMT".
pub fn recording_words(kind: &str, made_at: time::OffsetDateTime) -> String {
    let kind = RecordingKind::parse(kind).map_or("recording", |k| k.label());
    format!("{} made {}", super::sentence(kind), london_time(made_at))
}

/// A hold in words: "Complaint CMP-2026-001".
pub fn hold_words(hold: &HoldRef) -> String {
    format!("{} {}", super::sentence(hold.kind.label()), hold.reference)
}

pub fn line(entry: &QueuedDisposal) -> QueueLine {
    QueueLine {
        id: entry.recording_id.to_string(),
        recording: recording_words(&entry.recording_kind, entry.made_at),
        due: entry.due_on.map_or_else(
            || "Not yet: it waits for an event".to_owned(),
            super::long_date,
        ),
        action: action_words(&entry.action),
        // A review's approval destroys too; a hand-over or transfer is done by hand.
        destroys: [DisposalAction::Destroy, DisposalAction::Review]
            .iter()
            .any(|a| a.as_str() == entry.action),
        rule: entry.rule.clone().unwrap_or_else(|| "none".to_owned()),
        reason: super::sentence(&entry.reason),
        holds: entry.held_by.iter().map(hold_words).collect(),
        approved: entry.approved,
    }
}

fn task_line(task: &DisposalTaskView) -> TaskLine {
    TaskLine {
        recording_id: task.recording_id.to_string(),
        task: task.task.clone(),
        what: match task.task.as_str() {
            "withdrawal" => "Carry out the person's choice on withdrawing consent",
            "take_down" => "Take it down from online publication",
            _ => "Other task",
        },
        detail: super::sentence(&task.detail),
        raised: london_time(task.raised_at),
    }
}

#[cfg(test)]
mod tests {
    use super::with_commas;

    #[test]
    fn d2_counts_on_the_queue_page_are_grouped_in_thousands() {
        let shown: Vec<String> = [0, 7, 999, 1_000, 12_345, 5_132_971, -4_200]
            .into_iter()
            .map(with_commas)
            .collect();
        assert_eq!(
            shown,
            ["0", "7", "999", "1,000", "12,345", "5,132,971", "-4,200"]
        );
    }
}
