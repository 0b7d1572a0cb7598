//! Recordings' media: resumable uploads, playback with ranges, destruction, verification.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use custodian_core::audit::{Actor, AuditOutcome};
use custodian_core::ids::{RecordingId, SessionId, StaffId};
use custodian_core::recording::{
    DerivationForm, DerivationKind, Recording, RecordingForm, RecordingKind,
};
use custodian_core::text::{Note, ShortText};
use custodian_store::{MediaRecord, RegisterTx};
use custodian_vault::VaultError;
use custodian_vault::certificate::{Certificate, Destruction};
use custodian_vault::ingest::Ingest;
use custodian_vault::sniff::{Accept, Family, MediaType};
use futures_util::{Stream, StreamExt};
use serde::Serialize;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::accounts::Caller;
use crate::audit_trail::Audit;
use crate::{AppError, AppResult, Custodian};

/// An upload nobody has touched for this long is abandoned, and its staged bytes deleted.
const UPLOAD_IDLE_LIMIT: Duration = Duration::hours(24);

/// What an upload will become once all its bytes have arrived.
#[derive(Clone, Debug)]
pub enum UploadTarget {
    /// A new original recording, in `session` if it belongs to one.
    Recording {
        form: RecordingForm,
        session: Option<SessionId>,
    },
    /// An item derived from `source` (R6): a redacted copy, a still, a transcript.
    Derivative {
        source: RecordingId,
        form: DerivationForm,
    },
}

/// Where an upload stands.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UploadStatus {
    pub id: Uuid,
    /// Bytes received and kept so far; resume from here.
    pub offset: u64,
    pub length: u64,
    /// The recording, once the upload is complete.
    pub recording: Option<Recording>,
}

/// Uploads in progress. Their state lives in memory: a restart ends them (their staged bytes
/// are cleared at start-up) and clients start again.
#[derive(Default)]
pub(crate) struct Uploads {
    uploads: Mutex<HashMap<Uuid, Arc<tokio::sync::Mutex<Upload>>>>,
}

struct Upload {
    id: Uuid,
    owner: StaffId,
    target: UploadTarget,
    filename: Option<String>,
    declared: u64,
    /// `None` while a request is writing into it on another thread.
    ingest: Option<Ingest>,
    last_active: OffsetDateTime,
}

impl Uploads {
    fn get(&self, id: Uuid) -> Option<Arc<tokio::sync::Mutex<Upload>>> {
        self.uploads.lock().ok()?.get(&id).cloned()
    }

    fn insert(&self, upload: Upload) {
        if let Ok(mut uploads) = self.uploads.lock() {
            uploads.insert(upload.id, Arc::new(tokio::sync::Mutex::new(upload)));
        }
    }

    fn remove(&self, id: Uuid) {
        if let Ok(mut uploads) = self.uploads.lock() {
            uploads.remove(&id);
        }
    }

    /// Forgets uploads idle since before `cutoff`; dropping one deletes its staged bytes.
    fn expire(&self, cutoff: OffsetDateTime) {
        if let Ok(mut uploads) = self.uploads.lock() {
            uploads.retain(|_, upload| {
                upload
                    .try_lock()
                    .map_or(true, |upload| upload.last_active >= cutoff)
            });
        }
    }
}

/// A range of a recording being read, with everything needed to answer the request.
pub struct MediaDownload {
    pub content_type: String,
    /// The whole recording's size.
    pub size: u64,
    /// The bytes being sent.
    pub range: Range<u64>,
    /// Whether the request asked for a range (206) or the whole (200).
    pub partial: bool,
    /// A file name for the download, made from the id, never from user input.
    pub filename: String,
    /// The first piece, already decrypted and checked before anything is sent.
    pub first: Bytes,
    /// The rest, decrypted as it is sent; an error means the stored media failed its check.
    pub rest: tokio::sync::mpsc::Receiver<Result<Bytes, std::io::Error>>,
}

