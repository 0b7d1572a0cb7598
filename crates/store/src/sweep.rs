//! The sweeper's reads and writes in batches (D2): every fact the retention rules need about a
//! run of recordings in six range queries, and conditional writes of what changed.

use std::collections::HashMap;

use custodian_core::consent::{Disposition, Scope};
use custodian_core::ids::{PersonId, RecordingId};
use custodian_core::purpose::{Purpose, PurposeSet};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::consents::scope_from_columns;
use crate::retention::{DisposalToStore, ON_CONFLICT_KEEP, PersonRetention, RecordingRetention};
use crate::rows::stored;
use crate::sweep_rows::*;
use crate::{Conn, RegisterTx, StoreError, StoreResult, on_both};

/// One recording as the sweeper sees it: its own facts, the people in it with theirs, and its
/// disposal state as last stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SweepRecord {
    pub id: RecordingId,
    pub made_at: OffsetDateTime,
    /// The recordings it was derived from (source and original), for legal holds.
    pub derived_from: Vec<RecordingId>,
    /// How it was derived, if it was, and whether identifying details were removed (R6, C11).
    pub derivation: Option<SweepDerivation>,
    /// Where it was made, for the scope of a withdrawal: service, session and course.
    pub service: String,
    pub session_id: Option<Uuid>,
    pub course_id: Option<Uuid>,
    pub purposes: PurposeSet,
    pub facts: RecordingRetention,
    pub subjects: Vec<SweepSubject>,
    /// The latest extension given at review: until, reason, by whom and when.
    pub extension: Option<ExtensionRecord>,
    /// The state as last stored; `None` for a recording registered before retention was.
    pub stored: Option<StoredState>,
}

/// How a derived item was made, as its row says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SweepDerivation {
    pub kind: String,
    pub de_identified: bool,
}

/// A person in a recording, with what retention knows about them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SweepSubject {
    pub person: PersonId,
    pub date_of_birth: Date,
    pub facts: PersonRetention,
    /// Their withdrawals in the order they happened.
    pub withdrawals: Vec<WithdrawalRecord>,
}

/// A withdrawal as retention needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WithdrawalRecord {
    /// What the withdrawn consent covered: the withdrawal reaches no further (C8).
    pub scope: Scope,
    pub at: OffsetDateTime,
    pub purposes: PurposeSet,
    pub existing_recordings: Disposition,
}

/// An extension a records manager gave at review.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ExtensionRecord {
    pub recording_id: Uuid,
    pub extended_until: Option<Date>,
    pub reason: String,
    pub reviewed_by: Uuid,
    pub reviewed_at: OffsetDateTime,
}

/// The stored columns a sweep compares its answer with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredState {
    /// The digest of the stored state's JSON; `None` for a state stored before digests were.
    pub digest: Option<i64>,
    pub computed_at: OffsetDateTime,
    pub noticed_due_on: Option<Date>,
}

impl RegisterTx {
    /// The id that ends the stretch of `size` recordings after `after` (the nil id to begin),
    /// or of those left if fewer; `None` when none are left. A walk of the key alone, so the
    /// sweeper can hand out stretches to read at once before it reads any.
    pub async fn sweep_batch_end(&mut self, after: Uuid, size: u32) -> StoreResult<Option<Uuid>> {
        let end: Option<Uuid> = on_both!(self, conn => sqlx::query_scalar(BATCH_END)
            .bind(after)
            .bind(i64::from(size.max(1) - 1))
            .fetch_one(&mut **conn)
            .await?);
        Ok(end)
    }

