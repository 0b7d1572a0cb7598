//! Uploads: started, resumed, finished into an encrypted object and a registered recording.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use custodian_core::ids::RecordingId;
use custodian_core::recording::{DerivationKind, Recording, RecordingKind};
use custodian_core::text::human_size;
use custodian_store::{MediaRecord, RegisterTx};
use custodian_vault::VaultError;
use custodian_vault::ingest::Ingest;
use custodian_vault::sniff::{Accept, Family, MediaType};
use futures_util::{Stream, StreamExt};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::in_progress::{Held, UPLOADS_IN_ALL, UPLOADS_PER_MEMBER, Upload};
use super::{UploadStatus, UploadTarget};
use crate::accounts::Caller;
use crate::audit_trail::Audit;
use crate::error_code::ErrorCode;
use crate::{AppError, AppResult, Custodian};

/// An upload nobody has sent bytes to for this long is abandoned, and its staged bytes deleted:
/// long enough for a phone to find a signal again, short enough that abandoned ones do not pile
/// up (each holds its place on disk and its last partial chunk in memory).
const UPLOAD_IDLE_LIMIT: Duration = Duration::hours(1);

/// What an upload may contain, given what it will become.
fn accepts(target: &UploadTarget) -> Accept {
    match target {
        UploadTarget::Derivative { form, .. } if form.kind == DerivationKind::Transcript => {
            Accept::Transcript
        }
        _ => Accept::Media,
    }
}

/// Refuses media whose bytes are not what the recording says it is.
fn check_kind(kind: RecordingKind, media: MediaType) -> AppResult<()> {
    let fits = match kind {
        RecordingKind::Photograph => media.family == Family::Image,
        // Browsers record audio into WebM or Matroska containers, which look like video.
        RecordingKind::Audio => {
            media.family == Family::Audio || matches!(media.mime, "video/webm" | "video/x-matroska")
        }
        RecordingKind::Video => media.family == Family::Video,
        RecordingKind::Other => true,
    };
    if fits {
        Ok(())
    } else {
        Err(AppError::Rule {
            code: ErrorCode::MediaKindMismatch,
            message: format!(
                "the file is {}, but the recording is registered as a {}",
                media.mime,
                kind.label()
            ),
        })
    }
}