/// A byte range as a client asks for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RangeRequest {
    /// `bytes=a-b`.
    Between(u64, u64),
    /// `bytes=a-`.
    From(u64),
    /// `bytes=-n`: the last n bytes.
    Last(u64),
}

impl RangeRequest {
    /// The bytes meant, in a recording of `size` bytes, if any of them exist.
    pub fn resolve(self, size: u64) -> Option<Range<u64>> {
        let range = match self {
            Self::Between(start, end) if start <= end => start..end.saturating_add(1).min(size),
            Self::Between(..) => return None,
            Self::From(start) => start..size,
            Self::Last(count) if count > 0 => size.saturating_sub(count)..size,
            Self::Last(_) => return None,
        };
        (range.start < size && range.start < range.end).then_some(range)
    }
}

/// What a recording's media is, for the API.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MediaInfo {
    pub content_type: String,
    pub size: u64,
    /// SHA-256 of the original, hex (R6).
    pub sha256: String,
    #[serde(with = "time::serde::rfc3339")]
    pub stored_at: OffsetDateTime,
    /// Whether the media (its key) was destroyed.
    pub destroyed: bool,
}

impl From<&MediaRecord> for MediaInfo {
    fn from(media: &MediaRecord) -> Self {
        Self {
            content_type: media.content_type.clone(),
            size: media.size,
            sha256: hex::encode(media.sha256),
            stored_at: media.stored_at,
            destroyed: media.wrapped_key.is_none(),
        }
    }
}

/// What `vault verify` found.
#[derive(Clone, Debug, Default, Serialize)]
pub struct VaultReport {
    /// Objects decrypted and matched against their registered hash and size.
    pub checked: u64,
    /// Registered media whose object is missing from storage.
    pub missing: Vec<RecordingId>,
    /// Registered media whose object is there but fails its check.
    pub corrupted: Vec<(RecordingId, String)>,
    /// Objects in storage that the register does not know (an upload that failed half-way).
    pub orphaned: Vec<String>,
    /// Objects of destroyed recordings still in storage (unreadable: their keys are gone).
    pub leftover: Vec<String>,
    /// Orphaned and leftover objects deleted, when asked to.
    pub removed: u64,
}

impl VaultReport {
    /// Whether everything registered is present and intact.
    pub fn is_sound(&self) -> bool {
        self.missing.is_empty() && self.corrupted.is_empty()
    }
}

/// Places legal holds (D7) may stand: the retention work fills this in; until then nothing is held.
#[async_trait::async_trait]
pub trait LegalHolds: Send + Sync + std::fmt::Debug {
    /// The matters holding `recording`, if any. No path may destroy a held recording.
    async fn holds(&self, tx: &mut RegisterTx, recording: RecordingId) -> AppResult<Vec<String>>;
}

/// No legal holds exist yet.
#[derive(Debug, Default)]
pub struct NoLegalHolds;

