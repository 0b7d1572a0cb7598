//! Retention and disposal (D2–D10) around `custodian_core::retention`: the facts gathered from
//! the register, each recording's disposal state stored and kept current, legal holds, the
//! disposal queue and its reviews, the schedule's periods, and the sweeper.

mod disposals;
mod holds;
mod schedule;
mod sweep;
mod tasks;
mod triggers;

use custodian_core::ids::{PersonId, RecordingId, StaffId};
use custodian_core::recording::Recording;
use custodian_core::retention::{
    DisposalState, DisposalTask, Extension, Governor, HoldRef, HoldScope, LegalHold, PeriodSpec,
    RecordCategory, RecordingFacts, RetentionPeriod, RetentionSchedule, RuleId, WithdrawalFact,
    disposal_state,
};
use custodian_core::text::Note;
use custodian_store::{DisposalToStore, RecordingRetention, RegisterTx, StoredDisposal};
use serde::Serialize;
use time::{Date, OffsetDateTime};

use crate::{AppError, AppResult};

pub use disposals::{DisposalQueue, QueuedDisposal, ReviewRequest, ReviewedDisposal};
pub use holds::HoldRequest;
pub use schedule::{ScheduleRule, ScheduleView};
pub use sweep::SweepReport;
pub use tasks::DisposalTaskView;
pub use triggers::{PersonEvent, Recalculated, RecordingEvent};

/// A recording's disposal state as stored: when it is due (none while waiting for a trigger),
/// what then, the rule that governs it and why, in words.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DisposalView {
    /// The day it comes up for disposal; absent while waiting for a trigger.
    pub due_on: Option<Date>,
    /// `review`, `destroy`, `transfer_to_archive` or `hand_over`.
    pub action: String,
    /// The rule that governs the date, if one does.
    pub rule: Option<String>,
    pub reason: String,
    /// The legal holds standing over it (D7): while any stands, nothing destroys it.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub held_by: Vec<HoldRef>,
    /// The whole state: what governs it, rules set aside, and tasks.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub state: serde_json::Value,
    #[serde(with = "time::serde::rfc3339")]
    pub computed_at: OffsetDateTime,
}

impl DisposalView {
    fn from_stored(stored: StoredDisposal, held_by: Vec<HoldRef>) -> AppResult<Self> {
        let state = serde_json::from_str(&stored.state).map_err(|e| {
            AppError::Internal(format!("a stored disposal state does not parse: {e}"))
        })?;
        Ok(Self {
            due_on: stored.due_on,
            action: stored.action,
            rule: stored.governing_rule,
            reason: stored.reason,
            held_by,
            state,
            computed_at: stored.computed_at,
        })
    }
}

/// A refusal of a retention act for want of the role, reworded to name the policy that gives it
/// and to whom, so the member of staff knows whom to ask.
pub(crate) fn name_the_rule(
    error: AppError,
    policies: &[&str],
    holders: &str,
    act: &str,
) -> AppError {
    match error {
        AppError::Refused(mut refusal) if refusal.policy.is_none() => {
            let named: Vec<String> = policies.iter().map(|p| format!("`{p}`")).collect();
            let by = match named.as_slice() {
                [one] => format!("the shipped policy {one}"),
                [first @ .., last] => {
                    format!("the shipped policies {} and {last}", first.join(", "))
                }
                [] => "the shipped policies".to_owned(),
            };
            refusal.reason =
                format!("only {holders} may {act}, by {by}; your role does not include it");
            refusal.remedy = format!("ask one of the {holders}");
            AppError::Refused(refusal)
        }
        other => other,
    }
}

/// The schedule in force: the shipped one with the stored period changes applied in order.
pub(crate) async fn schedule_in_force(tx: &mut RegisterTx) -> AppResult<RetentionSchedule> {
    let mut schedule = RetentionSchedule::default();
    for change in tx.period_changes().await? {
        let corrupt = |e: custodian_core::DomainError| {
            AppError::Internal(format!(
                "a stored change of a retention period does not apply: {e}"
            ))
        };
        let rule = RuleId::parse(&change.rule).map_err(corrupt)?;
        let period = RetentionPeriod::new(
            &change.rule,
            PeriodSpec {
                years: change.years,
                months: change.months,
                days: change.days,
            },
        )
        .map_err(corrupt)?;
        schedule.change_period(&rule, period).map_err(corrupt)?;
    }
    Ok(schedule)
}

/// The standing legal holds over a recording, its sources and the people in it (D7).
pub(crate) async fn standing_holds(
    tx: &mut RegisterTx,
    scope: &HoldScope,
) -> AppResult<Vec<LegalHold>> {
    let recordings: Vec<RecordingId> = std::iter::once(scope.recording)
        .chain(scope.derived_from.iter().copied())
        .collect();
    Ok(tx.standing_holds_over(&recordings, &scope.subjects).await?)
}

