//! Registered recordings (R1) and the derived items made from them without touching the original (R6).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::clock::{normalise, not_in_future};
use crate::error::DomainError;
use crate::ids::{PersonId, RecordingId, SessionId, StaffId};
use crate::person::distinct_persons;
use crate::purpose::{Purpose, PurposeSet};
use crate::session::Session;
use crate::text::{Note, ServiceCode, ShortText};
use crate::vocabulary::vocabulary;

vocabulary! {
    /// What kind of media a recording is (R1).
    pub enum RecordingKind ("recording kind") {
        Photograph = "photograph", "photograph";
        Audio = "audio", "audio recording";
        Video = "video", "video recording";
        Other = "other", "other recording";
    }
}

vocabulary! {
    /// How a derived item was made from its source (R6).
    pub enum DerivationKind ("derivation kind") {
        /// A copy with people or identifying details removed (C7, C11, A3).
        Redaction = "redaction", "redacted copy";
        /// A written transcript (D5).
        Transcript = "transcript", "transcript";
        /// A still image taken from a video.
        Still = "still", "still image";
    }
}

/// Where a derived item came from and what was removed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Derivation {
    /// The recording it was made from.
    pub source: RecordingId,
    /// The original at the root of the chain of derivations.
    pub original: RecordingId,
    pub kind: DerivationKind,
    /// Whether surnames, addresses and other identifying details were removed (C11).
    pub de_identified: bool,
    /// The people removed entirely (C7 group withdrawal, A3 third parties).
    pub removed_persons: Vec<PersonId>,
    pub method: Option<Note>,
}

/// A registered recording (R1): media metadata; the media itself lives in the vault.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Recording {
    pub id: RecordingId,
    pub kind: RecordingKind,
    pub service: ServiceCode,
    pub session_id: Option<SessionId>,
    /// The people who appear in it, in a stable order.
    pub subjects: Vec<PersonId>,
    /// The purposes it was made for; any other use is a change of use (C6).
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Purpose>))]
    pub purposes: PurposeSet,
    pub made_by: StaffId,
    /// The organisation device it was made on.
    pub device: ShortText,
    #[serde(with = "time::serde::rfc3339")]
    pub made_at: OffsetDateTime,
    /// When the content was captured: for an original, when it was made; for a derived item,
    /// when its original was made (so a stop that deletes the original reaches its copies, C9).
    #[serde(with = "time::serde::rfc3339")]
    pub captured_at: OffsetDateTime,
    pub location: ShortText,
    pub derivation: Option<Derivation>,
}

/// A recording as entered.
#[derive(Clone, Debug)]
pub struct RecordingForm {
    pub kind: RecordingKind,
    pub service: ServiceCode,
    pub subjects: Vec<PersonId>,
    pub purposes: PurposeSet,
    pub made_by: StaffId,
    pub device: ShortText,
    pub made_at: OffsetDateTime,
    pub location: ShortText,
}

impl Recording {
    /// Registers an original recording, made in `session` if it belongs to one: every subject
    /// must take part in that session, and the recording takes the session's service.
    pub fn new(
        id: RecordingId,
        form: RecordingForm,
        session: Option<&Session>,
        now: OffsetDateTime,
    ) -> Result<Self, DomainError> {
        let subjects = distinct_subjects(form.subjects)?;
        if form.purposes.is_empty() {
            return Err(DomainError::NoRecordingPurposes);
        }
        let made_at = not_in_future("made_at", normalise(form.made_at), now)?;
        let service = match session {
            Some(session) => {
                if let Some(outsider) = subjects.iter().find(|p| !session.has_participant(**p)) {
                    return Err(DomainError::NotAParticipant { person: *outsider });
                }
                session.service.clone()
            }
            None => form.service,
        };
        Ok(Self {
            id,
            kind: form.kind,
            service,
            session_id: session.map(|s| s.id),
            subjects,
            purposes: form.purposes,
            made_by: form.made_by,
            device: form.device,
            made_at,
            captured_at: made_at,
            location: form.location,
            derivation: None,
        })
    }

    /// Registers an item derived from `source`. The source is untouched (R6); the new item keeps
    /// its session, service and purposes, and its subjects are the source's minus those removed.
    pub fn derive(
        id: RecordingId,
        source: &Recording,
        form: DerivationForm,
        now: OffsetDateTime,
    ) -> Result<Self, DomainError> {
        let removed = distinct_persons(form.removed_persons)?;
        if let Some(stranger) = removed.iter().find(|p| !source.subjects.contains(p)) {
            return Err(DomainError::NotASubject { person: *stranger });
        }
        if form.kind == DerivationKind::Redaction && removed.is_empty() && !form.de_identified {
            return Err(DomainError::RedactionRemovesNobody);
        }
        let subjects: Vec<PersonId> = source
            .subjects
            .iter()
            .copied()
            .filter(|p| removed.binary_search(p).is_err())
            .collect();
        if subjects.is_empty() {
            return Err(DomainError::NoSubjects);
        }
        let made_at = not_in_future("made_at", normalise(form.made_at), now)?;
        let kind = match form.kind {
            DerivationKind::Redaction => source.kind,
            DerivationKind::Transcript => RecordingKind::Other,
            DerivationKind::Still => RecordingKind::Photograph,
        };
        let original = source
            .derivation
            .as_ref()
            .map_or(source.id, |derivation| derivation.original);
        Ok(Self {
            id,
            kind,
            service: source.service.clone(),
            session_id: source.session_id,
            subjects,
            purposes: source.purposes,
            made_by: form.made_by,
            device: form.device,
            made_at,
            captured_at: source.captured_at,
            location: source.location.clone(),
            derivation: Some(Derivation {
                source: source.id,
                original,
                kind: form.kind,
                de_identified: form.de_identified
                    || source.derivation.as_ref().is_some_and(|d| d.de_identified),
                removed_persons: removed,
                method: form.method,
            }),
        })
    }

    /// Whether this item was made with identifying details removed (C11).
    pub fn is_de_identified(&self) -> bool {
        self.derivation.as_ref().is_some_and(|d| d.de_identified)
    }

    /// Whether `recording` is this recording or the recording this one was derived from, so that
    /// a consent for one recording also covers the copies made from it.
    pub fn descends_from(&self, recording: RecordingId) -> bool {
        self.id == recording
            || self
                .derivation
                .as_ref()
                .is_some_and(|d| d.source == recording || d.original == recording)
    }

    /// Whether the recording was made for `purpose` (if not, using it so is a change of use, C6).
    pub const fn made_for(&self, purpose: Purpose) -> bool {
        self.purposes.contains(purpose)
    }
}

/// A derived item as entered.
#[derive(Clone, Debug)]
pub struct DerivationForm {
    pub kind: DerivationKind,
    pub de_identified: bool,
    pub removed_persons: Vec<PersonId>,
    pub method: Option<Note>,
    pub made_by: StaffId,
    pub device: ShortText,
    pub made_at: OffsetDateTime,
}

fn distinct_subjects(subjects: Vec<PersonId>) -> Result<Vec<PersonId>, DomainError> {
    let subjects = distinct_persons(subjects)?;
    if subjects.is_empty() {
        return Err(DomainError::NoSubjects);
    }
    Ok(subjects)
}
