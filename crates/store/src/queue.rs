//! The disposal queue's reads (D2, D7): one page of stored states at a time, in due order, and
//! the recordings legal holds reach, so a queue of millions is never read whole.

use custodian_core::ids::RecordingId;
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

/// The recordings a standing hold reaches: those it names, copies made from them, and every
/// recording of a person it names (as `HoldScope::may_destroy` decides in the core).
const HELD_RECORDINGS: &str = "WITH named AS (
        SELECT c.recording_id AS id FROM legal_hold_recordings c
        JOIN legal_holds h ON h.id = c.hold_id WHERE h.lifted_at IS NULL),
    reached AS (
        SELECT id FROM named
        UNION SELECT d.id FROM recordings d JOIN named n ON d.source_id = n.id
        UNION SELECT d.id FROM recordings d JOIN named n ON d.original_id = n.id
        UNION SELECT s.recording_id FROM recording_subjects s
            JOIN legal_hold_persons p ON p.person_id = s.person_id
            JOIN legal_holds h ON h.id = p.hold_id WHERE h.lifted_at IS NULL)";

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

    /// Where each recording a standing hold reaches, not destroyed and due on or before
    /// `due_by` or waiting, sits in the queue, in queue order. Holds name recordings and
    /// people one by one, so this is as long as what they name, not as the register.
    pub async fn held_queue_keys(&mut self, due_by: Date) -> StoreResult<Vec<QueueKey>> {
        let sql = format!(
            "{HELD_RECORDINGS}
             SELECT r.due_on IS NULL AS waiting, r.due_on, r.recording_id
             FROM reached x JOIN recording_retention r ON r.recording_id = x.id
             WHERE (r.due_on IS NULL OR r.due_on <= $1) AND {NOT_DESTROYED}
             ORDER BY r.due_on IS NULL, r.due_on, r.recording_id"
        );
        Ok(
            on_both!(self, conn => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(due_by)
            .fetch_all(&mut **conn)
            .await?),
        )
    }
}