/// Whether anything holds `recording`: the holds that block its destruction, named.
pub(crate) async fn holds_over(
    tx: &mut RegisterTx,
    recording: &Recording,
) -> AppResult<Vec<HoldRef>> {
    let scope = HoldScope::of(recording);
    let holds = standing_holds(tx, &scope).await?;
    Ok(match scope.may_destroy(&holds) {
        Ok(()) => Vec::new(),
        Err(held) => held.holds,
    })
}

/// The facts for one recording: one `RecordingFacts` per person in it (a recording of no one
/// has one, without a person's facts), and the recording's own stored facts.
pub(crate) async fn gather_facts(
    tx: &mut RegisterTx,
    recording: &Recording,
    stored: &RecordingRetention,
) -> AppResult<Vec<RecordingFacts>> {
    let mut base = RecordingFacts::of(recording);
    base.record_category = stored
        .record_category
        .as_deref()
        .map(RecordCategory::parse)
        .transpose()
        .map_err(|e| AppError::Internal(format!("a stored record category does not parse: {e}")))?;
    base.transcript_made_on = stored.transcript_made_on;
    base.found_no_longer_relevant_on = stored.found_no_longer_relevant_on;
    base.superseded_on = stored.superseded_on;
    base.published_online = stored.published_online;
    base.extension = latest_extension(tx, recording.id).await?;
    let mut each = Vec::with_capacity(recording.subjects.len().max(1));
    for person in &recording.subjects {
        let mut facts = base.clone();
        if let Some(found) = tx.person(*person).await? {
            facts.date_of_birth = Some(found.date_of_birth);
        }
        let known = tx.person_retention(*person).await?;
        facts.care_ended_on = known.care_ended_on;
        facts.died_on = known.died_on;
        facts.left_service_on = known.left_service_on;
        facts.deletion_requested_on = known.deletion_requested_on;
        facts.withdrawal = withdrawal_of(tx, *person).await?;
        each.push(facts);
    }
    if each.is_empty() {
        each.push(base);
    }
    Ok(each)
}

/// A person's withdrawals taken together: every purpose they withdrew, from the latest
/// withdrawal, with the choice they made then (C8).
async fn withdrawal_of(tx: &mut RegisterTx, person: PersonId) -> AppResult<Option<WithdrawalFact>> {
    let withdrawals = tx.withdrawals_of(person).await?;
    let Some(latest) = withdrawals.iter().max_by_key(|w| w.at) else {
        return Ok(None);
    };
    let purposes = withdrawals.iter().flat_map(|w| w.purposes.iter()).collect();
    Ok(Some(WithdrawalFact {
        withdrawn_on: custodian_core::clock::utc_day(latest.at),
        purposes,
        choice: latest.existing_recordings,
    }))
}

/// The latest extension a records manager gave at review, if any (D2).
async fn latest_extension(
    tx: &mut RegisterTx,
    recording: RecordingId,
) -> AppResult<Option<Extension>> {
    let reviews = tx.disposal_reviews(recording).await?;
    let Some(latest) = reviews.iter().rev().find(|r| r.outcome == "extended") else {
        return Ok(None);
    };
    let Some(until) = latest.extended_until else {
        return Err(AppError::Internal(
            "a stored extension has no date".to_owned(),
        ));
    };
    Ok(Some(Extension {
        until,
        reason: Note::parse("reason", &latest.reason)?,
        by: StaffId::from_uuid(latest.reviewed_by.0.as_uuid()),
        decided_at: latest.reviewed_at,
    }))
}

/// One state for a recording of several people: each person's record keeps it, so the latest
/// date governs and one still waiting keeps it (see docs/retention.md, "For the app").
pub(crate) fn combined_state(
    schedule: &RetentionSchedule,
    each: &[RecordingFacts],
    now: OffsetDateTime,
) -> Option<DisposalState> {
    each.iter()
        .map(|facts| disposal_state(schedule, facts, now))
        .reduce(|kept, next| match (kept.due_on, next.due_on) {
            (None, _) => kept,
            (_, None) => next,
            (Some(a), Some(b)) if b > a => next,
            _ => kept,
        })
}

/// The rule that governs a state, if one does.
fn governing_rule(state: &DisposalState) -> Option<String> {
    match &state.governed_by {
        Governor::Rule { rule, .. } | Governor::Extension { rule, .. } => Some(rule.to_string()),
        Governor::Waiting { pending } => pending.first().map(|p| p.rule.to_string()),
        Governor::Withdrawal(_) | Governor::NoRuleApplies => None,
    }
}

/// Works out a recording's disposal state from the facts as they stand and stores it, raising
/// any task it asks for once. Called when the recording is registered and whenever one of its
/// facts changes; touches only this recording.
pub(crate) async fn recalculate(
    tx: &mut RegisterTx,
    schedule: &RetentionSchedule,
    recording: &Recording,
    now: OffsetDateTime,
) -> AppResult<Option<DisposalState>> {
    let stored = tx.recording_retention(recording.id).await?;
    recalculate_with(tx, schedule, recording, &stored, now).await
}

