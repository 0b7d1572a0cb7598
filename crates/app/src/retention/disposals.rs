//! The disposal queue and its reviews (D2, D9): what is due, reviewing it (approve, or extend
//! with a reason and a later date), and destroying what was approved, with a warrant that
//! re-checks the legal holds at that moment (D7).

use custodian_access::Action;
use custodian_core::clock::utc_day;
use custodian_core::ids::RecordingId;
use custodian_core::recording::Recording;
use custodian_core::retention::{
    Approval, DisposalAction, HoldRef, HoldScope, QueueBucket, QueueEntry, ReviewDecision,
    ReviewOutcome, SweepItem, review, sweep,
};
use custodian_core::text::{Note, ShortText};
use custodian_store::{
    DisposalReviewRecord, RecordingIdRow, RegisterTx, StaffIdRow, StoredDisposal,
};
use custodian_vault::certificate::Certificate;
use serde::Serialize;
use time::{Date, Duration, OffsetDateTime};
use uuid::Uuid;

use crate::access::Target;
use crate::accounts::Caller;
use crate::audit_trail::Audit;
use crate::retention::{
    DisposalView, disposal_view, gather_facts, holds_over, name_the_rule, recalculate,
    schedule_in_force, standing_holds,
};
use crate::{AppError, AppResult, Custodian};

/// One recording in the queue.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QueuedDisposal {
    pub recording_id: RecordingId,
    /// `photograph`, `audio` or `video`, and when it was made: to say which recording it is.
    pub recording_kind: String,
    #[serde(with = "time::serde::rfc3339")]
    pub made_at: OffsetDateTime,
    /// `due_now`, `within_30_days`, `within_60_days`, `within_90_days`, `later`, `waiting` or `held`.
    pub bucket: String,
    pub due_on: Option<Date>,
    pub action: String,
    pub rule: Option<String>,
    pub reason: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub held_by: Vec<HoldRef>,
    /// Whether a records manager has approved it and it waits to be carried out.
    pub approved: bool,
}

/// The disposal queue: due now, due within the days asked, held, and waiting for a trigger.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DisposalQueue {
    /// Today, as the queue was worked out (UTC).
    pub today: Date,
    pub within_days: u32,
    pub due_now: Vec<QueuedDisposal>,
    pub due_within: Vec<QueuedDisposal>,
    /// Due (now or within the days asked) or waiting, but under a legal hold (D7).
    pub held: Vec<QueuedDisposal>,
    pub waiting: Vec<QueuedDisposal>,
}

/// A review as asked for.
#[derive(Clone, Debug)]
pub enum ReviewRequest {
    Approve,
    Extend { until: Date, reason: Note },
}

/// A review as recorded, with the recording's state after it.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReviewedDisposal {
    pub review_id: Uuid,
    pub recording_id: RecordingId,
    /// `approved` or `extended`.
    pub outcome: String,
    /// What the approval allows (`destroy`, `transfer_to_archive`, `hand_over`).
    pub action: String,
    pub extended_until: Option<Date>,
    pub disposal: DisposalView,
}

/// The policy that lets records managers review disposals, and who holds it.
const RULE: &str = "D4.records-manager-retention";
const HOLDERS: &str = "records managers";

/// The windows the queue may be asked for.
pub const QUEUE_WINDOWS: [u32; 3] = [30, 60, 90];

impl Custodian {
    /// The disposal queue (D2): recordings due now, due within `within_days` (30, 60 or 90),
    /// held, and waiting. Read from the stored states: a query, not a recalculation.
    pub async fn disposal_queue(
        &self,
        caller: &Caller,
        within_days: u32,
    ) -> AppResult<DisposalQueue> {
        self.authorize(caller, Action::ReviewDisposal, Target::Organisation)
            .await
            .map_err(|e| name_the_rule(e, &[RULE], HOLDERS, "review disposals"))?;
        if !QUEUE_WINDOWS.contains(&within_days) {
            return Err(AppError::Invalid(
                custodian_core::DomainError::UnknownValue {
                    what: "queue window",
                    input: within_days.to_string(),
                    known: "30, 60, 90".to_owned(),
                },
            ));
        }
        let today = utc_day(self.clock.now());
        let due_by = today.saturating_add(Duration::days(i64::from(within_days)));
        let mut tx = self.register.read().await?;
        let mut queue = DisposalQueue {
            today,
            within_days,
            due_now: Vec::new(),
            due_within: Vec::new(),
            held: Vec::new(),
            waiting: Vec::new(),
        };
        let rows = tx.disposals(Some(due_by)).await?;
        let waiting = tx.disposals(None).await?;
        for row in rows.into_iter().chain(waiting) {
            let Some(recording) = tx.recording(row.recording_id.0).await? else {
                continue;
            };
            let entry = queued(&mut tx, &recording, row, today).await?;
            match entry.bucket.as_str() {
                "held" => queue.held.push(entry),
                "waiting" => queue.waiting.push(entry),
                "due_now" => queue.due_now.push(entry),
                _ => queue.due_within.push(entry),
            }
        }
        tx.rollback().await?;
        Ok(queue)
    }

