//! Destroying a recording's media and key, with a signed certificate (D9).

use custodian_core::ids::RecordingId;
use custodian_core::text::{Note, ShortText};
use custodian_vault::certificate::{Certificate, Destruction};

use crate::accounts::Caller;
use crate::audit_trail::Audit;
use crate::{AppError, AppResult, Custodian};

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
        self.recording_for(
            caller,
            custodian_access::Action::DestroyRecording,
            recording,
        )
        .await?;
        let vault = self.vault();
        let now = self.clock.now();
        let mut tx = self.register.write().await?;
        tx.recording(recording)
            .await?
            .ok_or_else(|| AppError::not_found("recording", recording))?;
        let media = tx
            .media(recording)
            .await?
            .ok_or_else(|| AppError::not_found("media of recording", recording))?;
        if tx.destruction(recording).await?.is_some() || media.wrapped_key.is_none() {
            return Err(AppError::Gone {
                code: "recording.destroyed",
                message: "this recording was already destroyed".to_owned(),
            });
        }
        let holds = self.legal_holds.holds(&mut tx, recording).await?;
        if !holds.is_empty() {
            return Err(AppError::Conflict {
                code: "recording.under_legal_hold",
                message: format!(
                    "the recording is under legal hold ({}) and cannot be destroyed (D7); the hold must be lifted first",
                    holds.join("; ")
                ),
            });
        }
        tx.destroy_key(recording).await?;
        let certificate = vault
            .signer
            .sign(Destruction {
                format: String::new(),
                recording_id: recording.to_string(),
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
            recording_id: recording,
            destroyed_at: now,
            destroyed_by: caller.member.id,
            reason: reason.as_str().to_owned(),
            rule: rule.as_str().to_owned(),
            certificate: certificate_json,
        })
        .await?;
        Audit::change("recording.destroyed")
            .recording(recording)
            .detail(serde_json::json!({ "rule": rule, "reason": reason, "sha256": hex::encode(media.sha256) }))
            .write(&mut tx, caller.actor(), now)
            .await?;
        tx.commit().await?;
        if let Err(error) = vault.storage.delete(&media.object_key).await {
            tracing::warn!(%error, "the destroyed recording's object could not be deleted; it is unreadable, and `vault verify --remove` will delete it");
        }
        if let Err(error) = self.register.scrub().await {
            tracing::warn!(%error, "could not scrub the register after a destruction");
        }
        Ok(certificate)
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
