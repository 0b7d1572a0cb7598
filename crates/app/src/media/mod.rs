//! Recordings' media: resumable uploads, playback with ranges, destruction, verification.

mod destruction;
mod in_progress;
mod playback;
mod upkeep;
mod upload;

pub use in_progress::{UPLOADS_IN_ALL, UPLOADS_PER_MEMBER};
pub use upkeep::ORPHANS_KEPT_FOR;

use std::ops::Range;

use bytes::Bytes;
use custodian_core::ids::{RecordingId, SessionId};
use custodian_core::recording::{DerivationForm, Recording, RecordingForm};
use custodian_store::MediaRecord;
use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

pub(crate) use in_progress::Uploads;

/// What an upload will become once all its bytes have arrived.
#[derive(Clone, Debug)]
pub enum UploadTarget {
    /// A new original recording, in `session` if it belongs to one.
    Recording {
        form: RecordingForm,
        session: Option<SessionId>,
    },
    /// An item derived from `source` (R6): a redacted copy, a still, a transcript, made for
    /// `purpose` (decided by the gate when the upload starts and again when it completes).
    Derivative {
        source: RecordingId,
        form: DerivationForm,
        purpose: custodian_core::purpose::Purpose,
        study: Option<custodian_core::consent::EthicsReference>,
    },
}

impl UploadTarget {
    /// For a derived item: the use of its source's content that making it is.
    pub(crate) fn derivation(&self) -> Option<(crate::uses::UseAsked, &DerivationForm)> {
        match self {
            Self::Derivative {
                source,
                form,
                purpose,
                study,
            } => Some((
                crate::uses::UseAsked {
                    recording: *source,
                    purpose: *purpose,
                    study: study.clone(),
                },
                form,
            )),
            Self::Recording { .. } => None,
        }
    }
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
    /// What the content is being used for.
    pub purpose: custodian_core::purpose::Purpose,
    /// The grant issued with this first request, for the requests that follow it.
    pub grant: Option<crate::uses::IssuedGrant>,
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
    /// Whether everything registered is present and intact, and no orphan remains: an orphan
    /// harms no recording, but it is media nobody accounts for.
    pub fn is_sound(&self) -> bool {
        // With removal asked for, every orphan listed was deleted or the check failed.
        let orphans_remain = !self.orphaned.is_empty() && self.removed == 0;
        self.missing.is_empty() && self.corrupted.is_empty() && !orphans_remain
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
