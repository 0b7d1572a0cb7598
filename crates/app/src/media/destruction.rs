//! Destroying a recording's media and key, with a signed certificate (D9).

use custodian_core::ids::RecordingId;
use custodian_core::recording::Recording;
use custodian_core::text::{Note, ShortText};
use custodian_store::RegisterTx;
use custodian_vault::certificate::{Certificate, Destruction};
use time::OffsetDateTime;

use crate::accounts::Caller;
use crate::audit_trail::Audit;
use crate::error_code::ErrorCode;
use crate::uses::{GrantsResting, revoke_grants};
use crate::{AppError, AppResult, Custodian};

/// A destruction committed in the register, whose object is still to be deleted.
pub(crate) struct Destroyed {
    pub certificate: Certificate,
    object_key: String,
}

impl Custodian {
    /// Destroys a recording's media (D9, X2): its content key is destroyed — so every copy of the
    /// ciphertext, backups included, is unreadable — its object deleted, and a signed certificate
    /// kept. Refused while any legal hold stands (D7). Records managers only, by the access policies.
    #[tracing::instrument(skip(self, caller, reason, rule), fields(staff = %caller.member.id))]
    pub async fn destroy_recording(
        &self,
        caller: &Caller,
        recording: RecordingId,
        reason: Note,
        rule: ShortText,
    ) -> AppResult<Certificate> {
        let found = self
            .recording_for(
                caller,
                custodian_access::Action::DestroyRecording,
                recording,
            )
            .await?;
        let now = self.clock.now();
        let mut tx = self.register.write().await?;
        let destroyed = self
            .destroy_in(&mut tx, caller, &found, &reason, &rule, now)
            .await?;
        tx.commit().await?;
        Ok(self.after_destruction(destroyed).await)
    }

    /// Destroys a recording's key in `tx` and signs its certificate, refusing while any legal
    /// hold stands over it, its sources or anyone in it (D7). Every path that destroys comes
    /// through here, so none can pass a hold.
    pub(crate) async fn destroy_in(
        &self,
        tx: &mut RegisterTx,
        caller: &Caller,
        recording: &Recording,
        reason: &Note,
        rule: &ShortText,
        now: OffsetDateTime,
    ) -> AppResult<Destroyed> {
        let id = recording.id;
        let vault = self.vault();
        let media = tx
            .media(id)
            .await?
            .ok_or_else(|| AppError::not_found("media of recording", id))?;
        if tx.destruction(id).await?.is_some() || media.wrapped_key.is_none() {
            return Err(AppError::Rule {
                code: ErrorCode::RecordingDestroyed,
                message: "this recording was already destroyed".to_owned(),
            });
        }
        let held = crate::retention::holds_over(tx, recording).await?;
        if !held.is_empty() {
            let matters: Vec<String> = held
                .iter()
                .map(|h| format!("{} `{}`", h.kind.label(), h.reference))
                .collect();
            return Err(AppError::Rule {
                code: ErrorCode::UnderLegalHold,
                message: format!(
                    "the recording is under legal hold ({}) and cannot be destroyed (D7); each hold must be lifted first",
                    matters.join("; ")
                ),
            });
        }
        tx.destroy_key(id).await?;
        revoke_grants(
            tx,
            GrantsResting::ToUse(id),
            now,
            "the recording was destroyed",
        )
        .await?;
        let certificate = vault
            .signer
            .sign(Destruction {
                format: String::new(),
                recording_id: id.to_string(),
                content_sha256: hex::encode(media.sha256),
                size: media.size,
                content_type: media.content_type.clone(),
                destroyed_at: now
                    .format(&time::format_description::well_known::Rfc3339)
                    .map_err(|e| AppError::Internal(e.to_string()))?,
                destroyed_by: caller.member.display_name.as_str().to_owned(),
                destroyed_by_id: caller.member.id.to_string(),
                reason: reason.as_str().to_owned(),
                rule: rule.as_str().to_owned(),
                content_key_destroyed: true,
                signing_key: String::new(),
            })
            .map_err(AppError::Vault)?;
        let certificate_json =
            serde_json::to_string(&certificate).map_err(|e| AppError::Internal(e.to_string()))?;
        tx.insert_destruction(&custodian_store::DestructionRecord {
            recording_id: id,
            destroyed_at: now,
            destroyed_by: caller.member.id,
            reason: reason.as_str().to_owned(),
            rule: rule.as_str().to_owned(),
            certificate: certificate_json,
        })
        .await?;
        let copies_to_destroy = crate::retention::on_destroyed(tx, id, now).await?;
        Audit::change("recording.destroyed")
            .recording(id)
            .detail(serde_json::json!({
                "rule": rule, "reason": reason, "sha256": hex::encode(media.sha256),
                "copies_to_destroy": copies_to_destroy,
            }))
            .write(tx, caller.actor(), now)
            .await?;
        Ok(Destroyed {
            certificate,
            object_key: media.object_key,
        })
    }

    /// After the destruction is committed: deletes the object and scrubs the register.
    pub(crate) async fn after_destruction(&self, destroyed: Destroyed) -> Certificate {
        if let Err(error) = self.vault().storage.delete(&destroyed.object_key).await {
            tracing::warn!(%error, "the destroyed recording's object could not be deleted; it is unreadable, and `vault verify --remove` will delete it");
        }
        if let Err(error) = self.register.scrub().await {
            tracing::warn!(%error, "could not scrub the register after a destruction");
        }
        destroyed.certificate
    }

    /// A destroyed recording's certificate.
    pub async fn destruction_certificate(
        &self,
        caller: &Caller,
        recording: RecordingId,
    ) -> AppResult<Certificate> {
        self.recording_for(caller, custodian_access::Action::ViewRecording, recording)
            .await?;
        let mut tx = self.register.read().await?;
        let destruction = tx
            .destruction(recording)
            .await?
            .ok_or_else(|| AppError::not_found("destruction of recording", recording))?;
        serde_json::from_str(&destruction.certificate)
            .map_err(|e| AppError::Internal(format!("a stored certificate does not parse: {e}")))
    }
}
