//! Physical media (D9): tapes, discs, USB sticks and prints that hold recordings, and the record of their destruction.

use serde::Serialize;
use time::OffsetDateTime;

use crate::clock::{Shown, normalise, not_in_future};
use crate::error::DomainError;
use crate::ids::{PhysicalMediumId, RecordingId, StaffId};
use crate::retention::hold::{Held, HoldRef, HoldScope, LegalHold};
use crate::text::ShortText;
use crate::vocabulary::vocabulary;

vocabulary! {
    /// What a physical medium is.
    pub enum MediumKind ("medium kind") {
        /// A video or audio cassette.
        Tape = "tape", "video or audio tape";
        /// An optical disc.
        Disc = "dvd", "DVD or CD";
        /// A USB stick (the policies allow only Trust-provided encrypted ones).
        UsbStick = "usb_stick", "USB stick";
        /// A printed still.
        Print = "print", "print";
        /// Anything else, described in words.
        Other = "other", "other medium";
    }
}

vocabulary! {
    /// How a physical medium was destroyed (D9).
    pub enum DestructionMethod ("destruction method") {
        /// Erased with a professional wiper or secure erasure, leaving the medium reusable.
        Wiped = "wiped", "wiped";
        /// Erased with a strong magnetic field: for magnetic tape only.
        Degaussed = "degaussed", "degaussed";
        Shredded = "shredded", "shredded";
        Crushed = "crushed", "crushed";
        Incinerated = "incinerated", "incinerated";
    }
}

/// A physical medium in the register: what it is, its label or serial, where it is kept, the
/// recordings on it, and, once, its destruction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PhysicalMedium {
    pub id: PhysicalMediumId,
    pub kind: MediumKind,
    /// What it is in words: required for `other`, a help for the rest (`encrypted, 16 GB`).
    pub description: Option<ShortText>,
    /// The label written on it or its serial number: how staff find it in a cupboard.
    pub label: ShortText,
    /// Where it is kept (a locked cabinet, an office).
    pub location: ShortText,
    /// The registered recordings copied onto it; empty for a medium older than the register.
    pub recordings: Vec<RecordingId>,
    pub registered_by: StaffId,
    #[serde(with = "time::serde::rfc3339")]
    pub registered_at: OffsetDateTime,
    pub destruction: Option<MediumDestruction>,
}

/// A medium as entered.
#[derive(Clone, Debug)]
pub struct MediumForm {
    pub kind: MediumKind,
    pub description: Option<String>,
    pub label: String,
    pub location: String,
    pub recordings: Vec<RecordingId>,
    pub registered_by: StaffId,
    pub registered_at: OffsetDateTime,
}

/// How, when and by whom a medium was destroyed, and who recorded it (D9).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MediumDestruction {
    pub method: DestructionMethod,
    /// Who destroyed it: a member of staff or a contractor, by name.
    pub carried_out_by: ShortText,
    /// Who saw it done, if anyone did: the policies do not require a witness.
    pub witness: Option<ShortText>,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// A contractor's certificate of destruction, or the organisation's own reference.
    pub certificate: Option<ShortText>,
    pub recorded_by: StaffId,
    #[serde(with = "time::serde::rfc3339")]
    pub recorded_at: OffsetDateTime,
}

/// A destruction as entered.
#[derive(Clone, Debug)]
pub struct DestructionForm {
    pub method: DestructionMethod,
    pub carried_out_by: String,
    pub witness: Option<String>,
    pub at: OffsetDateTime,
    pub certificate: Option<String>,
    pub recorded_by: StaffId,
}

impl MediumKind {
    /// The methods that destroy what this kind holds. Discs cannot be wiped (policy 001 §6.3:
    /// what cannot be erased must be physically destroyed); only magnetic tape can be degaussed.
    pub const fn fitting_methods(self) -> &'static [DestructionMethod] {
        use DestructionMethod as M;
        match self {
            Self::Tape => &[M::Wiped, M::Degaussed, M::Shredded, M::Incinerated],
            Self::Disc => &[M::Shredded, M::Crushed, M::Incinerated],
            Self::UsbStick => &[M::Wiped, M::Shredded, M::Crushed, M::Incinerated],
            Self::Print => &[M::Shredded, M::Incinerated],
            Self::Other => DestructionMethod::ALL,
        }
    }

    /// Whether `method` destroys what this kind holds.
    pub fn fits(self, method: DestructionMethod) -> bool {
        self.fitting_methods().contains(&method)
    }
}

