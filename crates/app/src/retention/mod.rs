//! Retention and disposal (D2–D10) around `custodian_core::retention`: the facts gathered from
//! the register, each recording's disposal state stored and kept current, legal holds, the
//! disposal queue and its reviews, the schedule's periods, the sweeper, and physical media.

mod disposals;
mod holds;
mod physical_media;
mod queue;
mod schedule;
mod sweep;
mod tasks;
mod triggers;

use std::hash::{Hash, Hasher};

use custodian_core::consent::RecordingPlace;
use custodian_core::ids::{PersonId, RecordingId, SessionId, StaffId};
use custodian_core::purpose::PurposeSet;
use custodian_core::recording::{DerivationKind, Recording};
use custodian_core::retention::{
    DerivedFacts, DisposalState, DisposalTask, Extension, Governor, HoldRef, HoldScope, LegalHold,
    PeriodSpec, RecordCategory, RecordingFacts, RetentionPeriod, RetentionSchedule, RuleId,
    WithdrawalFact, shared_disposal_state,
};
use custodian_core::session::Stop;
use custodian_core::text::Note;
use custodian_store::{
    DisposalToStore, PersonRetention, RecordingRetention, RegisterTx, StoredDisposal,
    WithdrawalRecord,
};
use serde::Serialize;
use siphasher::sip::SipHasher13;
use time::{Date, OffsetDateTime};

use crate::{AppError, AppResult};

pub use disposals::{ReviewRequest, ReviewedDisposal};
pub use holds::HoldRequest;
pub use physical_media::{MediumDestructionRequest, MediumRequest};
pub use queue::{
    DisposalQueue, LARGEST_QUEUE_PAGE, NextPages, QUEUE_PAGE, QUEUE_WINDOWS, QueueCounts,
    QueueCursor, QueueRequest, QueuedDisposal,
};
pub use schedule::{ScheduleRule, ScheduleView};
pub(crate) use sweep::Notices;
pub use sweep::{SweepReport, SweepTimings};
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

/// Every standing legal hold, for a pass over the whole register (holds are few).
pub(crate) async fn every_standing_hold(tx: &mut RegisterTx) -> AppResult<Vec<LegalHold>> {
    let holds = tx.holds().await?;
    Ok(holds.into_iter().filter(LegalHold::stands).collect())
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
    let extension = latest_extension(tx, recording.id).await?;
    let derivation = recording
        .derivation
        .as_ref()
        .map(|d| (d.kind, d.de_identified));
    let base = recording_facts(
        recording.made_at,
        recording.purposes,
        derivation,
        stored,
        extension,
    )?;
    let course_id = match recording.session_id {
        Some(session) => tx.session(session).await?.and_then(|s| s.course_id),
        None => None,
    };
    let derived_from = HoldScope::of(recording).derived_from;
    let place = RecordingPlace {
        recording: recording.id,
        service: recording.service.as_str(),
        session_id: recording.session_id,
        course_id,
        derived_from: &derived_from,
    };
    let mut each = Vec::with_capacity(recording.subjects.len().max(1));
    for person in &recording.subjects {
        let date_of_birth = tx.person(*person).await?.map(|found| found.date_of_birth);
        let known = tx.person_retention(*person).await?;
        let withdrawals = tx.withdrawals_for_retention(*person).await?;
        each.push(person_facts(
            &base,
            date_of_birth,
            &known,
            &withdrawals,
            &place,
        ));
    }
    if each.is_empty() {
        each.push(base);
    }
    Ok(each)
}

/// A recording's own facts, before anyone's in it; `derivation` is how a derived item was made
/// and whether it was de-identified.
pub(crate) fn recording_facts(
    made_at: OffsetDateTime,
    purposes: PurposeSet,
    derivation: Option<(DerivationKind, bool)>,
    stored: &RecordingRetention,
    extension: Option<Extension>,
) -> AppResult<RecordingFacts> {
    let mut facts = RecordingFacts::new(made_at, purposes);
    facts.record_category = stored
        .record_category
        .as_deref()
        .map(RecordCategory::parse)
        .transpose()
        .map_err(|e| AppError::Internal(format!("a stored record category does not parse: {e}")))?;
    facts.transcript_made_on = stored.transcript_made_on;
    facts.found_no_longer_relevant_on = stored.found_no_longer_relevant_on;
    facts.superseded_on = stored.superseded_on;
    facts.published_online = stored.published_online;
    facts.deleted_at_stop_on = stored.deleted_at_stop_on;
    facts.derived = derivation.map(|(kind, de_identified)| DerivedFacts {
        kind,
        de_identified,
        source_destroyed_on: stored.source_destroyed_on,
    });
    facts.extension = extension;
    Ok(facts)
}

/// The facts of one person's record of a recording: its own facts and theirs, with only the
/// withdrawals whose consent covered the recording at `place`.
pub(crate) fn person_facts(
    base: &RecordingFacts,
    date_of_birth: Option<Date>,
    known: &PersonRetention,
    withdrawals: &[WithdrawalRecord],
    place: &RecordingPlace<'_>,
) -> RecordingFacts {
    let mut facts = base.clone();
    facts.date_of_birth = date_of_birth;
    facts.care_ended_on = known.care_ended_on;
    facts.died_on = known.died_on;
    facts.left_service_on = known.left_service_on;
    facts.deletion_requested_on = known.deletion_requested_on;
    facts.withdrawal = withdrawal_fact(withdrawals, place);
    facts
}