/// Works out and stores a recording's state from `stored`, its own facts as they now are.
pub(crate) async fn recalculate_with(
    tx: &mut RegisterTx,
    schedule: &RetentionSchedule,
    recording: &Recording,
    stored: &RecordingRetention,
    now: OffsetDateTime,
) -> AppResult<Option<DisposalState>> {
    let each = gather_facts(tx, recording, stored).await?;
    let Some(state) = combined_state(schedule, &each, now) else {
        return Ok(None);
    };
    store_state(tx, recording.id, stored, &state, now).await?;
    Ok(Some(state))
}

/// Stores a worked-out state beside the recording's facts, and raises its tasks.
pub(crate) async fn store_state(
    tx: &mut RegisterTx,
    recording: RecordingId,
    stored: &RecordingRetention,
    state: &DisposalState,
    now: OffsetDateTime,
) -> AppResult<()> {
    let json = serde_json::to_string(state).map_err(|e| AppError::Internal(e.to_string()))?;
    let rule = governing_rule(state);
    tx.store_disposal(
        recording,
        stored,
        &DisposalToStore {
            due_on: state.due_on,
            action: state.action.as_str(),
            governing_rule: rule.as_deref(),
            reason: &state.reason,
            state: &json,
            computed_at: now,
        },
    )
    .await?;
    for task in &state.tasks {
        let (name, detail) = match task {
            DisposalTask::Withdrawal {
                withdrawn_on,
                choice,
            } => (
                "withdrawal",
                format!(
                    "carry out the person's choice on withdrawal ({withdrawn_on}): {}",
                    choice.label()
                ),
            ),
            DisposalTask::TakeDown { because } => (
                "take_down",
                format!("take it down from online publication: {because}"),
            ),
        };
        tx.raise_disposal_task(recording, name, &detail, now)
            .await?;
    }
    Ok(())
}

/// Works out and stores a newly registered recording's state, in its registering transaction.
pub(crate) async fn on_registered(
    tx: &mut RegisterTx,
    recording: &Recording,
    now: OffsetDateTime,
) -> AppResult<()> {
    let schedule = schedule_in_force(tx).await?;
    recalculate(tx, &schedule, recording, now).await?;
    Ok(())
}

/// Recalculates every recording a person is in, and only those.
pub(crate) async fn recalculate_person(
    tx: &mut RegisterTx,
    schedule: &RetentionSchedule,
    person: PersonId,
    now: OffsetDateTime,
) -> AppResult<usize> {
    let recordings = tx.recordings_of(person).await?;
    for recording in &recordings {
        if tx.destruction(recording.id).await?.is_none() {
            recalculate(tx, schedule, recording, now).await?;
        }
    }
    Ok(recordings.len())
}

/// A recording's stored disposal state with the holds over it, for the recording's page and API.
pub(crate) async fn disposal_view(
    tx: &mut RegisterTx,
    recording: &Recording,
) -> AppResult<Option<DisposalView>> {
    let Some(stored) = tx.disposal(recording.id).await? else {
        return Ok(None);
    };
    let held_by = holds_over(tx, recording).await?;
    DisposalView::from_stored(stored, held_by).map(Some)
}

#[cfg(test)]
mod tests {
    use custodian_core::purpose::{Purpose, PurposeSet};
    use time::macros::{date, datetime};

    use super::*;

    fn clinical_facts(care_ended_on: Option<Date>) -> RecordingFacts {
        let mut facts = RecordingFacts::new(
            datetime!(2010-03-01 10:00 UTC),
            PurposeSet::from_iter([Purpose::Clinical]),
        );
        facts.care_ended_on = care_ended_on;
        facts
    }

    #[test]
    fn d4_a_recording_of_several_people_is_kept_until_the_latest_of_their_dates() {
        let schedule = RetentionSchedule::default();
        let now = datetime!(2026-11-28 12:00 UTC);
        let each = [
            clinical_facts(Some(date!(2011 - 01 - 01))),
            clinical_facts(Some(date!(2015 - 06 - 30))),
        ];
        let state = combined_state(&schedule, &each, now).unwrap();
        assert_eq!(state.due_on, Some(date!(2023 - 06 - 30)));
    }

    #[test]
    fn d4_one_person_still_in_care_keeps_a_shared_recording_waiting() {
        let schedule = RetentionSchedule::default();
        let now = datetime!(2026-11-28 12:00 UTC);
        let each = [
            clinical_facts(Some(date!(2011 - 01 - 01))),
            clinical_facts(None),
        ];
        let state = combined_state(&schedule, &each, now).unwrap();
        assert_eq!(state.due_on, None);
        assert_eq!(
            governing_rule(&state).as_deref(),
            Some("d4-clinical-with-care-record")
        );
    }
}