impl PhysicalMedium {
    /// Registers a medium: it needs a label and a place; a medium of kind `other` needs a
    /// description too.
    pub fn register(
        id: PhysicalMediumId,
        form: MediumForm,
        now: OffsetDateTime,
    ) -> Result<Self, DomainError> {
        let description = form
            .description
            .as_deref()
            .filter(|d| !d.trim().is_empty())
            .map(|d| ShortText::parse("description", d))
            .transpose()?;
        if form.kind == MediumKind::Other && description.is_none() {
            return Err(DomainError::MediumWithoutDescription);
        }
        let label = ShortText::parse("label", &form.label)?;
        let location = ShortText::parse("location", &form.location)?;
        let registered_at = not_in_future("registered_at", normalise(form.registered_at), now)?;
        let mut recordings = form.recordings;
        recordings.sort();
        recordings.dedup();
        Ok(Self {
            id,
            kind: form.kind,
            description,
            label,
            location,
            recordings,
            registered_by: form.registered_by,
            registered_at,
            destruction: None,
        })
    }

    /// Records the medium's destruction, once, by a method that fits its kind, not in the
    /// future, and never while a standing hold covers a recording on it (D7). `scopes` are the
    /// recordings' scopes as the register knows them; a recording without one is still checked
    /// by its id, so a missing scope can never let a held medium through.
    pub fn destroy(
        &self,
        form: DestructionForm,
        scopes: &[HoldScope],
        holds: &[LegalHold],
        now: OffsetDateTime,
    ) -> Result<Self, DomainError> {
        if let Some(done) = &self.destruction {
            return Err(DomainError::MediumAlreadyDestroyed {
                label: self.label.to_string(),
                method: done.method.label(),
                at: Shown(done.at),
            });
        }
        if !self.kind.fits(form.method) {
            return Err(DomainError::MethodUnfitForMedium {
                kind: self.kind.label(),
                method: form.method.label(),
                fitting: self
                    .kind
                    .fitting_methods()
                    .iter()
                    .map(|m| m.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        let carried_out_by = ShortText::parse("carried_out_by", &form.carried_out_by)?;
        let witness = optional_text("witness", form.witness.as_deref())?;
        if witness
            .as_ref()
            .is_some_and(|w| same_name(w.as_str(), carried_out_by.as_str()))
        {
            return Err(DomainError::WitnessIsDestroyer);
        }
        let certificate = optional_text("certificate", form.certificate.as_deref())?;
        let at = not_in_future("destroyed_at", normalise(form.at), now)?;
        self.may_destroy(scopes, holds)
            .map_err(|held| DomainError::MediumUnderLegalHold {
                label: self.label.to_string(),
                held,
            })?;
        Ok(Self {
            destruction: Some(MediumDestruction {
                method: form.method,
                carried_out_by,
                witness,
                at,
                certificate,
                recorded_by: form.recorded_by,
                recorded_at: normalise(now),
            }),
            ..self.clone()
        })
    }

    /// Whether every recording on the medium may be destroyed as the holds stand: refused
    /// naming every standing hold over any of them, their sources or the people in them.
    pub fn may_destroy(&self, scopes: &[HoldScope], holds: &[LegalHold]) -> Result<(), Held> {
        let mut blocking: Vec<HoldRef> = self
            .recordings
            .iter()
            .filter_map(|recording| {
                let scope = scopes
                    .iter()
                    .find(|s| s.recording == *recording)
                    .cloned()
                    .unwrap_or_else(|| HoldScope {
                        recording: *recording,
                        derived_from: Vec::new(),
                        subjects: Vec::new(),
                    });
                scope.may_destroy(holds).err()
            })
            .flat_map(|held| held.holds)
            .collect();
        if blocking.is_empty() {
            return Ok(());
        }
        blocking.sort_by_key(|h| h.id);
        blocking.dedup_by_key(|h| h.id);
        Err(Held { holds: blocking })
    }

    /// Whether it has been destroyed.
    pub fn is_destroyed(&self) -> bool {
        self.destruction.is_some()
    }
}

fn optional_text(
    field: &'static str,
    input: Option<&str>,
) -> Result<Option<ShortText>, DomainError> {
    input
        .filter(|text| !text.trim().is_empty())
        .map(|text| ShortText::parse(field, text))
        .transpose()
}

/// Names compared as people read them: case and spacing do not make a second person.
fn same_name(a: &str, b: &str) -> bool {
    let words = |s: &str| {
        s.split_whitespace()
            .map(str::to_lowercase)
            .collect::<Vec<_>>()
    };
    words(a) == words(b)
}
