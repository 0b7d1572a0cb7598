//! Placing, listing and lifting legal holds (D7). A hold needs a matter; lifting needs the
//! records manager and a reason, and is audited.

use custodian_access::Action;
use custodian_core::ids::{LegalHoldId, PersonId, RecordingId};
use custodian_core::retention::{HoldForm, LegalHold, MatterKind};
use custodian_core::text::Note;
use custodian_store::RegisterTx;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::access::Target;
use crate::accounts::Caller;
use crate::audit_trail::Audit;
use crate::error_code::ErrorCode;
use crate::retention::name_the_rule;
use crate::{AppError, AppResult, Custodian};

/// The policies that let staff place and see holds, and who holds them.
const HOLD_POLICIES: &[&str] = &[
    "D4.records-manager-retention",
    "D7.information-governance-holds",
];
const HOLD_HOLDERS: &str = "records managers and information-governance leads";

/// A hold as asked for: the matter and what it covers.
#[derive(Clone, Debug)]
pub struct HoldRequest {
    pub kind: MatterKind,
    /// The matter's reference (a claim number, a complaint, a police reference): required.
    pub reference: String,
    pub recordings: Vec<RecordingId>,
    pub persons: Vec<PersonId>,
    /// When the hold took effect; now if not given.
    pub placed_at: Option<OffsetDateTime>,
}

impl Custodian {
    /// Places a legal hold (D7): from now on nothing it covers — the recordings, everything the
    /// people are in, and copies derived from them — is destroyed by any path until it is lifted.
    #[tracing::instrument(skip(self, caller, request), fields(staff = %caller.member.id))]
    pub async fn place_legal_hold(
        &self,
        caller: &Caller,
        request: HoldRequest,
    ) -> AppResult<LegalHold> {
        self.authorize(caller, Action::PlaceLegalHold, Target::Organisation)
            .await
            .map_err(|e| name_the_rule(e, HOLD_POLICIES, HOLD_HOLDERS, "place a legal hold"))?;
        let now = self.clock.now();
        let hold = LegalHold::new(
            LegalHoldId::from_uuid(Uuid::now_v7()),
            HoldForm {
                kind: request.kind,
                reference: request.reference,
                recordings: request.recordings,
                persons: request.persons,
                placed_by: caller.member.id,
                placed_at: request.placed_at.unwrap_or(now),
            },
            now,
        )?;
        let mut tx = self.register.write().await?;
        for recording in &hold.recordings {
            tx.recording(*recording)
                .await?
                .ok_or_else(|| AppError::not_found("recording", recording))?;
        }
        for person in &hold.persons {
            tx.person(*person)
                .await?
                .ok_or_else(|| AppError::not_found("person", person))?;
        }
        tx.insert_hold(&hold).await?;
        let detail = serde_json::json!({
            "hold_id": hold.id, "matter": hold.matter,
            "recordings": hold.recordings, "persons": hold.persons,
        });
        audit_each(&mut tx, &hold, "legal_hold.placed", &detail, caller, now).await?;
        tx.commit().await?;
        Ok(hold)
    }

    /// Every legal hold, standing ones first.
    pub async fn legal_holds(&self, caller: &Caller) -> AppResult<Vec<LegalHold>> {
        self.authorize(caller, Action::ViewLegalHolds, Target::Organisation)
            .await
            .map_err(|e| name_the_rule(e, HOLD_POLICIES, HOLD_HOLDERS, "see legal holds"))?;
        let mut tx = self.register.read().await?;
        let holds = tx.holds().await?;
        tx.rollback().await?;
        Ok(holds)
    }

    /// Lifts a legal hold with a reason (D7): records managers only, audited with the reason.
    /// Disposal that was waiting on it can then go ahead, through the queue.
    #[tracing::instrument(skip(self, caller, reason), fields(staff = %caller.member.id))]
    pub async fn lift_legal_hold(
        &self,
        caller: &Caller,
        hold: LegalHoldId,
        reason: Note,
    ) -> AppResult<LegalHold> {
        self.authorize(caller, Action::LiftLegalHold, Target::Organisation)
            .await
            .map_err(|e| {
                name_the_rule(
                    e,
                    &["D4.records-manager-retention"],
                    "records managers",
                    "lift a legal hold",
                )
            })?;
        let now = self.clock.now();
        let mut tx = self.register.write().await?;
        let standing = tx
            .hold(hold)
            .await?
            .ok_or_else(|| AppError::not_found("legal hold", hold))?;
        let lifted = standing.lift(caller.member.id, reason, now, now)?;
        let Some(how) = &lifted.lifted else {
            return Err(AppError::Internal(
                "a lifted hold has no lifting".to_owned(),
            ));
        };
        if !tx.lift_hold(hold, how).await? {
            return Err(AppError::Rule {
                code: ErrorCode::HoldAlreadyLifted,
                message: "the hold was lifted by someone else a moment ago".to_owned(),
            });
        }
        let detail = serde_json::json!({
            "hold_id": hold, "matter": lifted.matter, "reason": how.reason,
        });
        audit_each(&mut tx, &lifted, "legal_hold.lifted", &detail, caller, now).await?;
        tx.commit().await?;
        Ok(lifted)
    }
}

/// Writes a hold's event into the history of each recording and person it covers, so each
/// one's history shows when it was held and released.
async fn audit_each(
    tx: &mut RegisterTx,
    hold: &LegalHold,
    action: &str,
    detail: &serde_json::Value,
    caller: &Caller,
    now: OffsetDateTime,
) -> AppResult<()> {
    for recording in &hold.recordings {
        Audit::change(action)
            .recording(*recording)
            .detail(detail.clone())
            .write(tx, caller.actor(), now)
            .await?;
    }
    for person in &hold.persons {
        Audit::change(action)
            .person(*person)
            .detail(detail.clone())
            .write(tx, caller.actor(), now)
            .await?;
    }
    Ok(())
}