    /// One recording's place in the disposal queue, for its review page. Records managers only.
    pub async fn queued_disposal(
        &self,
        caller: &Caller,
        id: RecordingId,
    ) -> AppResult<QueuedDisposal> {
        self.authorize(caller, Action::ReviewDisposal, Target::Organisation)
            .await
            .map_err(|e| name_the_rule(e, &[RULE], HOLDERS, "review disposals"))?;
        let today = utc_day(self.clock.now());
        let mut tx = self.register.read().await?;
        let recording = live_recording(&mut tx, id).await?;
        let row = tx
            .disposal(id)
            .await?
            .ok_or_else(|| AppError::not_found("disposal state of recording", id))?;
        let entry = queued(&mut tx, &recording, row, today).await?;
        tx.rollback().await?;
        Ok(entry)
    }

    /// Reviews a recording that came due (D2): approve it for its action, or extend it to a
    /// later date with a reason. Approval is refused while held (D7), before the date, or
    /// while waiting for a trigger. Records managers only.
    #[tracing::instrument(skip(self, caller, request), fields(staff = %caller.member.id))]
    pub async fn review_disposal(
        &self,
        caller: &Caller,
        id: RecordingId,
        request: ReviewRequest,
    ) -> AppResult<ReviewedDisposal> {
        self.authorize(caller, Action::ReviewDisposal, Target::Organisation)
            .await
            .map_err(|e| name_the_rule(e, &[RULE], HOLDERS, "review disposals"))?;
        let now = self.clock.now();
        let mut tx = self.register.write().await?;
        let recording = live_recording(&mut tx, id).await?;
        let entry = current_entry(&mut tx, &recording, now).await?;
        let outcome = match request {
            ReviewRequest::Approve => ReviewOutcome::Approve,
            ReviewRequest::Extend { until, reason } => ReviewOutcome::Extend { until, reason },
        };
        let decision = review(&entry, outcome, caller.member.id, now)?;
        let record = match &decision {
            ReviewDecision::Approved(approval) => DisposalReviewRecord {
                id: Uuid::now_v7(),
                recording_id: RecordingIdRow(id),
                outcome: "approved".to_owned(),
                action: approval.action.as_str().to_owned(),
                reason: approval.reason.clone(),
                extended_until: None,
                reviewed_by: StaffIdRow(caller.member.id),
                reviewed_at: now,
                carried_out_at: None,
            },
            ReviewDecision::Extended(extension) => DisposalReviewRecord {
                id: Uuid::now_v7(),
                recording_id: RecordingIdRow(id),
                outcome: "extended".to_owned(),
                action: DisposalAction::Review.as_str().to_owned(),
                reason: extension.reason.as_str().to_owned(),
                extended_until: Some(extension.until),
                reviewed_by: StaffIdRow(caller.member.id),
                reviewed_at: now,
                carried_out_at: None,
            },
        };
        tx.insert_disposal_review(&record).await?;
        let schedule = schedule_in_force(&mut tx).await?;
        recalculate(&mut tx, &schedule, &recording, now).await?;
        Audit::change(if record.outcome == "approved" {
            "disposal.approved"
        } else {
            "disposal.extended"
        })
        .recording(id)
        .detail(serde_json::json!({
            "review_id": record.id, "action": record.action, "reason": record.reason,
            "extended_until": record.extended_until, "was_due_on": entry.state.due_on,
        }))
        .write(&mut tx, caller.actor(), now)
        .await?;
        let disposal = disposal_view(&mut tx, &recording)
            .await?
            .ok_or_else(|| AppError::Internal("a reviewed recording has no state".to_owned()))?;
        tx.commit().await?;
        Ok(ReviewedDisposal {
            review_id: record.id,
            recording_id: id,
            outcome: record.outcome,
            action: record.action,
            extended_until: record.extended_until,
            disposal,
        })
    }

