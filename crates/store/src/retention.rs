//! Retention facts, stored disposal states, the schedule's period changes and the sweeper's
//! clock (D2–D6): what `custodian_core::retention` needs and what it answered.

use custodian_core::ids::{PersonId, RecordingId, StaffId};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::{RegisterTx, StoreResult, on_both};

/// What retention knows about a person beyond the register (D3, D4, D6).
#[derive(Clone, Debug, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct PersonRetention {
    pub care_ended_on: Option<Date>,
    pub died_on: Option<Date>,
    pub left_service_on: Option<Date>,
    pub deletion_requested_on: Option<Date>,
}

/// What retention knows about a recording beyond the register (D1, D2, D4, D5, D10).
#[derive(Clone, Debug, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct RecordingRetention {
    pub record_category: Option<String>,
    pub transcript_made_on: Option<Date>,
    pub found_no_longer_relevant_on: Option<Date>,
    pub superseded_on: Option<Date>,
    pub published_online: bool,
    /// The day its session was stopped with a choice that deletes it (C9).
    pub deleted_at_stop_on: Option<Date>,
    /// For a derived item, the day the item it was made from was destroyed (R6).
    pub source_destroyed_on: Option<Date>,
}

/// A recording's disposal state as last worked out, as the queue reads it.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredDisposal {
    #[sqlx(try_from = "Uuid")]
    pub recording_id: RecordingIdRow,
    pub due_on: Option<Date>,
    pub action: String,
    pub governing_rule: Option<String>,
    pub reason: String,
    /// The whole `DisposalState`, as JSON.
    pub state: String,
    pub computed_at: OffsetDateTime,
    pub noticed_due_on: Option<Date>,
}

/// A recording id as read from a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct RecordingIdRow(pub RecordingId);

impl From<Uuid> for RecordingIdRow {
    fn from(uuid: Uuid) -> Self {
        Self(RecordingId::from_uuid(uuid))
    }
}

/// A records manager's review of a recording that came due.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct DisposalReviewRecord {
    pub id: Uuid,
    #[sqlx(try_from = "Uuid")]
    pub recording_id: RecordingIdRow,
    /// `approved` or `extended`.
    pub outcome: String,
    pub action: String,
    pub reason: String,
    pub extended_until: Option<Date>,
    #[sqlx(try_from = "Uuid")]
    pub reviewed_by: StaffIdRow,
    pub reviewed_at: OffsetDateTime,
    pub carried_out_at: Option<OffsetDateTime>,
}

/// A staff id as read from a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StaffIdRow(pub StaffId);

impl From<Uuid> for StaffIdRow {
    fn from(uuid: Uuid) -> Self {
        Self(StaffId::from_uuid(uuid))
    }
}

/// One change of a rule's period, in the order made.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct PeriodChangeRecord {
    pub rule: String,
    pub years: i64,
    pub months: i64,
    pub days: i64,
}

/// An existing row takes the new facts and state.
const ON_CONFLICT_REPLACE: &str = "DO UPDATE SET record_category = excluded.record_category,
     transcript_made_on = excluded.transcript_made_on, found_no_longer_relevant_on = excluded.found_no_longer_relevant_on,
     superseded_on = excluded.superseded_on, published_online = excluded.published_online,
     deleted_at_stop_on = excluded.deleted_at_stop_on, source_destroyed_on = excluded.source_destroyed_on, due_on = excluded.due_on, action = excluded.action, governing_rule = excluded.governing_rule,
     state_digest = excluded.state_digest, computed_at = excluded.computed_at";

/// An existing row is left as it is.
pub(crate) const ON_CONFLICT_KEEP: &str = "DO NOTHING";

pub(crate) const DISPOSAL_COLUMNS: &str = "r.recording_id, r.due_on, r.action, r.governing_rule, w.reason, w.state, r.computed_at, r.noticed_due_on";

/// A retention row with its state's words, kept apart so the sweeper reads narrow rows.
pub(crate) const DISPOSALS_WITH_WORDS: &str =
    "recording_retention r JOIN recording_disposal_states w ON w.recording_id = r.recording_id";

impl RegisterTx {
    /// What retention knows about `person`; nothing recorded yet is all `None`.
    pub async fn person_retention(&mut self, person: PersonId) -> StoreResult<PersonRetention> {
        let row: Option<PersonRetention> = on_both!(self, conn => sqlx::query_as(
            "SELECT care_ended_on, died_on, left_service_on, deletion_requested_on FROM person_retention WHERE person_id = $1",
        )
        .bind(person.as_uuid())
        .fetch_optional(&mut **conn)
        .await?);
        Ok(row.unwrap_or_default())
    }