#[async_trait::async_trait]
impl LegalHolds for NoLegalHolds {
    async fn holds(&self, _tx: &mut RegisterTx, _recording: RecordingId) -> AppResult<Vec<String>> {
        Ok(Vec::new())
    }
}

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
        Err(AppError::Conflict {
            code: "media.kind_mismatch",
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
        caller.ready()?;
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
        let upload = vault
            .uploads
            .get(id)
            .ok_or_else(|| AppError::not_found("upload", id))?;
        let mut upload = upload.lock().await;
        if upload.owner != caller.member.id {
            return Err(AppError::not_found("upload", id));
        }
        let mut ingest = upload.ingest.take().ok_or_else(|| AppError::Conflict {
            code: "upload.busy",
            message: "another request is writing to this upload".to_owned(),
        })?;
        if ingest.received() != offset {
            let received = ingest.received();
            upload.ingest = Some(ingest);
            return Err(AppError::Conflict {
                code: "upload.offset_mismatch",
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
            UploadTarget::Derivative { source, form } => {
                let original = tx
                    .recording(*source)
                    .await?
                    .ok_or_else(|| AppError::not_found("recording", source))?;
                if tx.destruction(*source).await?.is_some() {
                    return Err(AppError::Gone {
                        code: "recording.destroyed",
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
            .register_with_media(caller, &recording, &media, now)
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
        now: OffsetDateTime,
    ) -> AppResult<()> {
        let mut tx = self.register.write().await?;
        tx.insert_recording(recording, caller.member.id, now)
            .await?;
        tx.insert_media(media, caller.member.id).await?;
        let detail = serde_json::json!({
            "kind": recording.kind,
            "purposes": recording.purposes,
            "derivation": recording.derivation,
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

    /// Opens a recording's media for reading, whole or a range. The access is audited (S2); the
    /// first piece is decrypted and checked before anything is sent, and every later piece as it
    /// goes. A failed check is audited and never served silently.
    #[tracing::instrument(skip(self, caller), fields(staff = %caller.member.id))]
    pub async fn open_media(
        &self,
        caller: &Caller,
        recording: RecordingId,
        range: Option<RangeRequest>,
    ) -> AppResult<MediaDownload> {
        caller.ready()?;
        let vault = self.vault();
        let media = {
            let mut tx = self.register.read().await?;
            tx.media(recording)
                .await?
                .ok_or_else(|| AppError::not_found("media of recording", recording))?
        };
        let Some(wrapped) = media.wrapped_key.as_deref() else {
            return Err(AppError::Gone {
                code: "recording.destroyed",
                message: "this recording was destroyed: its key is gone and nothing can be read; see its destruction certificate".to_owned(),
            });
        };
        let key = vault.unwrap(wrapped)?;
        let span = match range {
            Some(request) => request
                .resolve(media.size)
                .ok_or(AppError::RangeNotSatisfiable { size: media.size })?,
            None => 0..media.size,
        };
        let whole = span == (0..media.size);
        let now = self.clock.now();
        let mut tx = self.register.write().await?;
        Audit::change("media.accessed")
            .recording(recording)
            .outcome(AuditOutcome::Allowed)
            .detail(serde_json::json!({ "range": [span.start, span.end], "size": media.size }))
            .write(&mut tx, caller.actor(), now)
            .await?;
        tx.commit().await?;

        let (sender, mut receiver) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
        let storage = Arc::clone(&vault.storage);
        let object_key = media.object_key.clone();
        let expected = whole.then_some(media.sha256);
        let read_span = span.clone();
        let worker = tokio::task::spawn_blocking(move || {
            let mut sink = |piece: Bytes| sender.blocking_send(Ok(piece)).is_ok();
            let outcome = custodian_vault::read::read_range(
                storage.as_ref(),
                &object_key,
                &key,
                read_span,
                expected,
                &mut sink,
            );
            if let Err(error) = &outcome {
                let _ = sender.blocking_send(Err(std::io::Error::other(error.to_string())));
            }
            outcome
        });
        let first = match receiver.recv().await {
            Some(Ok(first)) => first,
            _ => {
                let error = match worker.await {
                    Ok(Err(error)) => error,
                    Ok(Ok(())) => VaultError::Corrupt {
                        problem: "the object yielded nothing".to_owned(),
                    },
                    Err(join) => return Err(AppError::Internal(join.to_string())),
                };
                self.audit_integrity_failure(recording, &error).await;
                return Err(AppError::Vault(error));
            }
        };
        // Later failures end the transfer (the client sees it break) and are audited here.
        let custodian = self.clone();
        tokio::spawn(async move {
            if let Ok(Err(error)) = worker.await {
                custodian.audit_integrity_failure(recording, &error).await;
            }
        });
        let extension = mime_extension(&media.content_type);
        Ok(MediaDownload {
            content_type: media.content_type,
            size: media.size,
            range: span,
            partial: range.is_some(),
            filename: format!("recording-{recording}.{extension}"),
            first,
            rest: receiver,
        })
    }

    async fn audit_integrity_failure(&self, recording: RecordingId, error: &VaultError) {
        if !matches!(
            error,
            VaultError::Corrupt { .. } | VaultError::Missing { .. }
        ) {
            return;
        }
        tracing::error!(%recording, %error, "stored media failed its integrity check");
        let now = self.clock.now();
        let written = async {
            let mut tx = self.register.write().await?;
            Audit::change("media.integrity_failed")
                .recording(recording)
                .outcome(AuditOutcome::Refused)
                .detail(serde_json::json!({ "problem": error.to_string() }))
                .write(&mut tx, Actor::System, now)
                .await?;
            tx.commit().await?;
            Ok::<_, AppError>(())
        };
        if let Err(failure) = written.await {
            tracing::error!(%failure, "could not audit an integrity failure");
        }
    }

    /// Destroys a recording's media (D9, X2): its content key is destroyed — so every copy of the
    /// ciphertext, backups included, is unreadable — its object deleted, and a signed certificate
    /// kept. Refused while any legal hold stands (D7). Administrators only, until roles arrive.
    #[tracing::instrument(skip(self, caller, reason, rule), fields(staff = %caller.member.id))]
    pub async fn destroy_recording(
        &self,
        caller: &Caller,
        recording: RecordingId,
        reason: Note,
        rule: ShortText,
    ) -> AppResult<Certificate> {
        caller.administrator()?;
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
        caller.ready()?;
        let mut tx = self.register.read().await?;
        let destruction = tx
            .destruction(recording)
            .await?
            .ok_or_else(|| AppError::not_found("destruction of recording", recording))?;
        serde_json::from_str(&destruction.certificate)
            .map_err(|e| AppError::Internal(format!("a stored certificate does not parse: {e}")))
    }

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

    /// A recording's content key as an age identity file, for emergency recovery with the `age`
    /// tool. Audited; for the command line only.
    pub async fn export_content_key(&self, recording: RecordingId) -> AppResult<String> {
        let media = {
            let mut tx = self.register.read().await?;
            tx.media(recording)
                .await?
                .ok_or_else(|| AppError::not_found("media of recording", recording))?
        };
        let wrapped = media.wrapped_key.ok_or_else(|| AppError::Gone {
            code: "recording.destroyed",
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

/// A safe extension for a stored media type.
fn mime_extension(mime: &str) -> &'static str {
    match mime {
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "image/gif" => "gif",
        "image/webp" => "webp",
        "image/heif" => "heif",
        "image/avif" => "avif",
        "image/tiff" => "tiff",
        "image/bmp" => "bmp",
        "audio/mpeg" => "mp3",
        "audio/m4a" => "m4a",
        "audio/aac" => "aac",
        "audio/ogg" => "ogg",
        "audio/opus" => "opus",
        "audio/x-flac" => "flac",
        "audio/x-wav" => "wav",
        "audio/amr" => "amr",
        "video/mp4" => "mp4",
        "video/x-m4v" => "m4v",
        "video/quicktime" => "mov",
        "video/webm" => "webm",
        "video/x-matroska" => "mkv",
        "video/mpeg" => "mpg",
        "video/x-msvideo" => "avi",
        "video/x-ms-wmv" => "wmv",
        "text/plain; charset=utf-8" => "txt",
        _ => "bin",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_resolve_as_http_means_them() {
        assert_eq!(RangeRequest::Between(0, 0).resolve(10), Some(0..1));
        assert_eq!(RangeRequest::Between(5, 100).resolve(10), Some(5..10));
        assert_eq!(RangeRequest::From(9).resolve(10), Some(9..10));
        assert_eq!(RangeRequest::Last(3).resolve(10), Some(7..10));
        assert_eq!(RangeRequest::Last(30).resolve(10), Some(0..10));
        assert_eq!(RangeRequest::From(10).resolve(10), None);
        assert_eq!(RangeRequest::Between(4, 3).resolve(10), None);
        assert_eq!(RangeRequest::Last(0).resolve(10), None);
    }
}
