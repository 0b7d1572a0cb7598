//! The sweeper (D2): works out every recording's state afresh in batches, stores only what
//! changed, gives notice once when one comes due, and records when it ran. Idempotent, and
//! safe with two servers on one database.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use custodian_core::audit::Actor;
use custodian_core::consent::RecordingPlace;
use custodian_core::ids::{CourseId, PersonId, RecordingId, SessionId, StaffId};
use custodian_core::recording::DerivationKind;
use custodian_core::retention::{
    DisposalState, HoldScope, LegalHold, QueueBucket, RetentionSchedule, SweepItem,
    check_sweep_clock, sweep,
};
use custodian_store::{Register, SweepCounts, SweepRecord};
use serde::Serialize;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::audit_trail::Audit;
use crate::retention::{
    disposal_row, every_standing_hold, extension_of, person_facts, raise_tasks, recording_facts,
    schedule_in_force, state_digest,
};
use crate::{AppError, AppResult, Custodian};

/// Recordings read, worked out and written per transaction: large enough that the queries'
/// cost is spread thin, small enough that no transaction holds SQLite's writer for long.
const BATCH: u32 = 4_000;

/// Batches read and worked out at once: one per core of a small server, and one more so a core
/// never waits for the next batch's reads.
const BATCHES_AT_ONCE: usize = 3;

/// How long a sweep's lease lasts: a server that dies mid-sweep holds up the next one no longer.
const LEASE: Duration = Duration::hours(1);

/// What one sweep found.
#[derive(Clone, Debug, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SweepReport {
    #[serde(with = "time::serde::rfc3339::option")]
    pub at: Option<OffsetDateTime>,
    pub recordings: usize,
    pub due_now: usize,
    pub due_within_90_days: usize,
    pub later: usize,
    pub waiting: usize,
    pub held: usize,
    /// Recordings newly due that this sweep gave notice of (each only once).
    pub noticed: usize,
    /// Recordings whose stored state this sweep changed.
    pub changed: usize,
    /// Another server's sweep was running, since then, so this one did nothing.
    #[serde(with = "time::serde::rfc3339::option")]
    pub running_elsewhere_since: Option<OffsetDateTime>,
    /// Where the time went, for whoever tunes it.
    pub timings: SweepTimings,
}

/// Where a sweep's time went: reading the register, working out states, and writing what
/// changed. Batches are read and worked out several at once, so the first two add up the time
/// of each batch and together exceed the sweep's own.
#[derive(Clone, Copy, Debug, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SweepTimings {
    #[serde(serialize_with = "seconds")]
    #[cfg_attr(feature = "openapi", schema(value_type = f64))]
    pub reading: StdDuration,
    #[serde(serialize_with = "seconds")]
    #[cfg_attr(feature = "openapi", schema(value_type = f64))]
    pub working_out: StdDuration,
    #[serde(serialize_with = "seconds")]
    #[cfg_attr(feature = "openapi", schema(value_type = f64))]
    pub writing: StdDuration,
}

fn seconds<S: serde::Serializer>(duration: &StdDuration, to: S) -> Result<S::Ok, S::Error> {
    to.serialize_f64(duration.as_secs_f64())
}

/// Whether a pass over the register gives notice of what came due.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Notices {
    Give,
    Withhold,
}

impl Custodian {
    /// Sweeps the register (D2) as Custodian itself. Refuses a clock earlier than the last
    /// sweep's (`retention.clock_went_backwards`): dates from a wrong clock could bring
    /// recordings up early. A sweep holds a lease, so a second server's sweep started meanwhile
    /// does nothing and says so; and each notice is recorded by a conditional write, so even
    /// two sweeps over the same recordings give it once.
    #[tracing::instrument(skip(self))]
    pub async fn sweep_retention(&self) -> AppResult<SweepReport> {
        let holder = Uuid::now_v7();
        let mut tx = self.register.write().await?;
        let sweeper = tx.sweeper().await?;
        // Read the clock only once the sweeper's row is ours: a sweep that waited for another's
        // claim must not use a time from before that claim.
        let now = self.clock.now();
        if let (Some(other), Some(since), Some(until)) = (
            sweeper.lease_holder,
            sweeper.lease_since,
            sweeper.lease_until,
        ) && other != holder
            && until > now
        {
            tx.rollback().await?;
            return Ok(SweepReport {
                at: Some(now),
                running_elsewhere_since: Some(since),
                ..SweepReport::default()
            });
        }
        check_sweep_clock(sweeper.last_sweep_at, now)?;
        tx.take_sweep_lease(holder, now, now + LEASE).await?;
        let schedule = schedule_in_force(&mut tx).await?;
        let holds = every_standing_hold(&mut tx).await?;
        tx.commit().await?;

        let outcome = self
            .restate_all(&schedule, &holds, now, Notices::Give)
            .await;
        let mut tx = self.register.write().await?;
        match outcome {
            Ok(report) => {
                tx.finish_sweep(holder, now, &report.counts()).await?;
                tx.commit().await?;
                Ok(report)
            }
            Err(error) => {
                tx.release_sweep(holder).await?;
                tx.commit().await?;
                Err(error)
            }
        }
    }