    /// Replaces what retention knows about `person`.
    pub async fn set_person_retention(
        &mut self,
        person: PersonId,
        facts: &PersonRetention,
    ) -> StoreResult<()> {
        on_both!(self, conn => sqlx::query(
            "INSERT INTO person_retention (person_id, care_ended_on, died_on, left_service_on, deletion_requested_on)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (person_id) DO UPDATE SET care_ended_on = excluded.care_ended_on, died_on = excluded.died_on,
                 left_service_on = excluded.left_service_on, deletion_requested_on = excluded.deletion_requested_on",
        )
        .bind(person.as_uuid())
        .bind(facts.care_ended_on)
        .bind(facts.died_on)
        .bind(facts.left_service_on)
        .bind(facts.deletion_requested_on)
        .execute(&mut **conn)
        .await?.rows_affected());
        Ok(())
    }

    /// What retention knows about `recording`; nothing recorded yet is the default.
    pub async fn recording_retention(
        &mut self,
        recording: RecordingId,
    ) -> StoreResult<RecordingRetention> {
        let row: Option<RecordingRetention> = on_both!(self, conn => sqlx::query_as(
            "SELECT record_category, transcript_made_on, found_no_longer_relevant_on, superseded_on, published_online,
                 deleted_at_stop_on, source_destroyed_on
             FROM recording_retention WHERE recording_id = $1",
        )
        .bind(recording.as_uuid())
        .fetch_optional(&mut **conn)
        .await?);
        Ok(row.unwrap_or_default())
    }

    /// Stores a recording's facts and the disposal state worked out from them.
    pub async fn store_disposal(
        &mut self,
        recording: RecordingId,
        facts: &RecordingRetention,
        disposal: &DisposalToStore<'_>,
    ) -> StoreResult<()> {
        self.insert_disposal(recording, facts, disposal, ON_CONFLICT_REPLACE)
            .await?;
        Ok(())
    }

