//! Disposal tasks in the register (C8, D10): work a disposal state raised besides the disposal
//! itself, listed while open and marked done once.

use custodian_core::ids::{RecordingId, StaffId};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::retention::RecordingIdRow;
use crate::{RegisterTx, StoreResult, on_both};

/// A task as stored: what to do to which recording, when it was raised, and when and by whom
/// it was done.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct DisposalTaskRecord {
    #[sqlx(try_from = "Uuid")]
    pub recording_id: RecordingIdRow,
    /// `withdrawal` or `take_down`.
    pub task: String,
    pub detail: String,
    pub raised_at: OffsetDateTime,
    pub done_at: Option<OffsetDateTime>,
    pub done_by: Option<Uuid>,
}

const TASK_COLUMNS: &str = "recording_id, task, detail, raised_at, done_at, done_by";

impl RegisterTx {
    /// Every task not yet done, oldest first.
    pub async fn open_disposal_tasks(&mut self) -> StoreResult<Vec<DisposalTaskRecord>> {
        let sql = format!(
            "SELECT {TASK_COLUMNS} FROM disposal_tasks WHERE done_at IS NULL ORDER BY raised_at, recording_id, task"
        );
        Ok(
            on_both!(self, conn => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .fetch_all(&mut **conn)
            .await?),
        )
    }

    /// One task of a recording, done or not.
    pub async fn disposal_task(
        &mut self,
        recording: RecordingId,
        task: &str,
    ) -> StoreResult<Option<DisposalTaskRecord>> {
        let sql = format!(
            "SELECT {TASK_COLUMNS} FROM disposal_tasks WHERE recording_id = $1 AND task = $2"
        );
        Ok(
            on_both!(self, conn => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(recording.as_uuid())
            .bind(task)
            .fetch_optional(&mut **conn)
            .await?),
        )
    }

    /// Marks a task done; `false` if it was already done (so it is done once).
    pub async fn mark_disposal_task_done(
        &mut self,
        recording: RecordingId,
        task: &str,
        by: StaffId,
        at: OffsetDateTime,
    ) -> StoreResult<bool> {
        let changed = on_both!(self, conn => sqlx::query(
            "UPDATE disposal_tasks SET done_at = $3, done_by = $4
             WHERE recording_id = $1 AND task = $2 AND done_at IS NULL",
        )
        .bind(recording.as_uuid())
        .bind(task)
        .bind(at)
        .bind(by.as_uuid())
        .execute(&mut **conn)
        .await?.rows_affected());
        Ok(changed == 1)
    }
}