    /// Carries out an approved disposal (D9): only an approval not yet carried out, made into a
    /// warrant with the legal holds as they stand now (a hold placed after the approval still
    /// stops it, D7); destroys through the vault, leaving the register's stub and a signed
    /// certificate. Records managers only.
    #[tracing::instrument(skip(self, caller), fields(staff = %caller.member.id))]
    pub async fn carry_out_disposal(
        &self,
        caller: &Caller,
        id: RecordingId,
    ) -> AppResult<Certificate> {
        self.authorize(caller, Action::ReviewDisposal, Target::Organisation)
            .await
            .map_err(|e| name_the_rule(e, &[RULE], HOLDERS, "review disposals"))?;
        let now = self.clock.now();
        let mut tx = self.register.write().await?;
        let recording = live_recording(&mut tx, id).await?;
        let reviews = tx.disposal_reviews(id).await?;
        let Some(approved) = reviews
            .iter()
            .rev()
            .find(|r| r.carried_out_at.is_none())
            .filter(|r| r.outcome == "approved")
        else {
            return Err(AppError::Conflict {
                code: "disposal.not_approved",
                message: "no approval of this recording's disposal waits to be carried out; a records manager must review it first (D2)".to_owned(),
            });
        };
        let scope = HoldScope::of(&recording);
        let holds = standing_holds(&mut tx, &scope).await?;
        let approval = Approval {
            scope,
            action: DisposalAction::parse(&approved.action)
                .map_err(|e| AppError::Internal(format!("a stored approval's action: {e}")))?,
            by: approved.reviewed_by.0,
            at: approved.reviewed_at,
            reason: approved.reason.clone(),
        };
        let warrant = approval
            .authorise(&holds)
            .map_err(|held| AppError::Conflict {
                code: "recording.under_legal_hold",
                message: format!("{held} (D7)"),
            })?;
        if warrant.approval().action != DisposalAction::Destroy {
            return Err(AppError::Conflict {
                code: "disposal.not_a_destruction",
                message: format!(
                    "the approved action is to {}, which is done by hand, not by Custodian; record it, then destroy the recording",
                    warrant.approval().action.label()
                ),
            });
        }
        if !tx.carry_out_review(approved.id, now).await? {
            return Err(AppError::Conflict {
                code: "disposal.already_carried_out",
                message: "this approval was carried out a moment ago".to_owned(),
            });
        }
        let state = tx.disposal(id).await?;
        let rule = ShortText::parse(
            "rule",
            state
                .as_ref()
                .and_then(|s| s.governing_rule.as_deref())
                .unwrap_or("D2"),
        )?;
        let reason = Note::parse("reason", &warrant.approval().reason)?;
        let destroyed = self
            .destroy_in(&mut tx, caller, &recording, &reason, &rule, now)
            .await?;
        Audit::change("disposal.carried_out")
            .recording(id)
            .detail(serde_json::json!({ "review_id": approved.id, "rule": rule }))
            .write(&mut tx, caller.actor(), now)
            .await?;
        tx.commit().await?;
        Ok(self.after_destruction(destroyed).await)
    }
}

/// A recording that exists and is not destroyed.
async fn live_recording(tx: &mut RegisterTx, id: RecordingId) -> AppResult<Recording> {
    let recording = tx
        .recording(id)
        .await?
        .ok_or_else(|| AppError::not_found("recording", id))?;
    if tx.destruction(id).await?.is_some() {
        return Err(AppError::Gone {
            code: "recording.destroyed",
            message: "this recording was already destroyed".to_owned(),
        });
    }
    Ok(recording)
}

/// The recording's queue entry as things stand now: its state worked out afresh and the holds.
async fn current_entry(
    tx: &mut RegisterTx,
    recording: &Recording,
    now: OffsetDateTime,
) -> AppResult<QueueEntry> {
    let schedule = schedule_in_force(tx).await?;
    let stored = tx.recording_retention(recording.id).await?;
    let scope = HoldScope::of(recording);
    let holds = standing_holds(tx, &scope).await?;
    let item = SweepItem {
        scope,
        facts: gather_facts(tx, recording, &stored).await?,
    };
    sweep(&schedule, &[item], &holds, None, now)?
        .entries
        .pop()
        .ok_or_else(|| AppError::Internal("no disposal state could be worked out".to_owned()))
}

async fn queued(
    tx: &mut RegisterTx,
    recording: &Recording,
    row: StoredDisposal,
    today: Date,
) -> AppResult<QueuedDisposal> {
    let held_by = holds_over(tx, recording).await?;
    let bucket = if held_by.is_empty() {
        QueueBucket::of(row.due_on, today)
    } else {
        QueueBucket::Held
    };
    let approved = tx
        .disposal_reviews(recording.id)
        .await?
        .last()
        .is_some_and(|r| r.outcome == "approved" && r.carried_out_at.is_none());
    Ok(QueuedDisposal {
        recording_id: recording.id,
        recording_kind: recording.kind.as_str().to_owned(),
        made_at: recording.made_at,
        bucket: bucket.as_str().to_owned(),
        due_on: row.due_on,
        action: row.action,
        rule: row.governing_rule,
        reason: row.reason,
        held_by,
        approved,
    })
}