    /// The recordings not yet destroyed with ids after `after` up to `last`, in id order, with
    /// everything the retention rules need about them. Eight queries whatever the stretch's
    /// size, each a range scan of its table's key but those of people's facts.
    pub async fn sweep_batch(&mut self, after: Uuid, last: Uuid) -> StoreResult<Vec<SweepRecord>> {
        let rows: Vec<RecordingColumns> = on_both!(self, conn => sqlx::query_as(RECORDINGS)
            .bind(after)
            .bind(last)
            .fetch_all(&mut **conn)
            .await?);
        let rows: Vec<RecordingRow> = rows.into_iter().map(RecordingRow::from).collect();
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let retention: Vec<RetentionColumns> = on_both!(self, conn => sqlx::query_as(RETENTION)
            .bind(after)
            .bind(last)
            .fetch_all(&mut **conn)
            .await?);
        let destroyed: Vec<Uuid> = on_both!(self, conn => sqlx::query_scalar(DESTROYED)
            .bind(after)
            .bind(last)
            .fetch_all(&mut **conn)
            .await?);
        let purposes: Vec<(Uuid, String)> = on_both!(self, conn => sqlx::query_as(PURPOSES)
            .bind(after)
            .bind(last)
            .fetch_all(&mut **conn)
            .await?);
        let courses: Vec<(Uuid, Uuid)> = on_both!(self, conn => sqlx::query_as(COURSES)
            .bind(after)
            .bind(last)
            .fetch_all(&mut **conn)
            .await?);
        let subjects: Vec<SubjectColumns> = on_both!(self, conn => sqlx::query_as(SUBJECTS)
            .bind(after)
            .bind(last)
            .fetch_all(&mut **conn)
            .await?);
        let subjects = subjects.into_iter().map(SubjectRow::from).collect();
        let sql = format!("{WITHDRAWAL_COLUMNS} {WITHDRAWALS_IN_BATCH}");
        let withdrawals: Vec<WithdrawalRow> = on_both!(self, conn => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(after)
            .bind(last)
            .fetch_all(&mut **conn)
            .await?);
        let extensions: Vec<ExtensionRecord> = on_both!(self, conn => sqlx::query_as(EXTENSIONS)
            .bind(after)
            .bind(last)
            .fetch_all(&mut **conn)
            .await?);
        assemble(Batch {
            rows,
            retention: retention.into_iter().map(RetentionRow::from).collect(),
            destroyed,
            purposes,
            courses: courses.into_iter().collect(),
            subjects,
            withdrawals,
            extensions,
        })
    }

    /// A person's withdrawals in the order they happened, each with its consent's scope: what
    /// retention needs to know of them for one recording.
    pub async fn withdrawals_for_retention(
        &mut self,
        person: PersonId,
    ) -> StoreResult<Vec<WithdrawalRecord>> {
        let sql = format!("{WITHDRAWAL_COLUMNS} WHERE w.person_id = $1 ORDER BY w.at, w.id");
        let rows: Vec<WithdrawalRow> = on_both!(self, conn => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(person.as_uuid())
            .fetch_all(&mut **conn)
            .await?);
        Ok(withdrawals_by_person(rows)?
            .remove(&person.as_uuid())
            .unwrap_or_default())
    }

    /// Stores a state the sweeper worked out, unless the row changed since it was read
    /// (`read_at`, its `computed_at` then; `None` if there was no row): a trigger that
    /// recalculated it meanwhile knows better. `true` if stored.
    pub async fn store_swept_state(
        &mut self,
        recording: RecordingId,
        read_at: Option<OffsetDateTime>,
        disposal: &DisposalToStore<'_>,
    ) -> StoreResult<bool> {
        let Some(read_at) = read_at else {
            let facts = RecordingRetention::default();
            let inserted = self
                .insert_disposal(recording, &facts, disposal, ON_CONFLICT_KEEP)
                .await?;
            return Ok(inserted == 1);
        };
        let changed = on_both!(self, conn => sqlx::query(
            "UPDATE recording_retention SET due_on = $3, action = $4, governing_rule = $5,
                 state_digest = $6, computed_at = $7
             WHERE recording_id = $1 AND computed_at = $2",
        )
        .bind(recording.as_uuid())
        .bind(read_at)
        .bind(disposal.due_on)
        .bind(disposal.action)
        .bind(disposal.governing_rule)
        .bind(disposal.state_digest)
        .bind(disposal.computed_at)
        .execute(&mut **conn)
        .await?.rows_affected());
        if changed == 1 {
            self.store_disposal_words(recording, disposal).await?;
        }
        Ok(changed == 1)
    }

    /// Records that notice was given of `recording` coming due on `due_on`, unless it already
    /// was: `true` only for the one caller that recorded it, however many sweeps race.
    pub async fn notice_due_once(
        &mut self,
        recording: RecordingId,
        due_on: Date,
    ) -> StoreResult<bool> {
        let changed = on_both!(self, conn => sqlx::query(
            "UPDATE recording_retention SET noticed_due_on = $2
             WHERE recording_id = $1 AND (noticed_due_on IS NULL OR noticed_due_on <> $2)",
        )
        .bind(recording.as_uuid())
        .bind(due_on)
        .execute(&mut **conn)
        .await?.rows_affected());
        Ok(changed == 1)
    }

    /// The sweeper's row: when it last finished and who holds its lease. On PostgreSQL the row
    /// stays locked until this transaction ends, so two servers never both take the lease.
    pub async fn sweeper(&mut self) -> StoreResult<SweeperRow> {
        const READ: &str = "SELECT last_sweep_at, lease_holder, lease_since, lease_until FROM retention_sweeps WHERE id = 1";
        let row: Option<SweeperRow> = match &mut self.conn {
            Conn::Postgres(conn) => {
                sqlx::query_as(sqlx::AssertSqlSafe(format!("{READ} FOR UPDATE")))
                    .fetch_optional(&mut **conn)
                    .await?
            }
            Conn::SqliteWrite(job) => {
                sqlx::query_as(READ)
                    .fetch_optional(&mut **job.connection()?)
                    .await?
            }
            Conn::SqliteRead(_) => {
                return Err(StoreError::corrupt(
                    "retention sweep",
                    "taking the sweep needs a write transaction",
                ));
            }
        };
        row.ok_or_else(|| StoreError::corrupt("retention sweep", "the sweeper's row is missing"))
    }

