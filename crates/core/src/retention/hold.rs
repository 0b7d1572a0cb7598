//! Legal holds (D7): a matter that keeps recordings and people's recordings from destruction until it is lifted.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::clock::{Shown, normalise, not_in_future};
use crate::error::DomainError;
use crate::ids::{LegalHoldId, PersonId, RecordingId, StaffId};
use crate::recording::Recording;
use crate::requirement::Requirement;
use crate::text::{Note, ShortText};
use crate::vocabulary::vocabulary;

vocabulary! {
    /// Why recordings are held (D7): the kind of matter they may be evidence in.
    pub enum MatterKind ("matter kind") {
        /// A claim or litigation, actual or expected.
        Litigation = "litigation", "litigation";
        /// A complaint being investigated.
        Complaint = "complaint", "complaint";
        /// An inquiry or inquest.
        Inquiry = "inquiry", "inquiry";
        /// A court's direction to preserve or disclose.
        CourtDirection = "court_direction", "court direction";
        /// A police investigation.
        PoliceInvestigation = "police_investigation", "police investigation";
    }
}

/// The matter a hold is for: its kind and its reference (claim, complaint, case or crime number).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Matter {
    pub kind: MatterKind,
    pub reference: ShortText,
}

/// A legal hold (D7). While it stands, nothing it covers may be destroyed, whatever the schedule
/// says. It covers recordings by id and people, whose every recording it holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegalHold {
    pub id: LegalHoldId,
    pub matter: Matter,
    pub recordings: Vec<RecordingId>,
    pub persons: Vec<PersonId>,
    #[serde(with = "time::serde::rfc3339")]
    pub placed_at: OffsetDateTime,
    pub placed_by: StaffId,
    pub lifted: Option<HoldLifted>,
}

/// When and why a hold was lifted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoldLifted {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub by: StaffId,
    pub reason: Note,
}

/// A hold as entered.
#[derive(Clone, Debug)]
pub struct HoldForm {
    pub kind: MatterKind,
    pub reference: String,
    pub recordings: Vec<RecordingId>,
    pub persons: Vec<PersonId>,
    pub placed_by: StaffId,
    pub placed_at: OffsetDateTime,
}

/// What a hold can reach for one recording: the recording, the recordings it was derived from
/// (a hold on a recording also holds every copy made from it: a redaction, transcript or still
/// carries the same evidence) and the people in it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HoldScope {
    pub recording: RecordingId,
    /// For a derived item, its source and original.
    pub derived_from: Vec<RecordingId>,
    pub subjects: Vec<PersonId>,
}

/// A hold named in a refusal: enough to find it and say what it is for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HoldRef {
    pub id: LegalHoldId,
    pub kind: MatterKind,
    pub reference: ShortText,
}

/// Destruction refused because holds stand (D7), naming every one of them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Held {
    pub holds: Vec<HoldRef>,
}

impl LegalHold {
    /// Places a hold: it needs a matter with a reference, and something to cover.
    pub fn new(id: LegalHoldId, form: HoldForm, now: OffsetDateTime) -> Result<Self, DomainError> {
        if form.reference.trim().is_empty() {
            return Err(DomainError::HoldWithoutMatter);
        }
        let reference = ShortText::parse("matter.reference", &form.reference)?;
        let mut recordings = form.recordings;
        recordings.sort();
        recordings.dedup();
        let mut persons = form.persons;
        persons.sort();
        persons.dedup();
        if recordings.is_empty() && persons.is_empty() {
            return Err(DomainError::HoldCoversNothing);
        }
        let placed_at = not_in_future("placed_at", normalise(form.placed_at), now)?;
        Ok(Self {
            id,
            matter: Matter {
                kind: form.kind,
                reference,
            },
            recordings,
            persons,
            placed_at,
            placed_by: form.placed_by,
            lifted: None,
        })
    }

    /// Lifts the hold, once, not before it was placed, with a reason.
    pub fn lift(
        &self,
        by: StaffId,
        reason: Note,
        at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Self, DomainError> {
        if let Some(lifted) = &self.lifted {
            return Err(DomainError::HoldAlreadyLifted {
                lifted_at: Shown(lifted.at),
            });
        }
        let at = not_in_future("lifted_at", normalise(at), now)?;
        if at < self.placed_at {
            return Err(DomainError::HoldLiftedBeforePlaced {
                at: Shown(at),
                placed_at: Shown(self.placed_at),
            });
        }
        Ok(Self {
            lifted: Some(HoldLifted { at, by, reason }),
            ..self.clone()
        })
    }

    /// Whether the hold still stands. A hold stands until it is lifted, whatever any clock
    /// says, so a wrong clock can never release it.
    pub fn stands(&self) -> bool {
        self.lifted.is_none()
    }

    /// Whether the hold covers `recording`, by its id or by any of the people in it.
    pub fn covers(&self, recording: RecordingId, subjects: &[PersonId]) -> bool {
        self.recordings.contains(&recording) || subjects.iter().any(|p| self.persons.contains(p))
    }

    fn reference(&self) -> HoldRef {
        HoldRef {
            id: self.id,
            kind: self.matter.kind,
            reference: self.matter.reference.clone(),
        }
    }
}

impl HoldScope {
    /// The scope of a registered recording.
    pub fn of(recording: &Recording) -> Self {
        let mut derived_from: Vec<RecordingId> = recording
            .derivation
            .iter()
            .flat_map(|d| [d.source, d.original])
            .collect();
        derived_from.sort();
        derived_from.dedup();
        Self {
            recording: recording.id,
            derived_from,
            subjects: recording.subjects.clone(),
        }
    }

    /// [`may_destroy`] for the recording and everything it was derived from.
    pub fn may_destroy(&self, holds: &[LegalHold]) -> Result<(), Held> {
        let mut blocking: Vec<HoldRef> = std::iter::once(&self.recording)
            .chain(&self.derived_from)
            .filter_map(|id| may_destroy(*id, &self.subjects, holds).err())
            .flat_map(|held| held.holds)
            .collect();
        if blocking.is_empty() {
            return Ok(());
        }
        blocking.sort_by_key(|h| h.id);
        blocking.dedup_by_key(|h| h.id);
        Err(Held { holds: blocking })
    }
}

impl Held {
    /// The stable code of the refusal.
    pub const fn code(&self) -> &'static str {
        "hold.under_legal_hold"
    }

    /// The requirement it enforces.
    pub const fn requirement(&self) -> Requirement {
        Requirement::D7
    }

    /// The holds' matters in words: `complaint `C-1`, litigation `Q-7``.
    pub fn matters(&self) -> String {
        self.holds
            .iter()
            .map(|h| format!("{} `{}`", h.kind.label(), h.reference))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for Held {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the recording is under legal hold and cannot be destroyed ({}); each hold must be lifted first",
            self.matters()
        )
    }
}

impl std::error::Error for Held {}

/// Whether `recording`, in which `subjects` appear, may be destroyed: refused while any hold
/// that covers it or any of them stands, naming every such hold in the order of their ids (D7).
pub fn may_destroy(
    recording: RecordingId,
    subjects: &[PersonId],
    holds: &[LegalHold],
) -> Result<(), Held> {
    let mut blocking: Vec<HoldRef> = holds
        .iter()
        .filter(|h| h.stands() && h.covers(recording, subjects))
        .map(LegalHold::reference)
        .collect();
    if blocking.is_empty() {
        return Ok(());
    }
    blocking.sort_by_key(|h| h.id);
    blocking.dedup_by_key(|h| h.id);
    Err(Held { holds: blocking })
}