impl Custodian {
    /// Starts an upload of `length` bytes that will become `target`. Everything the recording
    /// says is checked now, so a long upload is not refused at the end for a typo.
    #[tracing::instrument(skip(self, caller, target), fields(staff = %caller.member.id))]
    pub async fn start_upload(
        &self,
        caller: &Caller,
        length: u64,
        target: UploadTarget,
        filename: Option<String>,
    ) -> AppResult<UploadStatus> {
        // Refused before any byte is staged, not after a long upload.
        match &target {
            UploadTarget::Recording { form, .. } => {
                for person in &form.subjects {
                    self.read_person(caller, custodian_access::Action::MakeRecording, *person)
                        .await?;
                }
            }
            UploadTarget::Derivative { .. } => {
                if let Some((asked, form)) = target.derivation() {
                    self.authorize_derivation(caller, &asked, form).await?;
                }
            }
        }
        let now = self.clock.now();
        let vault = self.vault();
        vault.uploads.expire(now - UPLOAD_IDLE_LIMIT);
        if length == 0 {
            return Err(AppError::Vault(VaultError::Empty));
        }
        if length > vault.max_upload_bytes {
            return Err(AppError::TooLarge {
                max: vault.max_upload_bytes,
            });
        }
        let Held {
            theirs,
            everyone,
            their_bytes,
            to_come,
        } = vault.uploads.held(caller.member.id);
        if theirs >= UPLOADS_PER_MEMBER {
            return Err(AppError::Rule {
                code: ErrorCode::UploadTooManyUnfinished,
                message: format!(
                    "you have {theirs} uploads unfinished, the most one person may have; finish or cancel one (an upload nobody sends to for an hour ends by itself) and try again"
                ),
            });
        }
        if everyone >= UPLOADS_IN_ALL {
            tracing::warn!(
                everyone,
                "uploads refused: the server holds as many unfinished as it may"
            );
            return Err(AppError::Rule {
                code: ErrorCode::UploadServerFull,
                message: "the server is holding as many unfinished uploads as it can; try again in a few minutes, and tell the service desk if this goes on".to_owned(),
            });
        }
        // Staged bytes are bounded too: a member's unfinished uploads together by the largest
        // one upload may be, and everyone's by the disk, so that what is promised fits.
        if their_bytes.saturating_add(length) > vault.max_upload_bytes {
            return Err(AppError::Rule {
                code: ErrorCode::UploadTooMuchUnfinished,
                message: format!(
                    "your unfinished uploads already come to {} and this one would take them past {}, the most one person may have on the go; finish or cancel one and try again",
                    human_size(their_bytes),
                    human_size(vault.max_upload_bytes)
                ),
            });
        }
        let staging = vault.staging.clone();
        let space =
            tokio::task::spawn_blocking(move || custodian_vault::ingest::staging_space(&staging))
                .await
                .map_err(|e| AppError::Internal(e.to_string()))?
                .map_err(AppError::Vault)?;
        if to_come.saturating_add(length) > space {
            tracing::warn!(
                space,
                to_come,
                length,
                "upload refused: the disk for uploads cannot hold it"
            );
            return Err(AppError::Rule {
                code: ErrorCode::UploadDiskFull,
                message: "the server has no room for a file this size just now; try again later or with a smaller file, and tell the service desk".to_owned(),
            });
        }
        {
            let mut tx = self.register.read().await?;
            self.draft(&mut tx, &target, RecordingId::from_uuid(Uuid::nil()), now)
                .await?;
        }
        let staging = vault.staging.clone();
        let accept = accepts(&target);
        let ingest = tokio::task::spawn_blocking(move || Ingest::start(&staging, length, accept))
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?
            .map_err(AppError::Vault)?;
        let id = Uuid::now_v7();
        vault.uploads.insert(Upload {
            id,
            owner: caller.member.id,
            target,
            filename: filename
                .filter(|f| !f.trim().is_empty())
                .map(|f| f.chars().take(200).collect()),
            declared: length,
            received: Arc::new(AtomicU64::new(0)),
            ingest: Some(ingest),
            last_active: now,
        });
        Ok(UploadStatus {
            id,
            offset: 0,
            length,
            recording: None,
        })
    }

    /// Where the caller's upload `id` stands.
    pub async fn upload_status(&self, caller: &Caller, id: Uuid) -> AppResult<UploadStatus> {
        caller.ready()?;
        let upload = self
            .vault()
            .uploads
            .get(id)
            .ok_or_else(|| AppError::not_found("upload", id))?;
        let upload = upload.lock().await;
        if upload.owner != caller.member.id {
            return Err(AppError::not_found("upload", id));
        }
        Ok(UploadStatus {
            id,
            offset: upload.ingest.as_ref().map_or(0, Ingest::received),
            length: upload.declared,
            recording: None,
        })
    }

    /// Abandons the caller's upload `id`; its staged bytes are deleted.
    pub async fn cancel_upload(&self, caller: &Caller, id: Uuid) -> AppResult<()> {
        self.upload_status(caller, id).await?;
        self.vault().uploads.remove(id);
        Ok(())
    }