/// A person's withdrawals that reach the recording at `place`, taken together: every purpose
/// withdrawn, from the latest, with the choice made then (C8). A withdrawal of a consent that
/// did not cover the recording does not reach it. `withdrawals` are in the order they happened.
fn withdrawal_fact(
    withdrawals: &[WithdrawalRecord],
    place: &RecordingPlace<'_>,
) -> Option<WithdrawalFact> {
    let reaching: Vec<&WithdrawalRecord> = withdrawals
        .iter()
        .filter(|w| w.scope.reaches(place))
        .collect();
    let latest = reaching.iter().max_by_key(|w| w.at)?;
    let purposes = reaching.iter().flat_map(|w| w.purposes.iter()).collect();
    Some(WithdrawalFact {
        withdrawn_on: custodian_core::clock::utc_day(latest.at),
        purposes,
        choice: latest.existing_recordings,
    })
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
    extension_of(
        latest.extended_until,
        &latest.reason,
        latest.reviewed_by.0,
        latest.reviewed_at,
    )
    .map(Some)
}

/// An extension as the core takes it, from a stored review.
pub(crate) fn extension_of(
    until: Option<Date>,
    reason: &str,
    by: StaffId,
    decided_at: OffsetDateTime,
) -> AppResult<Extension> {
    let until =
        until.ok_or_else(|| AppError::Internal("a stored extension has no date".to_owned()))?;
    Ok(Extension {
        until,
        reason: Note::parse("reason", reason)?,
        by,
        decided_at,
    })
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
    let Some(state) = shared_disposal_state(schedule, &each, now) else {
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
    let rule = state.governing_rule().map(ToString::to_string);
    tx.store_disposal(
        recording,
        stored,
        &disposal_row(state, rule.as_deref(), &json, now),
    )
    .await?;
    raise_tasks(tx, recording, state, now).await
}

/// The columns a state is stored in: `rule` is its governing rule and `json` the whole state.
pub(crate) fn disposal_row<'a>(
    state: &'a DisposalState,
    rule: Option<&'a str>,
    json: &'a str,
    now: OffsetDateTime,
) -> DisposalToStore<'a> {
    DisposalToStore {
        due_on: state.due_on,
        action: state.action.as_str(),
        governing_rule: rule,
        reason: &state.reason,
        state: json,
        state_digest: state_digest(state),
        computed_at: now,
    }
}

/// The digest stored beside a state's JSON: SipHash-1-3 (fixed keys, so every server agrees) of
/// the state itself, reasons and all. The sweeper compares digests, so an unchanged state costs
/// neither a read of its JSON nor writing it out. A build whose hashing of a part differs (a new
/// version of the date library, say) only writes each state once more.
pub(crate) fn state_digest(state: &DisposalState) -> i64 {
    let mut hasher = SipHasher13::new();
    state.hash(&mut hasher);
    i64::from_ne_bytes(hasher.finish().to_ne_bytes())
}

/// Raises the tasks a state asks for; each is raised once, however often the state is stored.
pub(crate) async fn raise_tasks(
    tx: &mut RegisterTx,
    recording: RecordingId,
    state: &DisposalState,
    now: OffsetDateTime,
) -> AppResult<()> {
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
    let mut stored = tx.recording_retention(recording.id).await?;
    // A recording sent in after its session was stopped may already be one to delete (C9).
    if let Some(session) = recording.session_id {
        stored.deleted_at_stop_on = deleting_stop(&tx.stops_in(session).await?, recording);
    }
    recalculate_with(tx, &schedule, recording, &stored, now).await?;
    Ok(())
}

/// The day of the first of `stops` (its session's) whose choice deletes `recording` (C9).
fn deleting_stop(stops: &[Stop], recording: &Recording) -> Option<Date> {
    stops
        .iter()
        .filter(|stop| stop.choice.deletes(recording.captured_at, stop.at))
        .map(|stop| custodian_core::clock::utc_day(stop.at))
        .min()
}

/// Brings the recordings of `session` that its stops delete up for destruction at once (C9);
/// returns those newly brought up.
pub(crate) async fn on_stopped(
    tx: &mut RegisterTx,
    session: SessionId,
    now: OffsetDateTime,
) -> AppResult<Vec<RecordingId>> {
    let schedule = schedule_in_force(tx).await?;
    let stops = tx.stops_in(session).await?;
    let mut deleted = Vec::new();
    for recording in tx.recordings_in(session).await? {
        if tx.destruction(recording.id).await?.is_some() {
            continue;
        }
        let mut stored = tx.recording_retention(recording.id).await?;
        let stopped_on = deleting_stop(&stops, &recording);
        if stored.deleted_at_stop_on != stopped_on {
            stored.deleted_at_stop_on = stopped_on;
            recalculate_with(tx, &schedule, &recording, &stored, now).await?;
            deleted.push(recording.id);
        }
    }
    Ok(deleted)
}

/// Records the destruction of `source` on the items made straight from it (R6): a still comes
/// up for destruction with it; a transcript, redaction or de-identified copy keeps its own date
/// and says why. Returns the items that now come up for destruction because of it.
pub(crate) async fn on_destroyed(
    tx: &mut RegisterTx,
    source: RecordingId,
    now: OffsetDateTime,
) -> AppResult<Vec<RecordingId>> {
    let schedule = schedule_in_force(tx).await?;
    let destroyed_on = custodian_core::clock::utc_day(now);
    let mut following = Vec::new();
    for derived in tx.derivatives_of(source).await? {
        let made_from_source = derived.derivation.as_ref().map(|d| d.source) == Some(source);
        if !made_from_source || tx.destruction(derived.id).await?.is_some() {
            continue;
        }
        let mut stored = tx.recording_retention(derived.id).await?;
        stored.source_destroyed_on = Some(destroyed_on);
        let state = recalculate_with(tx, &schedule, &derived, &stored, now).await?;
        if state.is_some_and(|s| matches!(s.governed_by, Governor::SourceDestroyed { .. })) {
            following.push(derived.id);
        }
    }
    Ok(following)
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
