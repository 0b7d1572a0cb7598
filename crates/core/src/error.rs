//! The one error type of the core: input that cannot become a valid domain value, or an act the rules forbid.

use crate::clock::Shown;

use crate::ids::PersonId;
use crate::requirement::Requirement;

/// Why a value or an act was refused by the domain. Each variant has a stable code, names the
/// field or rule it concerns, and says in its message what would be accepted instead.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("{field} must not be empty")]
    Empty { field: &'static str },

    #[error("{field} is too long: at most {max} characters are allowed")]
    TooLong { field: &'static str, max: usize },

    #[error("{field} is not in the expected form: {expected}")]
    BadFormat {
        field: &'static str,
        expected: &'static str,
    },

    #[error("{field} is too short: at least {min} characters are needed")]
    TooShort { field: &'static str, min: usize },

    #[error("{field} contains `{character}`, which is not allowed here; {allowed}")]
    BadCharacter {
        field: &'static str,
        character: char,
        allowed: &'static str,
    },

    #[error("`{input}` is not a valid NHS number: {problem}")]
    InvalidNhsNumber {
        input: String,
        problem: &'static str,
    },

    #[error("`{input}` is not a known {what}; use one of: {known}")]
    UnknownValue {
        what: &'static str,
        input: String,
        known: String,
    },

    #[error("{field} ({value}) is in the future; it must be at or before {now}")]
    InTheFuture {
        field: &'static str,
        value: Shown,
        now: Shown,
    },

    #[error("date of birth {date} is not plausible: it must be in the past and within 130 years")]
    ImplausibleDateOfBirth { date: time::Date },

    #[error("a consent must name at least one purpose")]
    NoPurposes,

    #[error(
        "the person must be told that refusing does not affect their care before they answer; confirm it was explained"
    )]
    RefusalNotExplained,

    #[error(
        "the person has capacity, so they must give or refuse consent themselves; a representative may decide only for a person who lacks capacity"
    )]
    RepresentativeForPersonWithCapacity,

    #[error(
        "the person lacks capacity, so consent must come from a representative with the capacity decision and a best-interest note"
    )]
    SelfConsentWithoutCapacity,

    #[error("the representative does not act for this person")]
    RepresentativeOfAnotherPerson,

    #[error(
        "research consent needs the study name and its ethics approval reference (for example `23/NE/0123`)"
    )]
    ResearchWithoutEthicsApproval,

    #[error("a study and ethics approval reference may only be given with the research purpose")]
    EthicsApprovalWithoutResearch,

    #[error("the withdrawal is dated {at}, before the consent was signed on {signed_at}")]
    WithdrawalBeforeConsent { at: Shown, signed_at: Shown },

    #[error("only a consent that was given can be withdrawn; this one records a refusal")]
    WithdrawingARefusal,

    #[error("the withdrawal names `{purpose}`, which this consent does not cover")]
    WithdrawalOfUncoveredPurpose { purpose: &'static str },

    #[error("person {person} is not a participant in this session; add them to the session first")]
    NotAParticipant { person: PersonId },

    #[error("a {kind} session needs at least {min} participant(s)")]
    TooFewParticipants { kind: &'static str, min: usize },

    #[error("person {person} is listed more than once")]
    DuplicatePerson { person: PersonId },

    #[error(
        "a personal staff meeting must say which kind it is (one-to-one, appraisal, sickness, capability or disciplinary)"
    )]
    PersonalMeetingKindMissing,

    #[error("only a personal staff meeting has a personal meeting kind")]
    PersonalMeetingKindNotAllowed,

    #[error("a recording must have at least one subject")]
    NoSubjects,

    #[error("a recording must be made for at least one purpose")]
    NoRecordingPurposes,

    #[error("the witness's name is needed when the person types their name instead of signing")]
    WitnessMissing,

    #[error(
        "a drawn signature needs the drawing itself; draw it again, or use a typed name with a witness"
    )]
    DrawingMissing,

    #[error(
        "person {person} is not a subject of the source recording, so cannot be removed from it"
    )]
    NotASubject { person: PersonId },

    #[error("a redaction must remove at least one person or be de-identified")]
    RedactionRemovesNobody,

    #[error("the event is dated {at}, before the session started at {starts_at}")]
    BeforeSessionStart { at: Shown, starts_at: Shown },
}