    /// Appends `body` to the caller's upload `id`, which must stand at `offset`. Bytes are hashed
    /// and encrypted as they arrive. When the last byte arrives the media is stored durably and
    /// only then is the recording registered, with its audit events, in one transaction.
    #[tracing::instrument(skip(self, caller, body), fields(staff = %caller.member.id))]
    pub async fn append_upload<S, E>(
        &self,
        caller: &Caller,
        id: Uuid,
        offset: u64,
        mut body: S,
    ) -> AppResult<UploadStatus>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin + Send,
        E: std::fmt::Display,
    {
        caller.ready()?;
        let vault = self.vault();
        let (mut upload, mut ingest) = self.claim_upload(caller, id).await?;
        if ingest.received() != offset {
            let received = ingest.received();
            upload.ingest = Some(ingest);
            return Err(AppError::Rule {
                code: ErrorCode::UploadOffsetMismatch,
                message: format!(
                    "the upload stands at byte {received}, not {offset}; resume from {received}"
                ),
            });
        }
        // Encryption and hashing run on a blocking thread, fed as the body arrives, so the
        // request never holds more than a few frames in memory.
        let (sender, mut receiver) = tokio::sync::mpsc::channel::<Bytes>(8);
        let worker = tokio::task::spawn_blocking(move || {
            let outcome = ingest.write_frames(std::iter::from_fn(|| receiver.blocking_recv()));
            (ingest, outcome)
        });
        let mut interrupted = None;
        while let Some(frame) = body.next().await {
            match frame {
                Ok(bytes) if bytes.is_empty() => {}
                Ok(bytes) => {
                    if sender.send(bytes).await.is_err() {
                        break;
                    }
                }
                Err(error) => {
                    interrupted = Some(error.to_string());
                    break;
                }
            }
        }
        drop(sender);
        let (ingest, outcome) = worker
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?;
        upload.last_active = self.clock.now();
        if let Err(error) = outcome {
            // Refused (too long, not media): the upload ends and its bytes are deleted.
            drop(ingest);
            vault.uploads.remove(id);
            return Err(AppError::Vault(error));
        }
        let received = ingest.received();
        upload.received.store(received, Ordering::Relaxed);
        if let Some(reason) = interrupted {
            tracing::info!(%id, received, %reason, "upload interrupted; it can be resumed");
        }
        if received < upload.declared {
            upload.ingest = Some(ingest);
            return Ok(UploadStatus {
                id,
                offset: received,
                length: upload.declared,
                recording: None,
            });
        }
        vault.uploads.remove(id);
        let recording = self
            .finish_upload(caller, &upload.target, upload.filename.clone(), ingest)
            .await?;
        Ok(UploadStatus {
            id,
            offset: received,
            length: upload.declared,
            recording: Some(recording),
        })
    }

    /// Ends the caller's upload `id` at the bytes that have arrived, taking them as the whole
    /// file, and registers it: for a form sent without scripts, whose length was declared as an
    /// upper bound (the request's length) because a plain form cannot say the file's size.
    #[tracing::instrument(skip(self, caller), fields(staff = %caller.member.id))]
    pub async fn complete_upload(&self, caller: &Caller, id: Uuid) -> AppResult<Recording> {
        caller.ready()?;
        let vault = self.vault();
        let (upload, mut ingest) = self.claim_upload(caller, id).await?;
        vault.uploads.remove(id);
        if ingest.received() == 0 {
            return Err(AppError::Vault(VaultError::Empty));
        }
        ingest.end_here();
        self.finish_upload(caller, &upload.target, upload.filename.clone(), ingest)
            .await
    }

    /// The caller's upload `id`, locked, with its staged bytes taken out to work on; an upload
    /// of someone else's is as good as missing.
    async fn claim_upload(
        &self,
        caller: &Caller,
        id: Uuid,
    ) -> AppResult<(tokio::sync::OwnedMutexGuard<Upload>, Ingest)> {
        let upload = self
            .vault()
            .uploads
            .get(id)
            .ok_or_else(|| AppError::not_found("upload", id))?;
        let mut upload = upload.lock_owned().await;
        if upload.owner != caller.member.id {
            return Err(AppError::not_found("upload", id));
        }
        let ingest = upload.ingest.take().ok_or_else(|| AppError::Rule {
            code: ErrorCode::UploadBusy,
            message: "another request is writing to this upload".to_owned(),
        })?;
        Ok((upload, ingest))
    }

