//! Reading media back, only as the gate permits: checked, ranged, audited.

use std::sync::Arc;

use bytes::Bytes;
use custodian_core::audit::{Actor, AuditOutcome};
use custodian_core::ids::RecordingId;
use custodian_vault::VaultError;

use super::{MediaDownload, RangeRequest};
use crate::accounts::{Caller, Secret};
use crate::audit_trail::Audit;
use crate::error_code::ErrorCode;
use crate::uses::{Permit, UseAsked};
use crate::{AppError, AppResult, Custodian};

impl Custodian {
    /// Opens a recording's content for `asked.purpose`, whole or a range: under `grant` when
    /// one is presented, otherwise after the gate decides the use and issues a grant (returned
    /// with the download). This is the one function that turns a request for content into
    /// bytes. The first piece is decrypted and checked before anything is sent, and every later
    /// piece as it goes; a failed check is audited and never served silently.
    #[tracing::instrument(skip(self, caller, asked, grant), fields(staff = %caller.member.id, recording = %asked.recording))]
    pub async fn open_media(
        &self,
        caller: &Caller,
        asked: &UseAsked,
        grant: Option<&Secret>,
        range: Option<RangeRequest>,
    ) -> AppResult<MediaDownload> {
        let permit = match grant {
            Some(secret) => self.use_under_grant(caller, asked, secret).await?,
            None => self.authorize_use(caller, asked).await?,
        };
        self.read_permitted(permit, range).await
    }

    /// Reads the content a permit allows: only the gate makes permits.
    async fn read_permitted(
        &self,
        permit: Permit,
        range: Option<RangeRequest>,
    ) -> AppResult<MediaDownload> {
        let (recording, purpose, grant, media) = permit.into_parts();
        let media = match media {
            Some(media) => media,
            None => {
                let mut tx = self.register.read().await?;
                tx.media(recording)
                    .await?
                    .ok_or_else(|| AppError::not_found("media of recording", recording))?
            }
        };
        let vault = self.vault();
        let Some(wrapped) = media.wrapped_key.as_deref() else {
            return Err(AppError::Rule {
                code: ErrorCode::RecordingDestroyed,
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
            purpose,
            grant,
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