    /// Inserts a recording's retention row and its state's words; `on_conflict` says what an
    /// existing row gets. Returns the retention rows written: the words are written with them.
    pub(crate) async fn insert_disposal(
        &mut self,
        recording: RecordingId,
        facts: &RecordingRetention,
        disposal: &DisposalToStore<'_>,
        on_conflict: &'static str,
    ) -> StoreResult<u64> {
        let sql = format!(
            "INSERT INTO recording_retention (recording_id, record_category, transcript_made_on, found_no_longer_relevant_on,
                 superseded_on, published_online, due_on, action, governing_rule, state_digest, computed_at,
                 deleted_at_stop_on, source_destroyed_on)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
             ON CONFLICT (recording_id) {on_conflict}"
        );
        let written = on_both!(self, conn => sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
        .bind(recording.as_uuid())
        .bind(facts.record_category.as_deref())
        .bind(facts.transcript_made_on)
        .bind(facts.found_no_longer_relevant_on)
        .bind(facts.superseded_on)
        .bind(facts.published_online)
        .bind(disposal.due_on)
        .bind(disposal.action)
        .bind(disposal.governing_rule)
        .bind(disposal.state_digest)
        .bind(disposal.computed_at)
        .bind(facts.deleted_at_stop_on)
        .bind(facts.source_destroyed_on)
        .execute(&mut **conn)
        .await?.rows_affected());
        if written > 0 {
            self.store_disposal_words(recording, disposal).await?;
        }
        Ok(written)
    }

    /// Stores the words of the state just stored in `recording`'s retention row.
    pub(crate) async fn store_disposal_words(
        &mut self,
        recording: RecordingId,
        disposal: &DisposalToStore<'_>,
    ) -> StoreResult<()> {
        on_both!(self, conn => sqlx::query(
            "INSERT INTO recording_disposal_states (recording_id, reason, state) VALUES ($1, $2, $3)
             ON CONFLICT (recording_id) DO UPDATE SET reason = excluded.reason, state = excluded.state",
        )
        .bind(recording.as_uuid())
        .bind(disposal.reason)
        .bind(disposal.state)
        .execute(&mut **conn)
        .await?.rows_affected());
        Ok(())
    }

    /// A recording's stored disposal state, if worked out.
    pub async fn disposal(
        &mut self,
        recording: RecordingId,
    ) -> StoreResult<Option<StoredDisposal>> {
        let sql = format!(
            "SELECT {DISPOSAL_COLUMNS} FROM {DISPOSALS_WITH_WORDS} WHERE r.recording_id = $1"
        );
        Ok(
            on_both!(self, conn => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(recording.as_uuid())
            .fetch_optional(&mut **conn)
            .await?),
        )
    }

    /// Records a review.
    pub async fn insert_disposal_review(
        &mut self,
        review: &DisposalReviewRecord,
    ) -> StoreResult<()> {
        on_both!(self, conn => sqlx::query(
            "INSERT INTO disposal_reviews (id, recording_id, outcome, action, reason, extended_until, reviewed_by, reviewed_at, carried_out_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(review.id)
        .bind(review.recording_id.0.as_uuid())
        .bind(&review.outcome)
        .bind(&review.action)
        .bind(&review.reason)
        .bind(review.extended_until)
        .bind(review.reviewed_by.0.as_uuid())
        .bind(review.reviewed_at)
        .bind(review.carried_out_at)
        .execute(&mut **conn)
        .await?.rows_affected());
        Ok(())
    }

    /// A recording's reviews, oldest first.
    pub async fn disposal_reviews(
        &mut self,
        recording: RecordingId,
    ) -> StoreResult<Vec<DisposalReviewRecord>> {
        Ok(on_both!(self, conn => sqlx::query_as(
            "SELECT id, recording_id, outcome, action, reason, extended_until, reviewed_by, reviewed_at, carried_out_at
             FROM disposal_reviews WHERE recording_id = $1 ORDER BY reviewed_at, id",
        )
        .bind(recording.as_uuid())
        .fetch_all(&mut **conn)
        .await?))
    }

    /// Marks an approval as carried out; `false` if it already was (so it is done once).
    pub async fn carry_out_review(
        &mut self,
        review: Uuid,
        at: OffsetDateTime,
    ) -> StoreResult<bool> {
        let changed = on_both!(self, conn => sqlx::query(
            "UPDATE disposal_reviews SET carried_out_at = $2 WHERE id = $1 AND carried_out_at IS NULL",
        )
        .bind(review)
        .bind(at)
        .execute(&mut **conn)
        .await?.rows_affected());
        Ok(changed == 1)
    }

    /// Raises a task for a recording (a withdrawal's choice, a take-down), once.
    pub async fn raise_disposal_task(
        &mut self,
        recording: RecordingId,
        task: &str,
        detail: &str,
        at: OffsetDateTime,
    ) -> StoreResult<bool> {
        let inserted = on_both!(self, conn => sqlx::query(
            "INSERT INTO disposal_tasks (recording_id, task, detail, raised_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (recording_id, task) DO NOTHING",
        )
        .bind(recording.as_uuid())
        .bind(task)
        .bind(detail)
        .bind(at)
        .execute(&mut **conn)
        .await?.rows_affected());
        Ok(inserted == 1)
    }

    /// A recording's open tasks: `(task, detail)`.
    pub async fn disposal_tasks(
        &mut self,
        recording: RecordingId,
    ) -> StoreResult<Vec<(String, String)>> {
        Ok(on_both!(self, conn => sqlx::query_as(
            "SELECT task, detail FROM disposal_tasks WHERE recording_id = $1 AND done_at IS NULL ORDER BY task",
        )
        .bind(recording.as_uuid())
        .fetch_all(&mut **conn)
        .await?))
    }

    /// Every change of a rule's period, in the order made.
    pub async fn period_changes(&mut self) -> StoreResult<Vec<PeriodChangeRecord>> {
        Ok(on_both!(self, conn => sqlx::query_as(
            "SELECT rule, years, months, days FROM retention_period_changes ORDER BY seq",
        )
        .fetch_all(&mut **conn)
        .await?))
    }

    /// Records a change of a rule's period.
    pub async fn insert_period_change(
        &mut self,
        change: &PeriodChangeRecord,
        by: StaffId,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        on_both!(self, conn => sqlx::query(
            "INSERT INTO retention_period_changes (seq, rule, years, months, days, changed_by, changed_at)
             SELECT COALESCE(MAX(seq), 0) + 1, $1, $2, $3, $4, $5, $6 FROM retention_period_changes",
        )
        .bind(&change.rule)
        .bind(change.years)
        .bind(change.months)
        .bind(change.days)
        .bind(by.as_uuid())
        .bind(at)
        .execute(&mut **conn)
        .await?.rows_affected());
        Ok(())
    }

    /// Records when the sweeper ran.
    pub async fn set_last_sweep(&mut self, at: OffsetDateTime) -> StoreResult<()> {
        on_both!(self, conn => sqlx::query("UPDATE retention_sweeps SET last_sweep_at = $1 WHERE id = 1")
            .bind(at)
            .execute(&mut **conn)
            .await?.rows_affected());
        Ok(())
    }
}

/// A disposal state to store, in the columns the queue reads.
#[derive(Clone, Copy, Debug)]
pub struct DisposalToStore<'a> {
    pub due_on: Option<Date>,
    pub action: &'a str,
    pub governing_rule: Option<&'a str>,
    pub reason: &'a str,
    pub state: &'a str,
    /// A digest of `state`, which the sweeper compares rather than the whole JSON.
    pub state_digest: i64,
    pub computed_at: OffsetDateTime,
}
