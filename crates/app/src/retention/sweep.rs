//! The sweeper (D2): works out every recording's state afresh in batches, stores only what
//! changed, gives notice once when one comes due, and records when it ran. Idempotent, and
//! safe with two servers on one database.

use std::collections::HashMap;
use std::time::{Duration as StdDuration, Instant};

use custodian_core::audit::Actor;
use custodian_core::consent::RecordingPlace;
use custodian_core::ids::{CourseId, PersonId, RecordingId, SessionId, StaffId};
use custodian_core::retention::{
    DisposalState, HoldScope, LegalHold, QueueBucket, RetentionSchedule, SweepItem,
    check_sweep_clock, sweep,
};
use custodian_store::{Register, SweepRecord};
use serde::Serialize;
use time::{Duration, OffsetDateTime};
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::audit_trail::Audit;
use crate::retention::{
    disposal_row, every_standing_hold, extension_of, person_facts, raise_tasks, recording_facts,
    schedule_in_force,
};
use crate::{AppError, AppResult, Custodian};

/// Recordings read, worked out and written per transaction: large enough that the queries'
/// cost is spread thin, small enough that no transaction holds SQLite's writer for long.
const BATCH: u32 = 4_000;

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

/// Where a sweep's time went: waiting for the register's reads (beyond the time they overlap
/// working out), working out states, and writing what changed.
#[derive(Clone, Copy, Debug, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SweepTimings {
    #[serde(serialize_with = "seconds")]
    #[cfg_attr(feature = "openapi", schema(value_type = f64))]
    pub waiting_for_reads: StdDuration,
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
                tx.finish_sweep(holder, now).await?;
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

    /// Works out every recording's state as of `now` in batches, in id order. Each batch is
    /// read in one read transaction, while the batch before it is worked out (SQLite reads on
    /// its own thread, so the two overlap); what changed (and any notice) is written in one
    /// short write transaction, only if the stored row is as it was read.
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
        let mut reading = read_batch(self.register.clone(), Uuid::nil());
        loop {
            let waited = Instant::now();
            let batch = reading
                .await
                .map_err(|e| AppError::Internal(e.to_string()))??;
            report.timings.waiting_for_reads += waited.elapsed();
            let Some(last) = batch.last() else {
                break;
            };
            reading = read_batch(self.register.clone(), last.id.as_uuid());
            let working = Instant::now();
            let writes = restate_batch(schedule, holds, &batch, now, notices, &mut report)?;
            report.timings.working_out += working.elapsed();
            if !writes.is_empty() {
                let writing = Instant::now();
                self.write_batch(writes, now, &mut report).await?;
                report.timings.writing += writing.elapsed();
            }
        }
        Ok(report)
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

/// Reads the batch after `after` in its own task, so it runs while the last one is worked out.
fn read_batch(register: Register, after: Uuid) -> JoinHandle<AppResult<Vec<SweepRecord>>> {
    tokio::spawn(async move {
        let mut read = register.read().await?;
        let batch = read.sweep_batch(after, BATCH).await?;
        read.rollback().await?;
        Ok(batch)
    })
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

/// Works out one batch with the core's sweep, counts it into `report`, and returns the writes.
fn restate_batch(
    schedule: &RetentionSchedule,
    holds: &[LegalHold],
    batch: &[SweepRecord],
    now: OffsetDateTime,
    notices: Notices,
    report: &mut SweepReport,
) -> AppResult<Vec<Write>> {
    let items = batch
        .iter()
        .map(sweep_item)
        .collect::<AppResult<Vec<SweepItem>>>()?;
    // The clock was checked against the last sweep when the lease was taken.
    let swept = sweep(schedule, &items, holds, None, now)?;
    let by_id: HashMap<RecordingId, &SweepRecord> = batch.iter().map(|r| (r.id, r)).collect();
    let mut writes = Vec::new();
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
        let json =
            serde_json::to_string(&entry.state).map_err(|e| AppError::Internal(e.to_string()))?;
        let stored = record.stored.as_ref();
        let changed_json =
            (stored.map(|s| s.state.as_str()) != Some(json.as_str())).then_some(json);
        let notice = match (notices, entry.bucket, entry.state.due_on) {
            (Notices::Give, QueueBucket::DueNow, Some(due))
                if stored.and_then(|s| s.noticed_due_on) != Some(due) =>
            {
                Some(due)
            }
            _ => None,
        };
        if changed_json.is_some() || notice.is_some() {
            writes.push(Write {
                recording: record.id,
                read_at: stored.map(|s| s.computed_at),
                state: entry.state,
                changed_json,
                notice,
            });
        }
    }
    Ok(writes)
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
    let base = recording_facts(record.made_at, record.purposes, &record.facts, extension)?;
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