    /// Works out every recording's state as of `now` in batches, in id order. Several batches
    /// are read (each in its own read transaction) and worked out (off the server's async
    /// threads) at once; what changed in each, and any notice, is written in one short write
    /// transaction, in id order, only if the stored row is as it was read.
    pub(crate) async fn restate_all(
        &self,
        schedule: &RetentionSchedule,
        holds: &[LegalHold],
        now: OffsetDateTime,
        notices: Notices,
    ) -> AppResult<SweepReport> {
        let mut report = SweepReport {
            at: Some(now),
            ..SweepReport::default()
        };
        let rules = Arc::new(Rules {
            schedule: schedule.clone(),
            holds: holds.to_vec(),
            now,
            notices,
        });
        let mut in_flight = VecDeque::new();
        let mut after = Some(Uuid::nil());
        loop {
            while in_flight.len() < BATCHES_AT_ONCE
                && let Some(start) = after
            {
                after = self.batch_end(start).await?;
                if let Some(last) = after {
                    in_flight.push_back(tokio::spawn(restate_stretch(
                        self.register.clone(),
                        Arc::clone(&rules),
                        start,
                        last,
                    )));
                }
            }
            let Some(next) = in_flight.pop_front() else {
                break;
            };
            let batch = next
                .await
                .map_err(|e| AppError::Internal(e.to_string()))??;
            report.add(&batch);
            if !batch.writes.is_empty() {
                let writing = Instant::now();
                self.write_batch(batch.writes, now, &mut report).await?;
                report.timings.writing += writing.elapsed();
            }
        }
        Ok(report)
    }

    /// The id that ends the next batch after `after`; `None` when no recordings are left.
    async fn batch_end(&self, after: Uuid) -> AppResult<Option<Uuid>> {
        let mut read = self.register.read().await?;
        let end = read.sweep_batch_end(after, BATCH).await?;
        read.rollback().await?;
        Ok(end)
    }

    async fn write_batch(
        &self,
        writes: Vec<Write>,
        now: OffsetDateTime,
        report: &mut SweepReport,
    ) -> AppResult<()> {
        let mut tx = self.register.write().await?;
        for write in writes {
            if let Some(json) = &write.changed_json {
                let rule = write.state.governing_rule().map(ToString::to_string);
                let stored = tx
                    .store_swept_state(
                        write.recording,
                        write.read_at,
                        &disposal_row(&write.state, rule.as_deref(), json, now),
                    )
                    .await?;
                if !stored {
                    // A trigger recalculated it since the batch was read; its state stands.
                    continue;
                }
                report.changed += 1;
                raise_tasks(&mut tx, write.recording, &write.state, now).await?;
            }
            let Some(due) = write.notice else {
                continue;
            };
            if tx.notice_due_once(write.recording, due).await? {
                Audit::change("disposal.due")
                    .recording(write.recording)
                    .detail(serde_json::json!({
                        "due_on": due, "action": write.state.action, "reason": write.state.reason,
                    }))
                    .write(&mut tx, Actor::System, now)
                    .await?;
                report.noticed += 1;
            }
        }
        tx.commit().await?;
        Ok(())
    }
}

/// What every batch of one pass is worked out against.
struct Rules {
    schedule: RetentionSchedule,
    holds: Vec<LegalHold>,
    now: OffsetDateTime,
    notices: Notices,
}

/// One batch read and worked out: its counts, its time, and what it asks to write.
#[derive(Default)]
struct Restated {
    counts: SweepReport,
    writes: Vec<Write>,
}

impl SweepReport {
    /// What it counted in each part of the queue, to be stored with the sweep.
    fn counts(&self) -> SweepCounts {
        let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        SweepCounts {
            due_now: count(self.due_now),
            due_within_90_days: count(self.due_within_90_days),
            later: count(self.later),
            waiting: count(self.waiting),
            held: count(self.held),
        }
    }

    fn add(&mut self, batch: &Restated) {
        let counts = &batch.counts;
        self.recordings += counts.recordings;
        self.due_now += counts.due_now;
        self.due_within_90_days += counts.due_within_90_days;
        self.later += counts.later;
        self.waiting += counts.waiting;
        self.held += counts.held;
        self.timings.reading += counts.timings.reading;
        self.timings.working_out += counts.timings.working_out;
    }
}