    /// Gives the sweeper's lease to `holder` from `since` until `until`.
    pub async fn take_sweep_lease(
        &mut self,
        holder: Uuid,
        since: OffsetDateTime,
        until: OffsetDateTime,
    ) -> StoreResult<()> {
        on_both!(self, conn => sqlx::query(
            "UPDATE retention_sweeps SET lease_holder = $1, lease_since = $2, lease_until = $3 WHERE id = 1",
        )
        .bind(holder)
        .bind(since)
        .bind(until)
        .execute(&mut **conn)
        .await?.rows_affected());
        Ok(())
    }

    /// Records that `holder`'s sweep finished at `at` having found `counts`, and gives up its
    /// lease.
    pub async fn finish_sweep(
        &mut self,
        holder: Uuid,
        at: OffsetDateTime,
        counts: &SweepCounts,
    ) -> StoreResult<()> {
        on_both!(self, conn => sqlx::query(
            "UPDATE retention_sweeps SET last_sweep_at = $2, lease_holder = NULL, lease_since = NULL,
                 lease_until = NULL, due_now = $3, due_within_90_days = $4, later = $5,
                 waiting = $6, held = $7
             WHERE id = 1 AND lease_holder = $1",
        )
        .bind(holder)
        .bind(at)
        .bind(counts.due_now)
        .bind(counts.due_within_90_days)
        .bind(counts.later)
        .bind(counts.waiting)
        .bind(counts.held)
        .execute(&mut **conn)
        .await?.rows_affected());
        Ok(())
    }

    /// When the last sweep finished and what it counted; `None` before the first to count.
    pub async fn last_sweep_counts(
        &mut self,
    ) -> StoreResult<Option<(OffsetDateTime, SweepCounts)>> {
        let row: Option<LastSweepRow> = on_both!(self, conn => sqlx::query_as(
            "SELECT last_sweep_at, due_now, due_within_90_days, later, waiting, held
             FROM retention_sweeps WHERE id = 1 AND last_sweep_at IS NOT NULL AND due_now IS NOT NULL",
        )
        .fetch_optional(&mut **conn)
        .await?);
        Ok(row.and_then(|row| {
            Some((
                row.last_sweep_at?,
                SweepCounts {
                    due_now: row.due_now?,
                    due_within_90_days: row.due_within_90_days?,
                    later: row.later?,
                    waiting: row.waiting?,
                    held: row.held?,
                },
            ))
        }))
    }

    /// Gives up `holder`'s lease without recording a finished sweep (it failed part-way).
    pub async fn release_sweep(&mut self, holder: Uuid) -> StoreResult<()> {
        on_both!(self, conn => sqlx::query(
            "UPDATE retention_sweeps SET lease_holder = NULL, lease_since = NULL, lease_until = NULL
             WHERE id = 1 AND lease_holder = $1",
        )
        .bind(holder)
        .execute(&mut **conn)
        .await?.rows_affected());
        Ok(())
    }
}

/// How many recordings a sweep found in each part of the queue.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SweepCounts {
    pub due_now: i64,
    pub due_within_90_days: i64,
    pub later: i64,
    pub waiting: i64,
    pub held: i64,
}

#[derive(sqlx::FromRow)]
struct LastSweepRow {
    last_sweep_at: Option<OffsetDateTime>,
    due_now: Option<i64>,
    due_within_90_days: Option<i64>,
    later: Option<i64>,
    waiting: Option<i64>,
    held: Option<i64>,
}

/// When the sweeper last finished, and which sweep holds its lease, since when and until when.
#[derive(Clone, Copy, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct SweeperRow {
    pub last_sweep_at: Option<OffsetDateTime>,
    pub lease_holder: Option<Uuid>,
    pub lease_since: Option<OffsetDateTime>,
    pub lease_until: Option<OffsetDateTime>,
}

/// The rows of a batch's queries.
struct Batch {
    rows: Vec<RecordingRow>,
    retention: Vec<RetentionRow>,
    destroyed: Vec<Uuid>,
    purposes: Vec<(Uuid, String)>,
    courses: HashMap<Uuid, Uuid>,
    subjects: Vec<SubjectRow>,
    withdrawals: Vec<WithdrawalRow>,
    extensions: Vec<ExtensionRecord>,
}

