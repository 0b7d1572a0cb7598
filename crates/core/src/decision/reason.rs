//! The reasons a decision gives: a stable code, the requirement it enforces, and the facts behind it.

use serde::Serialize;
use time::OffsetDateTime;

use crate::consent::Disposition;
use crate::ids::{ConsentId, PersonId, RecordingId};
use crate::requirement::Requirement;
use crate::vocabulary::vocabulary;

vocabulary! {
    /// Whether a use is allowed.
    pub enum Outcome ("outcome") {
        Allowed = "allowed", "allowed";
        Refused = "refused", "refused";
    }
}

vocabulary! {
    /// Whether a reason supports the use or blocks it.
    pub enum Effect ("effect") {
        /// A fact that allows the use (consent given, exemption applies).
        Supports = "supports", "supports";
        /// A rule that refuses the use until something changes.
        Blocks = "blocks", "blocks";
    }
}

vocabulary! {
    /// Every reason the decision function can give. Codes are stable: clients may rely on them.
    pub enum ReasonCode ("reason") {
        /// The person consented to this purpose, for this recording.
        ConsentGiven = "consent.given", "consent given";
        /// A staff meeting or case conference record needs no consent; attendees were told.
        NotRequiredForMeeting = "consent.not_required_for_meeting", "no consent needed for a meeting record";
        /// Identification recordings are exempt from withdrawal.
        IdentificationExemptFromWithdrawal = "consent.identification_exempt_from_withdrawal", "identification is exempt from withdrawal";
        /// The person has not consented to this purpose.
        ConsentMissing = "consent.missing", "no consent";
        /// A personal staff meeting without the member of staff's consent.
        ConsentMissingForPersonalMeeting = "consent.missing_for_personal_meeting", "no consent to record a personal meeting";
        /// Using the recording for a purpose it was not made for, without new consent.
        ChangeOfUse = "consent.change_of_use", "change of use without new consent";
        /// The person refused consent to this purpose.
        ConsentRefused = "consent.refused", "consent refused";
        /// The person withdrew consent.
        ConsentWithdrawn = "consent.withdrawn", "consent withdrawn";
        /// A family member with capacity withdrew: the whole session is revoked.
        FamilySessionRevoked = "consent.family_session_revoked", "family session revoked";
        /// A group member withdrew: only a copy without them may be used.
        GroupMemberWithdrawn = "consent.group_member_withdrawn", "group member withdrew";
        /// A course consent without this session's "still willing" confirmation.
        SessionNotConfirmed = "session.not_confirmed", "session not confirmed";
        /// A course consent whose "still willing" answer came only after this recording started.
        ConfirmedAfterRecording = "session.confirmed_after_recording", "confirmed only after recording started";
        /// The person said they were not willing (or not sure) for this session.
        SessionNotWilling = "session.not_willing", "not willing to be recorded";
        /// The session was stopped with a choice that deletes this recording.
        DeletionRequested = "session.deletion_requested", "deletion requested";
        /// No record that meeting attendees were told about the recording.
        AttendeesNotInformed = "meeting.attendees_not_informed", "attendees not told";
        /// Teaching needs a de-identified copy.
        NeedsDeIdentifiedCopy = "teaching.needs_de_identified_copy", "de-identified copy needed";
        /// Research use must name its approved study.
        StudyNotNamed = "research.study_not_named", "study not named";
        /// No consent to this study.
        NoConsentForStudy = "research.no_consent_for_study", "no consent for this study";
        /// The recording did not yet exist at the time asked about.
        NotYetMade = "recording.not_yet_made", "recording not yet made";
        /// The recording was destroyed: nothing is left to use.
        Destroyed = "recording.destroyed", "recording destroyed";
    }
}

impl ReasonCode {
    /// The requirement this reason enforces.
    pub const fn requirement(self) -> Requirement {
        match self {
            Self::ConsentGiven | Self::ConsentMissing => Requirement::C1,
            Self::NotRequiredForMeeting | Self::ConsentMissingForPersonalMeeting => {
                Requirement::C12
            }
            Self::AttendeesNotInformed => Requirement::R5,
            Self::IdentificationExemptFromWithdrawal | Self::ConsentWithdrawn => Requirement::C8,
            Self::ChangeOfUse => Requirement::C6,
            Self::ConsentRefused => Requirement::C4,
            Self::FamilySessionRevoked | Self::GroupMemberWithdrawn => Requirement::C7,
            Self::SessionNotConfirmed | Self::ConfirmedAfterRecording | Self::SessionNotWilling => {
                Requirement::C5
            }
            Self::DeletionRequested => Requirement::C9,
            Self::NeedsDeIdentifiedCopy => Requirement::C11,
            Self::StudyNotNamed | Self::NoConsentForStudy => Requirement::C10,
            Self::NotYetMade => Requirement::R1,
            Self::Destroyed => Requirement::D9,
        }
    }

    /// Whether the reason supports or blocks the use.
    pub const fn effect(self) -> Effect {
        match self {
            Self::ConsentGiven
            | Self::NotRequiredForMeeting
            | Self::IdentificationExemptFromWithdrawal => Effect::Supports,
            _ => Effect::Blocks,
        }
    }
}

/// One reason, with the facts it rests on. Wording is produced separately (see `explain`), so
/// deciding allocates nothing but the list itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Reason {
    pub code: ReasonCode,
    /// The person the reason is about.
    pub person: Option<PersonId>,
    /// The consent it rests on (given, refused or withdrawn).
    pub consent: Option<ConsentId>,
    /// When the fact behind it happened (signature, withdrawal, stop, confirmation).
    #[serde(with = "time::serde::rfc3339::option")]
    pub since: Option<OffsetDateTime>,
    /// A derived copy that could be used instead.
    pub alternative: Option<RecordingId>,
    /// For a withdrawal, what the person chose for existing recordings.
    pub disposition: Option<Disposition>,
}

impl Reason {
    pub(crate) const fn new(code: ReasonCode) -> Self {
        Self {
            code,
            person: None,
            consent: None,
            since: None,
            alternative: None,
            disposition: None,
        }
    }

    pub(crate) const fn about(mut self, person: PersonId) -> Self {
        self.person = Some(person);
        self
    }

    pub(crate) const fn resting_on(mut self, consent: ConsentId) -> Self {
        self.consent = Some(consent);
        self
    }

    pub(crate) const fn since(mut self, at: OffsetDateTime) -> Self {
        self.since = Some(at);
        self
    }

    pub(crate) const fn instead(mut self, alternative: Option<RecordingId>) -> Self {
        self.alternative = alternative;
        self
    }

    pub(crate) const fn choosing(mut self, disposition: Disposition) -> Self {
        self.disposition = Some(disposition);
        self
    }

    /// The requirement this reason enforces.
    pub const fn requirement(&self) -> Requirement {
        self.code.requirement()
    }

    /// Whether it supports or blocks the use.
    pub const fn effect(&self) -> Effect {
        self.code.effect()
    }
}
