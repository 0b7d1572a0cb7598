//! Looking after the vault: verification, emergency key export, key rotation.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use custodian_core::audit::Actor;
use custodian_core::ids::RecordingId;
use custodian_store::RegisterTx;

use super::{MediaInfo, VaultReport};
use crate::audit_trail::Audit;
use crate::error_code::ErrorCode;
use crate::{AppError, AppResult, Custodian};

/// How long an object the register does not know is left alone before it is taken for an
/// orphan: a finishing upload registers its object within seconds of storing it.
pub const ORPHANS_KEPT_FOR: time::Duration = time::Duration::minutes(10);

impl Custodian {
    /// Checks every registered object against storage and its registered hash, and finds objects
    /// the register does not know. With `remove`, deletes orphaned and leftover objects.
    #[tracing::instrument(skip(self))]
    pub async fn verify_vault(&self, remove: bool) -> AppResult<VaultReport> {
        let vault = self.vault();
        let mut stored: HashMap<String, u64> = vault
            .storage
            .list()
            .await
            .map_err(AppError::Vault)?
            .into_iter()
            .map(|object| (object.key, object.size))
            .collect();
        let mut report = VaultReport::default();
        let mut tx = self.register.read().await?;
        let mut after = None;
        loop {
            let page = tx.media_after(after, 200).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.recording_id);
            for media in page {
                let present = stored.remove(&media.object_key).is_some();
                let Some(wrapped) = media.wrapped_key.as_deref() else {
                    if present {
                        report.leftover.push(media.object_key.clone());
                    }
                    continue;
                };
                if !present {
                    report.missing.push(media.recording_id);
                    continue;
                }
                let key = vault.unwrap(wrapped)?;
                let storage = Arc::clone(&vault.storage);
                let object_key = media.object_key.clone();
                let found = tokio::task::spawn_blocking(move || {
                    custodian_vault::read::fingerprint(storage.as_ref(), &object_key, &key)
                })
                .await
                .map_err(|e| AppError::Internal(e.to_string()))?;
                report.checked += 1;
                match found {
                    Ok((sha256, size)) if sha256 == media.sha256 && size == media.size => {}
                    Ok(_) => report.corrupted.push((
                        media.recording_id,
                        "the content does not match its registered hash".to_owned(),
                    )),
                    Err(error) => report
                        .corrupted
                        .push((media.recording_id, error.to_string())),
                }
            }
        }
        tx.rollback().await?;
        report.orphaned = stored.into_keys().collect();
        report.orphaned.sort();
        if remove {
            for key in report.orphaned.iter().chain(&report.leftover) {
                vault.storage.delete(key).await.map_err(AppError::Vault)?;
                report.removed += 1;
            }
        }
        Ok(report)
    }

    /// Deletes objects the register does not know that were written more than
    /// [`ORPHANS_KEPT_FOR`] ago: what an upload left when its server stopped between storing the
    /// object and registering it. Younger ones may be a finishing upload's on another server, so
    /// they wait for the next sweep. Returns the keys deleted; audited when there are any.
    #[tracing::instrument(skip(self))]
    pub async fn remove_orphans(&self) -> AppResult<Vec<String>> {
        let vault = self.vault();
        let cutoff = self.clock.now() - ORPHANS_KEPT_FOR;
        let mut candidates: HashSet<String> = vault
            .storage
            .list()
            .await
            .map_err(AppError::Vault)?
            .into_iter()
            .filter(|object| {
                object
                    .modified
                    .is_some_and(|modified| time::OffsetDateTime::from(modified) < cutoff)
            })
            .map(|object| object.key)
            .collect();
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        {
            let mut tx = self.register.read().await?;
            let mut after = None;
            loop {
                let page = tx.media_after(after, 500).await?;
                let Some(last) = page.last() else { break };
                after = Some(last.recording_id);
                for media in page {
                    candidates.remove(&media.object_key);
                }
            }
            tx.rollback().await?;
        }
        let mut removed: Vec<String> = candidates.into_iter().collect();
        removed.sort();
        if removed.is_empty() {
            return Ok(removed);
        }
        for key in &removed {
            vault.storage.delete(key).await.map_err(AppError::Vault)?;
        }
        tracing::warn!(
            count = removed.len(),
            "removed objects no recording owns (left by interrupted uploads)"
        );
        let mut tx = self.register.write().await?;
        Audit::change("vault.orphans_removed")
            .detail(serde_json::json!({ "objects": removed }))
            .write(&mut tx, Actor::System, self.clock.now())
            .await?;
        tx.commit().await?;
        Ok(removed)
    }

    /// A recording's content key as an age identity file, for emergency recovery with the `age`
    /// tool. Audited; for the command line only.
    pub async fn export_content_key(&self, recording: RecordingId) -> AppResult<String> {
        let media = {
            let mut tx = self.register.read().await?;
            tx.media(recording)
                .await?
                .ok_or_else(|| AppError::not_found("media of recording", recording))?
        };
        let wrapped = media.wrapped_key.ok_or_else(|| AppError::Rule {
            code: ErrorCode::RecordingDestroyed,
            message: "this recording was destroyed: its key no longer exists anywhere".to_owned(),
        })?;
        let key = self.vault().unwrap(&wrapped)?;
        let mut tx = self.register.write().await?;
        Audit::change("vault.key_exported")
            .recording(recording)
            .write(&mut tx, Actor::System, self.clock.now())
            .await?;
        tx.commit().await?;
        Ok(key.export())
    }

    /// Rewraps every content key with a new key-encryption key; see [`crate::vault::Vault::rotate`].
    pub async fn rotate_key_encryption_key(&self) -> AppResult<u64> {
        let count = self.vault().rotate(&self.register).await?;
        let mut tx = self.register.write().await?;
        Audit::change("vault.key_encryption_key_rotated")
            .detail(serde_json::json!({ "content_keys_rewrapped": count }))
            .write(&mut tx, Actor::System, self.clock.now())
            .await?;
        tx.commit().await?;
        Ok(count)
    }

    /// A recording's media facts, if it has media.
    pub(crate) async fn media_info(
        &self,
        tx: &mut RegisterTx,
        recording: RecordingId,
    ) -> AppResult<Option<MediaInfo>> {
        Ok(tx.media(recording).await?.as_ref().map(MediaInfo::from))
    }
}
