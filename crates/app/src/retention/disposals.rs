//! Reviewing what the disposal queue shows (D2, D9): approve it, or extend it with a reason and
//! a later date, and destroy what was approved, with a warrant that re-checks the legal holds
//! at that moment (D7).

use custodian_access::Action;
use custodian_core::ids::RecordingId;
use custodian_core::recording::Recording;
use custodian_core::retention::{
    Approval, DisposalAction, HoldScope, QueueEntry, ReviewDecision, ReviewOutcome, SweepItem,
    review, sweep,
};
use custodian_core::text::{Note, ShortText};
use custodian_store::{DisposalReviewRecord, RecordingIdRow, RegisterTx, StaffIdRow};
use custodian_vault::certificate::Certificate;
use serde::Serialize;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::access::Target;
use crate::accounts::Caller;
use crate::audit_trail::Audit;
use crate::error_code::ErrorCode;
use crate::retention::{
    DisposalView, disposal_view, gather_facts, name_the_rule, recalculate, schedule_in_force,
    standing_holds,
};
use crate::{AppError, AppResult, Custodian};

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
pub(super) const RULE: &str = "D4.records-manager-retention";
pub(super) const HOLDERS: &str = "records managers";

impl Custodian {
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
            return Err(AppError::Rule {
                code: ErrorCode::DisposalNotApproved,
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
        let warrant = approval.authorise(&holds).map_err(|held| AppError::Rule {
            code: ErrorCode::UnderLegalHold,
            message: format!("{held} (D7)"),
        })?;
        if warrant.approval().action != DisposalAction::Destroy {
            return Err(AppError::Rule {
                code: ErrorCode::DisposalNotADestruction,
                message: format!(
                    "the approved action is to {}, which is done by hand, not by Custodian; record it, then destroy the recording",
                    warrant.approval().action.label()
                ),
            });
        }
        if !tx.carry_out_review(approved.id, now).await? {
            return Err(AppError::Rule {
                code: ErrorCode::DisposalAlreadyCarriedOut,
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
pub(super) async fn live_recording(tx: &mut RegisterTx, id: RecordingId) -> AppResult<Recording> {
    let recording = tx
        .recording(id)
        .await?
        .ok_or_else(|| AppError::not_found("recording", id))?;
    if tx.destruction(id).await?.is_some() {
        return Err(AppError::Rule {
            code: ErrorCode::RecordingDestroyed,
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