    /// The recording an upload will register, checked against the register.
    async fn draft(
        &self,
        tx: &mut RegisterTx,
        target: &UploadTarget,
        id: RecordingId,
        now: OffsetDateTime,
    ) -> AppResult<Recording> {
        match target {
            UploadTarget::Recording { form, session } => {
                let session = match session {
                    Some(session_id) => Some(
                        tx.session(*session_id)
                            .await?
                            .ok_or_else(|| AppError::not_found("session", session_id))?,
                    ),
                    None => None,
                };
                for person in &form.subjects {
                    tx.person(*person)
                        .await?
                        .ok_or_else(|| AppError::not_found("person", person))?;
                }
                Ok(Recording::new(id, form.clone(), session.as_ref(), now)?)
            }
            UploadTarget::Derivative { source, form, .. } => {
                let original = tx
                    .recording(*source)
                    .await?
                    .ok_or_else(|| AppError::not_found("recording", source))?;
                if tx.destruction(*source).await?.is_some() {
                    return Err(AppError::Rule {
                        code: ErrorCode::RecordingDestroyed,
                        message:
                            "the source recording was destroyed; nothing can be derived from it"
                                .to_owned(),
                    });
                }
                Ok(Recording::derive(id, &original, form.clone(), now)?)
            }
        }
    }

    /// Stores a complete upload durably, then registers its recording and media in one
    /// transaction. If registering fails, the stored object is deleted again.
    async fn finish_upload(
        &self,
        caller: &Caller,
        target: &UploadTarget,
        filename: Option<String>,
        ingest: Ingest,
    ) -> AppResult<Recording> {
        let vault = self.vault();
        let staged = tokio::task::spawn_blocking(move || ingest.finish())
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?
            .map_err(AppError::Vault)?;
        let now = self.clock.now();
        let id = RecordingId::from_uuid(Uuid::now_v7());
        let recording = {
            let mut tx = self.register.read().await?;
            self.draft(&mut tx, target, id, now).await
        };
        let recording =
            match recording.and_then(|r| check_kind(r.kind, staged.media_type).map(|()| r)) {
                Ok(recording) => recording,
                Err(error) => {
                    staged.discard();
                    return Err(error);
                }
            };
        // Decided again now the bytes are here: consent may have changed during a long upload.
        let use_of_source = match target.derivation() {
            Some((asked, form)) => match self.authorize_derivation(caller, &asked, form).await {
                Ok(decided) => Some(decided),
                Err(error) => {
                    staged.discard();
                    return Err(error);
                }
            },
            None => None,
        };
        let wrapped = match vault.wrap(&staged.key) {
            Ok(wrapped) => wrapped,
            Err(error) => {
                staged.discard();
                return Err(error);
            }
        };
        let object_key = format!("{id}.age");
        if let Err(error) = vault.storage.store(&object_key, &staged.path).await {
            staged.discard();
            return Err(AppError::Vault(error));
        }
        let media = MediaRecord {
            recording_id: id,
            object_key: object_key.clone(),
            content_type: staged.media_type.mime.to_owned(),
            size: staged.size,
            sha256: staged.sha256,
            wrapped_key: Some(wrapped),
            filename,
            stored_at: now,
        };
        match self
            .register_with_media(caller, &recording, &media, use_of_source, now)
            .await
        {
            Ok(()) => Ok(recording),
            Err(error) => {
                if let Err(cleanup) = vault.storage.delete(&object_key).await {
                    tracing::error!(%cleanup, object_key, "could not delete media after registering failed; `vault verify` will find it");
                }
                Err(error)
            }
        }
    }

    async fn register_with_media(
        &self,
        caller: &Caller,
        recording: &Recording,
        media: &MediaRecord,
        use_of_source: Option<serde_json::Value>,
        now: OffsetDateTime,
    ) -> AppResult<()> {
        let mut tx = self.register.write().await?;
        tx.insert_recording(recording, caller.member.id, now)
            .await?;
        crate::retention::on_registered(&mut tx, recording, now).await?;
        tx.insert_media(media, caller.member.id).await?;
        let detail = serde_json::json!({
            "kind": recording.kind,
            "purposes": recording.purposes,
            "derivation": recording.derivation,
            "use_of_source": use_of_source,
            "media": { "content_type": media.content_type, "size": media.size, "sha256": hex::encode(media.sha256) },
        });
        for person in &recording.subjects {
            Audit::change("recording.registered")
                .person(*person)
                .recording(recording.id)
                .detail(detail.clone())
                .write(&mut tx, caller.actor(), now)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
