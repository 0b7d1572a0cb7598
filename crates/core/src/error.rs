//! The one error type of the core: input that cannot become a valid domain value, or an act the rules forbid.

use crate::clock::Shown;

use crate::ids::PersonId;
use crate::requirement::Requirement;
use crate::retention::Held;

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

    #[error("{field} contains {}, which is not allowed here; {allowed}", shown(*.character))]
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

    #[error(
        "retention rule `{rule}`: the period must not be negative ({years} years, {months} months, {days} days); use 0 to act as soon as the trigger happens"
    )]
    NegativeRetentionPeriod {
        rule: String,
        years: i64,
        months: i64,
        days: i64,
    },

    #[error(
        "retention rule `{rule}`: a period of {years} years, {months} months and {days} days is longer than {max_years} years, which no record needs; check the units"
    )]
    AbsurdRetentionPeriod {
        rule: String,
        years: i64,
        months: i64,
        days: i64,
        max_years: u16,
    },

    #[error("retention rule `{rule}` appears more than once; each rule needs its own id")]
    DuplicateRetentionRule { rule: String },

    #[error(
        "retention rule `{rule}` names no record category and no purpose; name what it applies to"
    )]
    RetentionRuleAppliesToNothing { rule: String },

    #[error(
        "retention rule `{rule}` may not use the action `hand_over`: handing over is the person's own choice on withdrawal (C8); use review, destroy or transfer_to_archive"
    )]
    HandOverInRetentionRule { rule: String },

    #[error(
        "no retention rule applies to {what} `{value}`, so its recordings would never come up for review; add a rule for it"
    )]
    RetentionGap {
        what: &'static str,
        value: &'static str,
    },

    #[error("there is no retention rule `{rule}`; use one of: {known}")]
    UnknownRetentionRule { rule: String, known: String },

    #[error(
        "a legal hold must name its matter with a reference (a claim, complaint, inquiry, court or police reference)"
    )]
    HoldWithoutMatter,

    #[error("a legal hold must cover at least one recording or one person")]
    HoldCoversNothing,

    #[error("this legal hold was already lifted on {lifted_at}")]
    HoldAlreadyLifted { lifted_at: Shown },

    #[error("a legal hold cannot be lifted at {at}, before it was placed at {placed_at}")]
    HoldLiftedBeforePlaced { at: Shown, placed_at: Shown },

    #[error(transparent)]
    UnderLegalHold(Held),

    #[error(
        "a medium of kind `other` needs a description saying what it is (for example `SD card`)"
    )]
    MediumWithoutDescription,

    #[error(
        "the medium `{label}` was already recorded as {method} on {at}; a medium is destroyed once"
    )]
    MediumAlreadyDestroyed {
        label: String,
        method: &'static str,
        at: Shown,
    },

    #[error(
        "a {kind} cannot be {method}: what cannot be erased must be physically destroyed (policy 001 §6.3); use one of: {fitting}"
    )]
    MethodUnfitForMedium {
        kind: &'static str,
        method: &'static str,
        fitting: String,
    },

    #[error(
        "the witness must be someone other than the person who destroyed the medium; name who saw it done, or leave the witness out"
    )]
    WitnessIsDestroyer,

    #[error(
        "the medium `{label}` holds recordings under legal hold ({}) and cannot be destroyed; keep it until each hold is lifted", held.matters()
    )]
    MediumUnderLegalHold { label: String, held: Held },

    #[error(
        "the clock reads {now}, earlier than the last sweep at {last_sweep}; nothing was done: correct the server's clock, then sweep again"
    )]
    ClockWentBackwards { last_sweep: Shown, now: Shown },

    #[error("this recording is not due for disposal until {due}; it can be approved from then")]
    NotYetDue { due: time::Date },

    #[error("this recording is waiting for {waiting_for} and is not due for disposal yet")]
    DisposalWaiting { waiting_for: String },

    #[error(
        "an extension must move the date later: it is due on {due}, and {until} is not after that"
    )]
    ExtensionNotLater { due: time::Date, until: time::Date },
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
            Self::UnknownValue { what, .. } if *what == "retention trigger" => {
                "retention.unknown_trigger"
            }
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
            Self::NegativeRetentionPeriod { .. } => "retention.negative_period",
            Self::AbsurdRetentionPeriod { .. } => "retention.absurd_period",
            Self::DuplicateRetentionRule { .. } => "retention.duplicate_rule",
            Self::RetentionRuleAppliesToNothing { .. } => "retention.rule_applies_to_nothing",
            Self::HandOverInRetentionRule { .. } => "retention.hand_over_in_rule",
            Self::RetentionGap { .. } => "retention.gap",
            Self::UnknownRetentionRule { .. } => "retention.unknown_rule",
            Self::HoldWithoutMatter => "hold.without_matter",
            Self::HoldCoversNothing => "hold.covers_nothing",
            Self::HoldAlreadyLifted { .. } => "hold.already_lifted",
            Self::HoldLiftedBeforePlaced { .. } => "hold.lifted_before_placed",
            Self::UnderLegalHold(held) => held.code(),
            Self::MediumWithoutDescription => "physical_media.description_missing",
            Self::MediumAlreadyDestroyed { .. } => "physical_media.already_destroyed",
            Self::MethodUnfitForMedium { .. } => "physical_media.method_unfit",
            Self::WitnessIsDestroyer => "physical_media.witness_is_destroyer",
            Self::MediumUnderLegalHold { held, .. } => held.code(),
            Self::ClockWentBackwards { .. } => "retention.clock_went_backwards",
            Self::NotYetDue { .. } => "disposal.not_yet_due",
            Self::DisposalWaiting { .. } => "disposal.waiting_for_trigger",
            Self::ExtensionNotLater { .. } => "disposal.extension_not_later",
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
            Self::UnknownValue { what, .. } if *what == "retention trigger" => {
                Some(Requirement::D4)
            }
            Self::NegativeRetentionPeriod { .. }
            | Self::AbsurdRetentionPeriod { .. }
            | Self::DuplicateRetentionRule { .. }
            | Self::RetentionRuleAppliesToNothing { .. }
            | Self::UnknownRetentionRule { .. } => Some(Requirement::D4),
            Self::HandOverInRetentionRule { .. } => Some(Requirement::C8),
            Self::RetentionGap { .. }
            | Self::ClockWentBackwards { .. }
            | Self::NotYetDue { .. }
            | Self::DisposalWaiting { .. }
            | Self::ExtensionNotLater { .. } => Some(Requirement::D2),
            Self::HoldWithoutMatter
            | Self::HoldCoversNothing
            | Self::HoldAlreadyLifted { .. }
            | Self::HoldLiftedBeforePlaced { .. }
            | Self::UnderLegalHold(_)
            | Self::MediumUnderLegalHold { .. } => Some(Requirement::D7),
            Self::MediumWithoutDescription
            | Self::MediumAlreadyDestroyed { .. }
            | Self::MethodUnfitForMedium { .. }
            | Self::WitnessIsDestroyer => Some(Requirement::D9),
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
            Self::UnknownValue { what, .. } if *what == "retention trigger" => Some("trigger"),
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
            Self::NegativeRetentionPeriod { .. } | Self::AbsurdRetentionPeriod { .. } => {
                Some("period")
            }
            Self::DuplicateRetentionRule { .. } | Self::UnknownRetentionRule { .. } => Some("id"),
            Self::RetentionRuleAppliesToNothing { .. } => Some("purposes"),
            Self::HandOverInRetentionRule { .. } => Some("action"),
            Self::RetentionGap { .. } => Some("rules"),
            Self::HoldWithoutMatter => Some("matter.reference"),
            Self::HoldCoversNothing => Some("covers"),
            Self::HoldAlreadyLifted { .. } | Self::HoldLiftedBeforePlaced { .. } => {
                Some("lifted_at")
            }
            Self::ExtensionNotLater { .. } => Some("until"),
            Self::MediumWithoutDescription => Some("description"),
            Self::MethodUnfitForMedium { .. } => Some("method"),
            Self::WitnessIsDestroyer => Some("witness"),
            Self::MediumAlreadyDestroyed { .. } | Self::MediumUnderLegalHold { .. } => None,
            Self::UnderLegalHold(_)
            | Self::ClockWentBackwards { .. }
            | Self::NotYetDue { .. }
            | Self::DisposalWaiting { .. } => None,
        }
    }
}

/// A character as an error message shows it: invisible ones by their code point.
fn shown(character: char) -> String {
    if character.is_control()
        || character.is_whitespace()
        || crate::text::is_invisible_format(character)
    {
        format!("the invisible character U+{:04X}", u32::from(character))
    } else {
        format!("`{character}`")
    }
}
