//! Registering physical media (tapes, discs, USB sticks, prints) and recording their destruction (D9), never while a hold stands over what they hold (D7).

use custodian_access::Action;
use custodian_core::ids::{PhysicalMediumId, RecordingId};
use custodian_core::retention::{
    DestructionForm, DestructionMethod, HoldScope, MediumForm, MediumKind, PhysicalMedium,
};
use custodian_store::RegisterTx;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::access::Target;
use crate::accounts::Caller;
use crate::audit_trail::Audit;
use crate::error_code::ErrorCode;
use crate::retention::name_the_rule;
use crate::{AppError, AppResult, Custodian};

/// A medium as asked for.
#[derive(Clone, Debug)]
pub struct MediumRequest {
    pub kind: MediumKind,
    pub description: Option<String>,
    pub label: String,
    pub location: String,
    pub recordings: Vec<RecordingId>,
    /// When it was registered; now if not given.
    pub registered_at: Option<OffsetDateTime>,
}

/// A destruction as asked for.
#[derive(Clone, Debug)]
pub struct MediumDestructionRequest {
    pub method: DestructionMethod,
    /// Who destroyed it, by name; the caller's name if not given.
    pub carried_out_by: Option<String>,
    pub witness: Option<String>,
    /// When it was destroyed; now if not given.
    pub at: Option<OffsetDateTime>,
    pub certificate: Option<String>,
}

impl Custodian {
    /// Registers a physical medium and the recordings on it (D9), so every copy outside the
    /// vault is known (H3) and its destruction can be recorded.
    #[tracing::instrument(skip(self, caller, request), fields(staff = %caller.member.id))]
    pub async fn register_physical_medium(
        &self,
        caller: &Caller,
        request: MediumRequest,
    ) -> AppResult<PhysicalMedium> {
        self.authorize(caller, Action::RegisterPhysicalMedia, Target::Organisation)
            .await
            .map_err(|e| {
                name_the_rule(
                    e,
                    &[
                        "D9.records-manager-physical-media",
                        "D9.administrator-physical-media",
                    ],
                    "records managers and administrators",
                    "register a physical medium",
                )
            })?;
        let now = self.clock.now();
        let medium = PhysicalMedium::register(
            PhysicalMediumId::from_uuid(Uuid::now_v7()),
            MediumForm {
                kind: request.kind,
                description: request.description,
                label: request.label,
                location: request.location,
                recordings: request.recordings,
                registered_by: caller.member.id,
                registered_at: request.registered_at.unwrap_or(now),
            },
            now,
        )?;
        let mut tx = self.register.write().await?;
        for recording in &medium.recordings {
            tx.recording(*recording)
                .await?
                .ok_or_else(|| AppError::not_found("recording", recording))?;
        }
        tx.insert_physical_medium(&medium).await?;
        let detail = serde_json::json!({
            "medium_id": medium.id, "kind": medium.kind, "label": medium.label,
            "location": medium.location, "recordings": medium.recordings,
        });
        audit_each(
            &mut tx,
            &medium,
            "physical_medium.registered",
            &detail,
            caller,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(medium)
    }

    /// Every physical medium, those not yet destroyed first.
    pub async fn physical_media(&self, caller: &Caller) -> AppResult<Vec<PhysicalMedium>> {
        self.authorize(caller, Action::ViewRetention, Target::Organisation)
            .await?;
        let mut tx = self.register.read().await?;
        let media = tx.physical_media(None).await?;
        tx.rollback().await?;
        Ok(media)
    }

    /// The physical media a recording is on: part of the recording's record, for whoever may
    /// see the recording.
    pub async fn physical_media_of(
        &self,
        caller: &Caller,
        recording: RecordingId,
    ) -> AppResult<Vec<PhysicalMedium>> {
        self.recording_for(caller, Action::ViewRecording, recording)
            .await?;
        let mut tx = self.register.read().await?;
        let media = tx.physical_media(Some(recording)).await?;
        tx.rollback().await?;
        Ok(media)
    }

    /// Records a medium's destruction (D9): how, by whom, who saw it, the certificate. Refused
    /// while a legal hold stands over any recording on it (D7), checked in the transaction
    /// that records it, so a hold placed a moment before still stops it.
    #[tracing::instrument(skip(self, caller, request), fields(staff = %caller.member.id))]
    pub async fn record_medium_destruction(
        &self,
        caller: &Caller,
        id: PhysicalMediumId,
        request: MediumDestructionRequest,
    ) -> AppResult<PhysicalMedium> {
        self.authorize(caller, Action::DestroyPhysicalMedia, Target::Organisation)
            .await
            .map_err(|e| {
                name_the_rule(
                    e,
                    &["D9.records-manager-physical-media"],
                    "records managers",
                    "record the destruction of a physical medium",
                )
            })?;
        let now = self.clock.now();
        let mut tx = self.register.write().await?;
        let medium = tx
            .physical_medium(id)
            .await?
            .ok_or_else(|| AppError::not_found("physical medium", id))?;
        let mut scopes = Vec::with_capacity(medium.recordings.len());
        for recording in &medium.recordings {
            if let Some(found) = tx.recording(*recording).await? {
                scopes.push(HoldScope::of(&found));
            }
        }
        let mut holds = Vec::new();
        for scope in &scopes {
            holds.extend(crate::retention::standing_holds(&mut tx, scope).await?);
        }
        holds.sort_by_key(|h| h.id);
        holds.dedup_by_key(|h| h.id);
        let destroyed = medium.destroy(
            DestructionForm {
                method: request.method,
                carried_out_by: request
                    .carried_out_by
                    .filter(|name| !name.trim().is_empty())
                    .unwrap_or_else(|| caller.member.display_name.to_string()),
                witness: request.witness,
                at: request.at.unwrap_or(now),
                certificate: request.certificate,
                recorded_by: caller.member.id,
            },
            &scopes,
            &holds,
            now,
        )?;
        let Some(done) = &destroyed.destruction else {
            return Err(AppError::Internal(
                "a destroyed medium has no destruction".to_owned(),
            ));
        };
        if !tx.record_medium_destruction(id, done).await? {
            return Err(AppError::Rule {
                code: ErrorCode::PhysicalMediaAlreadyDestroyed,
                message: "this medium's destruction was recorded by someone else a moment ago"
                    .to_owned(),
            });
        }
        let detail = serde_json::json!({
            "medium_id": id, "kind": destroyed.kind, "label": destroyed.label,
            "destruction": done,
        });
        audit_each(
            &mut tx,
            &destroyed,
            "physical_medium.destroyed",
            &detail,
            caller,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(destroyed)
    }
}

/// Writes the event into the history of each recording on the medium, so a recording's history
/// shows every copy made of it and its end; a medium holding no registered recording is
/// audited on its own.
async fn audit_each(
    tx: &mut RegisterTx,
    medium: &PhysicalMedium,
    action: &str,
    detail: &serde_json::Value,
    caller: &Caller,
    now: OffsetDateTime,
) -> AppResult<()> {
    if medium.recordings.is_empty() {
        Audit::change(action)
            .detail(detail.clone())
            .write(tx, caller.actor(), now)
            .await?;
    }
    for recording in &medium.recordings {
        Audit::change(action)
            .recording(*recording)
            .detail(detail.clone())
            .write(tx, caller.actor(), now)
            .await?;
    }
    Ok(())
}
