//! The numbered requirements of `shared/REQUIREMENTS.md`, so every rule and refusal can name its source.

use std::fmt;

use serde::{Serialize, Serializer};

/// A requirement from the organisations' policies (C1…X6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Requirement {
    /// Consent is explicit, per person and per purpose.
    C1,
    /// A consent form is completed and the person gets a copy.
    C2,
    /// A representative may agree for a person who lacks capacity.
    C3,
    /// Refusal never affects care; ambivalence means no recording.
    C4,
    /// A course of sessions needs a "still willing" confirmation each session.
    C5,
    /// A new purpose needs new consent.
    C6,
    /// Family and group sessions.
    C7,
    /// Withdrawal at any time; identification recordings are exempt.
    C8,
    /// The choices when a session is stopped.
    C9,
    /// Research needs the study's consent and an ethics approval reference.
    C10,
    /// Teaching and training use needs a de-identified copy.
    C11,
    /// Staff meetings need no consent; personal staff meetings do.
    C12,
    /// Social media needs express consent and an approved account.
    C13,
    /// Whether representatives may have copies is agreed on the form.
    C14,
    /// Every recording is registered.
    R1,
    /// Only registered organisation devices.
    R2,
    /// The opening statement.
    R3,
    /// The closing confirmation.
    R4,
    /// Meeting recordings carry an explanatory statement; participants are told.
    R5,
    /// Recordings are never edited.
    R6,
    /// Media is encrypted at rest.
    S1,
    /// Every access, use and change is in a tamper-evident audit trail.
    S2,
    /// Staff with personal connections are refused.
    S3,
    /// Refused attempts are logged.
    S5,
    /// Only the current identification recording is kept, as long as the person's file.
    D1,
    /// Recordings for other purposes are destroyed once no longer relevant: each has a review date.
    D2,
    /// When a person leaves the service, their non-essential recordings come up for deletion.
    D3,
    /// Clinical recordings follow the NHS Records Management Code of Practice retention schedule.
    D4,
    /// When a transcript is made for clinical purposes the recording is deleted.
    D5,
    /// A recording may be deleted after an episode of care at the person's request.
    D6,
    /// Recordings under legal hold cannot be erased.
    D7,
    /// Teaching and training recordings may be erased at the clinician's discretion.
    D8,
    /// Destruction is recorded with a certificate.
    D9,
    /// Recordings posted online are tracked, and withdrawal creates a take-down task.
    D10,
    /// A single decision function answers every use question.
    X1,
    /// Destruction is cryptographic: a key per recording.
    X2,
    /// The audit trail is tamper-evident.
    X3,
}

impl Requirement {
    /// The requirement's number as written in `REQUIREMENTS.md`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::C1 => "C1",
            Self::C2 => "C2",
            Self::C3 => "C3",
            Self::C4 => "C4",
            Self::C5 => "C5",
            Self::C6 => "C6",
            Self::C7 => "C7",
            Self::C8 => "C8",
            Self::C9 => "C9",
            Self::C10 => "C10",
            Self::C11 => "C11",
            Self::C12 => "C12",
            Self::C13 => "C13",
            Self::C14 => "C14",
            Self::R1 => "R1",
            Self::R2 => "R2",
            Self::R3 => "R3",
            Self::R4 => "R4",
            Self::R5 => "R5",
            Self::R6 => "R6",
            Self::S1 => "S1",
            Self::S2 => "S2",
            Self::S3 => "S3",
            Self::S5 => "S5",
            Self::D1 => "D1",
            Self::D2 => "D2",
            Self::D3 => "D3",
            Self::D4 => "D4",
            Self::D5 => "D5",
            Self::D6 => "D6",
            Self::D7 => "D7",
            Self::D8 => "D8",
            Self::D9 => "D9",
            Self::D10 => "D10",
            Self::X1 => "X1",
            Self::X2 => "X2",
            Self::X3 => "X3",
        }
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Requirement {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}
