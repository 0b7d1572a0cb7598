//! The disposal queue: a sweep sorts every recording into due now, within 30, 60 or 90 days, later, waiting, or held.

use serde::Serialize;
use time::{Date, OffsetDateTime};

use crate::clock::{Shown, utc_day};
use crate::error::DomainError;
use crate::ids::RecordingId;
use crate::retention::facts::RecordingFacts;
use crate::retention::hold::{HoldRef, HoldScope, LegalHold};
use crate::retention::schedule::RetentionSchedule;
use crate::retention::state::{DisposalState, shared_disposal_state};
use crate::vocabulary::vocabulary;

vocabulary! {
    /// Where a recording sits in the disposal queue, in the order the queue shows them.
    pub enum QueueBucket ("queue bucket") {
        /// Due today or earlier: to be reviewed and approved (or extended) by a records manager.
        DueNow = "due_now", "due now";
        /// Due within the next 30 days.
        Within30Days = "within_30_days", "due within 30 days";
        /// Due in 31 to 60 days.
        Within60Days = "within_60_days", "due within 60 days";
        /// Due in 61 to 90 days.
        Within90Days = "within_90_days", "due within 90 days";
        /// Due after 90 days.
        Later = "later", "due later";
        /// Waiting for a trigger (end of care, a review, a transcript).
        Waiting = "waiting", "waiting for a trigger";
        /// Under a legal hold: nothing may be done until every hold is lifted (D7).
        Held = "held", "under legal hold";
    }
}

vocabulary! {
    /// A part of the disposal queue as records managers see it, each read a page at a time.
    pub enum QueueSection ("queue section") {
        /// Due today or earlier, and not held.
        DueNow = "due_now", "due now";
        /// Due within the window asked for (30, 60 or 90 days), and not held.
        DueWithin = "due_within", "due within the window";
        /// Due within the window or waiting, but under a legal hold (D7).
        Held = "held", "under a legal hold";
        /// Waiting for a trigger, and not held.
        Waiting = "waiting", "waiting for an event";
    }
}

/// One recording to sweep: what a hold can reach of it, and its facts, one set per person in
/// it (a recording of no one has one, without a person's); see [`shared_disposal_state`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SweepItem {
    pub scope: HoldScope,
    pub facts: Vec<RecordingFacts>,
}

/// One recording in the queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct QueueEntry {
    /// The recording, what it was derived from and who is in it.
    pub scope: HoldScope,
    pub bucket: QueueBucket,
    pub state: DisposalState,
    /// Every standing hold on it; empty unless the bucket is `held`.
    pub held_by: Vec<HoldRef>,
}

/// The result of one sweep: every recording's place in the queue as of `at`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Sweep {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Ordered by bucket, then due date, then recording id, whatever order the items came in.
    pub entries: Vec<QueueEntry>,
}

impl QueueBucket {
    /// The bucket of a recording due on `due_on` (none: waiting), as of `today`, not held.
    pub fn of(due_on: Option<Date>, today: Date) -> Self {
        let Some(due) = due_on else {
            return Self::Waiting;
        };
        let days = (due - today).whole_days();
        match days {
            ..=0 => Self::DueNow,
            1..=30 => Self::Within30Days,
            31..=60 => Self::Within60Days,
            61..=90 => Self::Within90Days,
            _ => Self::Later,
        }
    }
}

impl Sweep {
    /// The entries in one bucket.
    pub fn in_bucket(&self, bucket: QueueBucket) -> impl Iterator<Item = &QueueEntry> {
        self.entries.iter().filter(move |e| e.bucket == bucket)
    }

    /// The entry for one recording.
    pub fn entry(&self, recording: RecordingId) -> Option<&QueueEntry> {
        self.entries.iter().find(|e| e.scope.recording == recording)
    }
}

/// Refuses a clock earlier than the last sweep's: dates worked out from a wrong clock could
/// bring a recording up early.
pub fn check_sweep_clock(
    last_sweep_at: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> Result<(), DomainError> {
    match last_sweep_at.filter(|last| now < *last) {
        Some(last) => Err(DomainError::ClockWentBackwards {
            last_sweep: Shown(last),
            now: Shown(now),
        }),
        None => Ok(()),
    }
}

/// Sweeps `items` as of `now` (an item without facts is left out). Pure and idempotent: the same items, holds and time give the
/// same sweep in any order. A clock earlier than the last sweep is refused and nothing is
/// sorted: dates worked out from a wrong clock could bring a recording up early.
pub fn sweep(
    schedule: &RetentionSchedule,
    items: &[SweepItem],
    holds: &[LegalHold],
    last_sweep_at: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> Result<Sweep, DomainError> {
    check_sweep_clock(last_sweep_at, now)?;
    let today = utc_day(now);
    let mut entries: Vec<QueueEntry> = items
        .iter()
        .filter_map(|item| {
            let state = shared_disposal_state(schedule, &item.facts, now)?;
            let (bucket, held_by) = match item.scope.may_destroy(holds) {
                Ok(()) => (QueueBucket::of(state.due_on, today), Vec::new()),
                Err(held) => (QueueBucket::Held, held.holds),
            };
            Some(QueueEntry {
                scope: item.scope.clone(),
                bucket,
                state,
                held_by,
            })
        })
        .collect();
    entries.sort_by(|a, b| {
        (
            a.bucket,
            a.state.due_on.unwrap_or(Date::MAX),
            a.scope.recording,
        )
            .cmp(&(
                b.bucket,
                b.state.due_on.unwrap_or(Date::MAX),
                b.scope.recording,
            ))
    });
    Ok(Sweep { at: now, entries })
}