/// Reads the recordings after `after` up to `last` and works out their states, in a task of
/// its own so it runs beside the other batches; the working out runs on a blocking thread so
/// it holds up none of the server's requests.
async fn restate_stretch(
    register: Register,
    rules: Arc<Rules>,
    after: Uuid,
    last: Uuid,
) -> AppResult<Restated> {
    let reading = Instant::now();
    let mut read = register.read().await?;
    let batch = read.sweep_batch(after, last).await?;
    read.rollback().await?;
    let read_for = reading.elapsed();
    let mut restated = tokio::task::spawn_blocking(move || {
        let working = Instant::now();
        let mut restated = restate_batch(&rules, &batch)?;
        restated.counts.timings.working_out = working.elapsed();
        AppResult::Ok(restated)
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))??;
    restated.counts.timings.reading = read_for;
    Ok(restated)
}

/// What a batch asks to write for one recording.
struct Write {
    recording: RecordingId,
    /// The stored row's `computed_at` when read; `None` if it had no row.
    read_at: Option<OffsetDateTime>,
    state: DisposalState,
    /// The state as JSON, when it differs from the stored one.
    changed_json: Option<String>,
    /// The due date to give notice of, when it is due and not yet noticed.
    notice: Option<time::Date>,
}

/// Works out one batch with the core's sweep, and counts and lists what to write.
fn restate_batch(rules: &Rules, batch: &[SweepRecord]) -> AppResult<Restated> {
    let items = batch
        .iter()
        .map(sweep_item)
        .collect::<AppResult<Vec<SweepItem>>>()?;
    // The clock was checked against the last sweep when the lease was taken.
    let swept = sweep(&rules.schedule, &items, &rules.holds, None, rules.now)?;
    let by_id: HashMap<RecordingId, &SweepRecord> = batch.iter().map(|r| (r.id, r)).collect();
    let mut restated = Restated::default();
    let report = &mut restated.counts;
    for entry in swept.entries {
        report.recordings += 1;
        match entry.bucket {
            QueueBucket::DueNow => report.due_now += 1,
            QueueBucket::Within30Days | QueueBucket::Within60Days | QueueBucket::Within90Days => {
                report.due_within_90_days += 1;
            }
            QueueBucket::Later => report.later += 1,
            QueueBucket::Waiting => report.waiting += 1,
            QueueBucket::Held => report.held += 1,
        }
        let record = by_id.get(&entry.scope.recording).ok_or_else(|| {
            AppError::Internal("a swept recording was not in its batch".to_owned())
        })?;
        let stored = record.stored.as_ref();
        let changed_json = if stored.and_then(|s| s.digest) == Some(state_digest(&entry.state)) {
            None
        } else {
            Some(
                serde_json::to_string(&entry.state)
                    .map_err(|e| AppError::Internal(e.to_string()))?,
            )
        };
        let notice = match (rules.notices, entry.bucket, entry.state.due_on) {
            (Notices::Give, QueueBucket::DueNow, Some(due))
                if stored.and_then(|s| s.noticed_due_on) != Some(due) =>
            {
                Some(due)
            }
            _ => None,
        };
        if changed_json.is_some() || notice.is_some() {
            restated.writes.push(Write {
                recording: record.id,
                read_at: stored.map(|s| s.computed_at),
                state: entry.state,
                changed_json,
                notice,
            });
        }
    }
    Ok(restated)
}

/// A batch record as the core's sweep takes it: one set of facts per person in it.
fn sweep_item(record: &SweepRecord) -> AppResult<SweepItem> {
    let extension = record
        .extension
        .as_ref()
        .map(|e| {
            extension_of(
                e.extended_until,
                &e.reason,
                StaffId::from_uuid(e.reviewed_by),
                e.reviewed_at,
            )
        })
        .transpose()?;
    let derivation = record
        .derivation
        .as_ref()
        .map(|d| {
            DerivationKind::parse(&d.kind)
                .map(|kind| (kind, d.de_identified))
                .map_err(|e| {
                    AppError::Internal(format!("a stored derivation kind does not parse: {e}"))
                })
        })
        .transpose()?;
    let base = recording_facts(
        record.made_at,
        record.purposes,
        derivation,
        &record.facts,
        extension,
    )?;
    let place = RecordingPlace {
        recording: record.id,
        service: &record.service,
        session_id: record.session_id.map(SessionId::from_uuid),
        course_id: record.course_id.map(CourseId::from_uuid),
        derived_from: &record.derived_from,
    };
    let mut facts: Vec<_> = record
        .subjects
        .iter()
        .map(|s| {
            person_facts(
                &base,
                Some(s.date_of_birth),
                &s.facts,
                &s.withdrawals,
                &place,
            )
        })
        .collect();
    if facts.is_empty() {
        facts.push(base);
    }
    let mut subjects: Vec<PersonId> = record.subjects.iter().map(|s| s.person).collect();
    subjects.sort_unstable();
    Ok(SweepItem {
        scope: HoldScope {
            recording: record.id,
            derived_from: record.derived_from.clone(),
            subjects,
        },
        facts,
    })
}