impl DomainError {
    /// A stable, machine-readable code for clients (never reworded once published).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Empty { .. } => "input.empty",
            Self::TooLong { .. } => "input.too_long",
            Self::TooShort { .. } => "input.too_short",
            Self::BadFormat { .. } => "input.bad_format",
            Self::BadCharacter { .. } => "input.bad_character",
            Self::InvalidNhsNumber { .. } => "person.invalid_nhs_number",
            Self::UnknownValue { what, .. } if *what == "purpose" => "consent.unknown_purpose",
            Self::UnknownValue { .. } => "input.unknown_value",
            Self::InTheFuture { .. } => "input.in_the_future",
            Self::ImplausibleDateOfBirth { .. } => "person.implausible_date_of_birth",
            Self::NoPurposes => "consent.no_purposes",
            Self::RefusalNotExplained => "consent.refusal_not_explained",
            Self::RepresentativeForPersonWithCapacity => {
                "consent.representative_for_capable_person"
            }
            Self::SelfConsentWithoutCapacity => "consent.person_lacks_capacity",
            Self::RepresentativeOfAnotherPerson => "consent.representative_of_another_person",
            Self::ResearchWithoutEthicsApproval => "consent.research_without_ethics_approval",
            Self::EthicsApprovalWithoutResearch => "consent.ethics_approval_without_research",
            Self::WithdrawalBeforeConsent { .. } => "withdrawal.before_consent",
            Self::WithdrawingARefusal => "withdrawal.of_refusal",
            Self::WithdrawalOfUncoveredPurpose { .. } => "withdrawal.uncovered_purpose",
            Self::NotAParticipant { .. } => "session.not_a_participant",
            Self::TooFewParticipants { .. } => "session.too_few_participants",
            Self::DuplicatePerson { .. } => "input.duplicate_person",
            Self::PersonalMeetingKindMissing => "session.personal_meeting_kind_missing",
            Self::PersonalMeetingKindNotAllowed => "session.personal_meeting_kind_not_allowed",
            Self::NoSubjects => "recording.no_subjects",
            Self::NoRecordingPurposes => "recording.no_purposes",
            Self::WitnessMissing => "consent.witness_missing",
            Self::DrawingMissing => "consent.drawing_missing",
            Self::RedactionRemovesNobody => "recording.redaction_removes_nobody",
            Self::NotASubject { .. } => "recording.not_a_subject",
            Self::BeforeSessionStart { .. } => "session.before_start",
        }
    }

    /// The requirement the refusal enforces, where it enforces one rather than plain well-formedness.
    pub fn requirement(&self) -> Option<Requirement> {
        match self {
            Self::UnknownValue { what, .. } if *what == "purpose" => Some(Requirement::C1),
            Self::NoPurposes => Some(Requirement::C1),
            Self::RefusalNotExplained => Some(Requirement::C4),
            Self::RepresentativeForPersonWithCapacity
            | Self::SelfConsentWithoutCapacity
            | Self::RepresentativeOfAnotherPerson => Some(Requirement::C3),
            Self::ResearchWithoutEthicsApproval | Self::EthicsApprovalWithoutResearch => {
                Some(Requirement::C10)
            }
            Self::WithdrawalBeforeConsent { .. }
            | Self::WithdrawingARefusal
            | Self::WithdrawalOfUncoveredPurpose { .. } => Some(Requirement::C8),
            Self::NotAParticipant { .. } => Some(Requirement::C5),
            Self::PersonalMeetingKindMissing | Self::PersonalMeetingKindNotAllowed => {
                Some(Requirement::C12)
            }
            Self::NoSubjects | Self::NoRecordingPurposes => Some(Requirement::R1),
            Self::RedactionRemovesNobody | Self::NotASubject { .. } => Some(Requirement::R6),
            Self::WitnessMissing | Self::DrawingMissing => Some(Requirement::C2),
            _ => None,
        }
    }

    /// The input field the refusal concerns, when there is one.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Self::Empty { field }
            | Self::TooLong { field, .. }
            | Self::TooShort { field, .. }
            | Self::BadFormat { field, .. }
            | Self::BadCharacter { field, .. }
            | Self::InTheFuture { field, .. } => Some(field),
            Self::InvalidNhsNumber { .. } => Some("nhs_number"),
            Self::NoPurposes => Some("purposes"),
            Self::RefusalNotExplained => Some("told_refusal_does_not_affect_care"),
            Self::UnknownValue { what, .. } if *what == "purpose" => Some("purposes"),
            Self::UnknownValue { what, .. } => Some(what),
            Self::ImplausibleDateOfBirth { .. } => Some("date_of_birth"),
            Self::ResearchWithoutEthicsApproval | Self::EthicsApprovalWithoutResearch => {
                Some("research")
            }
            Self::WithdrawalBeforeConsent { .. } => Some("at"),
            Self::WithdrawalOfUncoveredPurpose { .. } => Some("purposes"),
            Self::NotAParticipant { .. } => Some("person_id"),
            Self::TooFewParticipants { .. } | Self::DuplicatePerson { .. } => Some("participants"),
            Self::PersonalMeetingKindMissing | Self::PersonalMeetingKindNotAllowed => {
                Some("personal_meeting_kind")
            }
            Self::NoSubjects => Some("subjects"),
            Self::NotASubject { .. } => Some("derivation.removed_persons"),
            Self::NoRecordingPurposes => Some("purposes"),
            Self::WitnessMissing => Some("signature.witness"),
            Self::DrawingMissing => Some("signature.drawing"),
            Self::RedactionRemovesNobody => Some("derivation.removed_persons"),
            Self::RepresentativeForPersonWithCapacity
            | Self::SelfConsentWithoutCapacity
            | Self::RepresentativeOfAnotherPerson => Some("given_by"),
            Self::WithdrawingARefusal => None,
            Self::BeforeSessionStart { .. } => Some("at"),
        }
    }
}
