//! The disposal queue's reads (D2, D7): one page of stored states at a time, in due order, and
//! the recordings legal holds reach, so a queue of millions is never read whole.

use std::collections::BTreeSet;

use custodian_core::ids::{PersonId, RecordingId};
use time::Date;
use uuid::Uuid;

use crate::retention::{DISPOSAL_COLUMNS, DISPOSALS_WITH_WORDS, RecordingIdRow, StoredDisposal};
use crate::{RegisterTx, StoreResult, on_both};

/// Which stored states a page of the queue is taken from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DueRange {
    /// Due on or before the day.
    Through(Date),
    /// Due after the first day, on or before the second.
    Between { after: Date, through: Date },
    /// Not dated: waiting for a trigger.
    Waiting,
}

/// Where a state sits in the queue's order: by due date (undated last), then recording.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, sqlx::FromRow)]
pub struct QueueKey {
    /// `true` when not dated, so the undated sort after the dated.
    pub waiting: bool,
    pub due_on: Option<Date>,
    #[sqlx(try_from = "Uuid")]
    pub recording_id: RecordingIdRow,
}

impl QueueKey {
    pub fn new(due_on: Option<Date>, recording_id: RecordingId) -> Self {
        Self {
            waiting: due_on.is_none(),
            due_on,
            recording_id: RecordingIdRow(recording_id),
        }
    }
}

/// A value bound to a page's query, in the order its placeholders are numbered.
enum Bound {
    Date(Date),
    Id(Uuid),
    Count(i64),
}

/// Binds `value` next, and names its placeholder.
fn next(value: Bound, bound: &mut Vec<Bound>) -> String {
    bound.push(value);
    format!("${}", bound.len())
}

/// Not yet destroyed: the register keeps a destroyed recording's state beside its stub.
const NOT_DESTROYED: &str =
    "NOT EXISTS (SELECT 1 FROM destructions d WHERE d.recording_id = r.recording_id)";

impl RegisterTx {
    /// Up to `limit` stored states of recordings not destroyed in `range`, in due order,
    /// starting after `after`: a walk of the due-date index, however long the queue.
    pub async fn disposals_page(
        &mut self,
        range: DueRange,
        after: Option<QueueKey>,
        limit: u32,
    ) -> StoreResult<Vec<StoredDisposal>> {
        let mut conditions: Vec<String> = Vec::new();
        let mut bound: Vec<Bound> = Vec::new();
        match range {
            DueRange::Through(through) => {
                let through = next(Bound::Date(through), &mut bound);
                conditions.push(format!("r.due_on <= {through}"));
            }
            DueRange::Between { after, through } => {
                let after = next(Bound::Date(after), &mut bound);
                let through = next(Bound::Date(through), &mut bound);
                conditions.push(format!("r.due_on > {after} AND r.due_on <= {through}"));
            }
            DueRange::Waiting => conditions.push("r.due_on IS NULL".to_owned()),
        }
        match (range, after) {
            (_, None) => {}
            (DueRange::Waiting, Some(key)) => {
                let id = next(Bound::Id(key.recording_id.0.as_uuid()), &mut bound);
                conditions.push(format!("r.recording_id > {id}"));
            }
            (_, Some(key)) => match key.due_on {
                Some(due_on) => {
                    let due_on = next(Bound::Date(due_on), &mut bound);
                    let id = next(Bound::Id(key.recording_id.0.as_uuid()), &mut bound);
                    conditions.push(format!("(r.due_on, r.recording_id) > ({due_on}, {id})"));
                }
                // After every dated state: nothing dated is left.
                None => return Ok(Vec::new()),
            },
        }
        let limit = next(Bound::Count(i64::from(limit)), &mut bound);
        let sql = format!(
            "SELECT {DISPOSAL_COLUMNS} FROM {DISPOSALS_WITH_WORDS}
             WHERE {} AND {NOT_DESTROYED}
             ORDER BY r.due_on, r.recording_id LIMIT {limit}",
            conditions.join(" AND ")
        );
        Ok(on_both!(self, conn => {
            let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()));
            for value in &bound {
                query = match value {
                    Bound::Date(date) => query.bind(*date),
                    Bound::Id(id) => query.bind(*id),
                    Bound::Count(count) => query.bind(*count),
                };
            }
            query.fetch_all(&mut **conn).await?
        }))
    }

    /// Where each recording that `recordings` and `persons` reach sits in the queue, if not
    /// destroyed and due on or before `due_by` or waiting, in queue order: the recordings, the
    /// copies made from them, and every recording of the people. For the held part: holds name
    /// recordings and people one by one, so this is as long as what they name, and each step
    /// is a lookup by key, whatever the register's size.
    pub async fn queue_keys_reached(
        &mut self,
        recordings: &[RecordingId],
        persons: &[PersonId],
        due_by: Date,
    ) -> StoreResult<Vec<QueueKey>> {
        let named: BTreeSet<RecordingId> = recordings.iter().copied().collect();
        let mut reached: BTreeSet<Uuid> = named.iter().map(|r| r.as_uuid()).collect();
        for recording in named {
            reached.extend(self.derivative_ids(recording).await?);
        }
        // Several holds may name the same person.
        for person in persons.iter().collect::<BTreeSet<_>>() {
            let theirs: Vec<Uuid> = on_both!(self, conn => sqlx::query_scalar(
                "SELECT recording_id FROM recording_subjects WHERE person_id = $1",
            )
            .bind(person.as_uuid())
            .fetch_all(&mut **conn)
            .await?);
            reached.extend(theirs);
        }
        let sql = format!(
            "SELECT r.due_on IS NULL AS waiting, r.due_on, r.recording_id FROM recording_retention r
             WHERE r.recording_id = $1 AND (r.due_on IS NULL OR r.due_on <= $2) AND {NOT_DESTROYED}"
        );
        let mut keys = Vec::new();
        for id in reached {
            let key: Option<QueueKey> = on_both!(self, conn => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                .bind(id)
                .bind(due_by)
                .fetch_optional(&mut **conn)
                .await?);
            keys.extend(key);
        }
        keys.sort_unstable();
        Ok(keys)
    }
}