/// Groups the queries' rows under their recordings. Every query is in recording order except
/// withdrawals, which belong to people and are looked up by person, and courses, by session.
fn assemble(batch: Batch) -> StoreResult<Vec<SweepRecord>> {
    let withdrawals = withdrawals_by_person(batch.withdrawals)?;
    let mut retention = batch.retention.into_iter().peekable();
    let mut destroyed = batch.destroyed.into_iter().peekable();
    let mut purposes = batch.purposes.into_iter().peekable();
    let mut subjects = batch.subjects.into_iter().peekable();
    let mut extensions = batch.extensions.into_iter().peekable();
    let mut records = Vec::with_capacity(batch.rows.len());
    for row in batch.rows {
        let mut found = None;
        while let Some(next) = retention.next_if(|r| r.recording_id <= row.id) {
            if next.recording_id == row.id {
                found = Some(next);
            }
        }
        let mut is_destroyed = false;
        while let Some(id) = destroyed.next_if(|id| *id <= row.id) {
            is_destroyed |= id == row.id;
        }
        if is_destroyed {
            continue;
        }
        let mut set = PurposeSet::EMPTY;
        while let Some((recording, code)) = purposes.next_if(|(r, _)| *r <= row.id) {
            if recording == row.id {
                set.insert(stored("purpose", Purpose::parse(&code))?);
            }
        }
        let mut people = Vec::new();
        while let Some(subject) = subjects.next_if(|s| s.recording_id <= row.id) {
            if subject.recording_id != row.id {
                continue;
            }
            people.push(SweepSubject {
                person: PersonId::from_uuid(subject.person_id),
                date_of_birth: subject.date_of_birth,
                facts: PersonRetention {
                    care_ended_on: subject.care_ended_on,
                    died_on: subject.died_on,
                    left_service_on: subject.left_service_on,
                    deletion_requested_on: subject.deletion_requested_on,
                },
                withdrawals: withdrawals
                    .get(&subject.person_id)
                    .cloned()
                    .unwrap_or_default(),
            });
        }
        let mut extension = None;
        while let Some(found) = extensions.next_if(|e| e.recording_id <= row.id) {
            if found.recording_id == row.id {
                extension = Some(found);
            }
        }
        let mut derived_from: Vec<RecordingId> = [row.source_id, row.original_id]
            .into_iter()
            .flatten()
            .map(RecordingId::from_uuid)
            .collect();
        derived_from.sort_unstable();
        derived_from.dedup();
        let stored_state = found.as_ref().map(|r| StoredState {
            digest: r.state_digest,
            computed_at: r.computed_at,
            noticed_due_on: r.noticed_due_on,
        });
        let facts = found.map_or_else(RecordingRetention::default, |r| RecordingRetention {
            record_category: r.record_category,
            transcript_made_on: r.transcript_made_on,
            found_no_longer_relevant_on: r.found_no_longer_relevant_on,
            superseded_on: r.superseded_on,
            published_online: r.published_online,
            deleted_at_stop_on: r.deleted_at_stop_on,
            source_destroyed_on: r.source_destroyed_on,
        });
        records.push(SweepRecord {
            id: RecordingId::from_uuid(row.id),
            made_at: row.made_at,
            derived_from,
            derivation: row.derivation_kind.map(|kind| SweepDerivation {
                kind,
                de_identified: row.de_identified,
            }),
            service: row.service,
            session_id: row.session_id,
            course_id: row
                .session_id
                .and_then(|session| batch.courses.get(&session).copied()),
            purposes: set,
            facts,
            subjects: people,
            extension,
            stored: stored_state,
        });
    }
    Ok(records)
}

/// Each person's withdrawals, in the order they happened, with the purposes of each.
fn withdrawals_by_person(
    rows: Vec<WithdrawalRow>,
) -> StoreResult<HashMap<Uuid, Vec<WithdrawalRecord>>> {
    let mut by_person: HashMap<Uuid, Vec<WithdrawalRecord>> = HashMap::new();
    let mut last: Option<Uuid> = None;
    for row in rows {
        let list = by_person.entry(row.person_id).or_default();
        if last != Some(row.id) {
            list.push(WithdrawalRecord {
                scope: scope_from_columns(
                    &row.scope_kind,
                    row.scope_service.clone(),
                    row.scope_course_id,
                    row.scope_session_id,
                    row.scope_recording_id,
                )?,
                at: row.at,
                purposes: PurposeSet::EMPTY,
                existing_recordings: stored(
                    "existing recordings",
                    Disposition::parse(&row.existing_recordings),
                )?,
            });
            last = Some(row.id);
        }
        if let (Some(code), Some(withdrawal)) = (row.purpose, list.last_mut()) {
            withdrawal
                .purposes
                .insert(stored("purpose", Purpose::parse(&code))?);
        }
    }
    Ok(by_person)
}
