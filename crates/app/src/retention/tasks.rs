//! Disposal tasks (C8, D10): carrying out a person's choice on withdrawal and taking a recording
//! down from online publication are done by hand, then marked done here, once, and audited.

use custodian_access::Action;
use custodian_core::DomainError;
use custodian_core::ids::{RecordingId, StaffId};
use custodian_store::DisposalTaskRecord;
use serde::Serialize;
use time::OffsetDateTime;

use crate::access::Target;
use crate::accounts::Caller;
use crate::audit_trail::Audit;
use crate::error_code::ErrorCode;
use crate::london::london_time;
use crate::retention::name_the_rule;
use crate::{AppError, AppResult, Custodian};

/// The tasks a disposal state raises.
pub const TASKS: [&str; 2] = ["withdrawal", "take_down"];

/// A disposal task: what to do to which recording, and whether it is done.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DisposalTaskView {
    pub recording_id: RecordingId,
    /// `withdrawal` (carry out the person's choice on withdrawing consent, C8) or `take_down`
    /// (take it down from online publication, D10).
    pub task: String,
    /// What to do, in words.
    pub detail: String,
    #[serde(with = "time::serde::rfc3339")]
    pub raised_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub done_at: Option<OffsetDateTime>,
    pub done_by: Option<StaffId>,
}

impl From<DisposalTaskRecord> for DisposalTaskView {
    fn from(record: DisposalTaskRecord) -> Self {
        Self {
            recording_id: record.recording_id.0,
            task: record.task,
            detail: record.detail,
            raised_at: record.raised_at,
            done_at: record.done_at,
            done_by: record.done_by.map(StaffId::from_uuid),
        }
    }
}

/// The policy that lets records managers carry out disposals, tasks among them, and who holds it.
const RULE: &str = "D4.records-manager-retention";
const HOLDERS: &str = "records managers";

impl Custodian {
    /// Every disposal task not yet done, oldest first. Records managers only.
    pub async fn open_disposal_tasks(&self, caller: &Caller) -> AppResult<Vec<DisposalTaskView>> {
        self.authorize(caller, Action::ReviewDisposal, Target::Organisation)
            .await
            .map_err(|e| name_the_rule(e, &[RULE], HOLDERS, "see disposal tasks"))?;
        let mut tx = self.register.read().await?;
        let tasks = tx.open_disposal_tasks().await?;
        tx.rollback().await?;
        Ok(tasks.into_iter().map(DisposalTaskView::from).collect())
    }

    /// Marks a recording's task done (C8, D10), once: a second "done" is refused naming when and
    /// by whom it was done. Records managers only; audited in the recording's history.
    #[tracing::instrument(skip(self, caller), fields(staff = %caller.member.id))]
    pub async fn mark_disposal_task_done(
        &self,
        caller: &Caller,
        recording: RecordingId,
        task: &str,
    ) -> AppResult<DisposalTaskView> {
        self.authorize(caller, Action::ReviewDisposal, Target::Organisation)
            .await
            .map_err(|e| name_the_rule(e, &[RULE], HOLDERS, "mark disposal tasks done"))?;
        if !TASKS.contains(&task) {
            return Err(AppError::Invalid(DomainError::UnknownValue {
                what: "disposal task",
                input: task.chars().take(60).collect(),
                known: TASKS.join(", "),
            }));
        }
        let now = self.clock.now();
        let mut tx = self.register.write().await?;
        let found = tx
            .disposal_task(recording, task)
            .await?
            .ok_or_else(|| AppError::not_found("disposal task", format!("{recording}/{task}")))?;
        if !tx
            .mark_disposal_task_done(recording, task, caller.member.id, now)
            .await?
        {
            let by = match found.done_by {
                Some(id) => tx
                    .staff(StaffId::from_uuid(id))
                    .await?
                    .map(|account| account.member.display_name.to_string()),
                None => None,
            };
            tx.rollback().await?;
            return Err(already_done(found.done_at, by.as_deref()));
        }
        Audit::change("disposal.task_done")
            .recording(recording)
            .detail(serde_json::json!({ "task": task, "detail": found.detail }))
            .write(&mut tx, caller.actor(), now)
            .await?;
        tx.commit().await?;
        Ok(DisposalTaskView {
            done_at: Some(now),
            done_by: Some(caller.member.id),
            ..DisposalTaskView::from(found)
        })
    }
}

/// The refusal of a second "done", saying when and by whom the first was.
fn already_done(at: Option<OffsetDateTime>, by: Option<&str>) -> AppError {
    let when = at.map_or_else(String::new, |at| format!(" on {}", london_time(at)));
    let who = by.map_or_else(String::new, |name| format!(" by {name}"));
    AppError::Rule {
        code: ErrorCode::DisposalTaskAlreadyDone,
        message: format!(
            "this task was already marked done{when}{who}; there is nothing more to do"
        ),
    }
}
