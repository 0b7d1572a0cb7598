//! What the retention rules need to know about one recording and the person in it, gathered by the app.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::consent::Disposition;
use crate::ids::StaffId;
use crate::purpose::{Purpose, PurposeSet};
use crate::recording::{DerivationKind, Recording};
use crate::retention::rule::RecordCategory;
use crate::text::Note;

/// The facts about a recording that decide when it comes up for disposal. Every event is a date
/// (retention works in days); an event dated after "now" has not happened yet and fires nothing.
/// Whether the person is a child and their age when care ended are worked out from the dates,
/// never given separately, so they cannot disagree with them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordingFacts {
    /// When the recording was made.
    #[serde(with = "time::serde::rfc3339")]
    pub made_at: OffsetDateTime,
    /// The purposes it was made for.
    pub purposes: PurposeSet,
    /// The care record category it is filed under (D4), or none if it is not part of a care record.
    pub record_category: Option<RecordCategory>,
    /// The date of birth of the person whose record it is, for the 25th/26th birthday rule.
    pub date_of_birth: Option<Date>,
    /// The end of the episode of care, or the last contact.
    pub care_ended_on: Option<Date>,
    /// The person's death.
    pub died_on: Option<Date>,
    /// A transcript or summary of the recording was made for the care record (D5).
    pub transcript_made_on: Option<Date>,
    /// The person left the service (D3).
    pub left_service_on: Option<Date>,
    /// A newer identification photograph replaced this one (D1).
    pub superseded_on: Option<Date>,
    /// The person asked for the recording to be deleted (D6); it counts once the episode of care ended.
    pub deletion_requested_on: Option<Date>,
    /// A review, or the clinician's discretion for teaching and training (D8), found it no longer relevant (D2).
    pub found_no_longer_relevant_on: Option<Date>,
    /// Consent withdrawn for some or all of its purposes, with the person's choice (C8).
    pub withdrawal: Option<WithdrawalFact>,
    /// The day its session was stopped with a choice that deletes it (C9).
    pub deleted_at_stop_on: Option<Date>,
    /// For a derived item: what kind it is and whether the item it was made from is destroyed (R6).
    pub derived: Option<DerivedFacts>,
    /// Whether it was posted online or on social media (D10).
    pub published_online: bool,
    /// The latest extension a records manager gave at review.
    pub extension: Option<Extension>,
}

/// A derived item as retention sees it: whether it goes when the item it was made from goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DerivedFacts {
    pub kind: DerivationKind,
    pub de_identified: bool,
    /// The day the item it was made from was destroyed.
    pub source_destroyed_on: Option<Date>,
}

impl DerivedFacts {
    /// Why this item outlives the item it was made from, or `None` if it goes with it: a still
    /// image is the original's content, but a transcript, a redaction and a de-identified copy
    /// each rest on a basis of their own.
    pub const fn stands_alone(&self) -> Option<&'static str> {
        if self.de_identified {
            return Some(
                "a de-identified copy rests on its own consent for teaching and training (C11)",
            );
        }
        match self.kind {
            DerivationKind::Transcript => {
                Some("a transcript made for the care record stands in the recording's place (D5)")
            }
            DerivationKind::Redaction => {
                Some("a redacted copy rests on the consent of the people left in it (C7, A3)")
            }
            DerivationKind::Still => None,
        }
    }
}

/// A withdrawal of consent as retention sees it (C8).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct WithdrawalFact {
    pub withdrawn_on: Date,
    /// The purposes withdrawn; identification is exempt (C8) and is ignored here.
    pub purposes: PurposeSet,
    /// Destroy, or hand over to the person.
    pub choice: Disposition,
}

/// A records manager's decision at review to keep a recording longer, with the reason (D2).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Extension {
    /// The new date it comes up again.
    pub until: Date,
    pub reason: Note,
    pub by: StaffId,
    #[serde(with = "time::serde::rfc3339")]
    pub decided_at: OffsetDateTime,
}

impl RecordingFacts {
    /// The facts of a recording made at `made_at` for `purposes`, with nothing yet happened.
    pub fn new(made_at: OffsetDateTime, purposes: PurposeSet) -> Self {
        Self {
            made_at,
            purposes,
            record_category: None,
            date_of_birth: None,
            care_ended_on: None,
            died_on: None,
            transcript_made_on: None,
            left_service_on: None,
            superseded_on: None,
            deletion_requested_on: None,
            found_no_longer_relevant_on: None,
            withdrawal: None,
            deleted_at_stop_on: None,
            derived: None,
            published_online: false,
            extension: None,
        }
    }

    /// The facts of a registered recording, before anything has happened to it.
    pub fn of(recording: &Recording) -> Self {
        let mut facts = Self::new(recording.made_at, recording.purposes);
        facts.derived = recording.derivation.as_ref().map(|d| DerivedFacts {
            kind: d.kind,
            de_identified: d.de_identified,
            source_destroyed_on: None,
        });
        facts
    }

    /// The purposes still in force: those withdrawn no longer justify keeping it, except
    /// identification, which withdrawal does not reach (C8).
    pub fn purposes_in_force(&self, today: Date) -> PurposeSet {
        match self.withdrawal_by(today) {
            Some(withdrawal) => {
                let withdrawn = withdrawal.purposes.intersection(all_but_identification());
                PurposeSet::from_iter(self.purposes.iter().filter(|p| !withdrawn.contains(*p)))
            }
            None => self.purposes,
        }
    }

    /// The withdrawal, if it has happened by `today`.
    pub fn withdrawal_by(&self, today: Date) -> Option<&WithdrawalFact> {
        self.withdrawal.as_ref().filter(|w| w.withdrawn_on <= today)
    }
}

fn all_but_identification() -> PurposeSet {
    Purpose::ALL
        .iter()
        .copied()
        .filter(|p| *p != Purpose::Identification)
        .collect()
}
