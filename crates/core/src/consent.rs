//! Consent forms (given or refused) and their withdrawal (C1–C4, C8, C10, C14).

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::clock::not_in_future;
use crate::error::DomainError;
use crate::ids::{
    ConsentId, CourseId, PersonId, RecordingId, RepresentativeId, SessionId, WithdrawalId,
};
use crate::person::{Capacity, Person, Representative};
use crate::purpose::{Purpose, PurposeSet};
use crate::signature::SignatureDrawing;
use crate::text::{Note, ServiceCode, ShortText};
use crate::vocabulary::vocabulary;

vocabulary! {
    /// What the person (or their representative) answered on the form.
    pub enum ConsentAnswer ("consent answer") {
        /// Consent was given for the purposes named.
        Given = "given", "given";
        /// Consent was refused for the purposes named (C4: refusal never affects care).
        Refused = "refused", "refused";
    }
}

/// The capacity decision recorded when a representative decides for a person (C3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CapacityDecision {
    /// When capacity was assessed.
    pub assessed_on: Date,
    /// Who assessed it (name and role).
    pub assessed_by: ShortText,
    /// What was decided and why the person cannot decide about recording themselves.
    pub decision: Note,
}

/// Who answered: the person, or a representative deciding in their best interests (C3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ConsentGiver {
    /// The person themselves.
    Person,
    /// A representative, for a person who lacks capacity.
    Representative {
        representative_id: RepresentativeId,
        capacity_decision: CapacityDecision,
        best_interest_note: Note,
    },
}

/// Which recordings a consent covers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Scope {
    /// On admission: every recording made by this service.
    Service { service: ServiceCode },
    /// A course of sessions; each session also needs a "still willing" confirmation (C5).
    Course { course_id: CourseId },
    /// One session or meeting.
    Session { session_id: SessionId },
    /// One recording (and copies derived from it).
    Recording { recording_id: RecordingId },
}

/// Where a recording sits, as far as a consent's scope can tell: its service, its session and
/// that session's course, and what it was derived from.
#[derive(Clone, Copy, Debug)]
pub struct RecordingPlace<'a> {
    pub recording: RecordingId,
    /// The service's code.
    pub service: &'a str,
    pub session_id: Option<SessionId>,
    pub course_id: Option<CourseId>,
    /// The source and original it was derived from, if it is a copy.
    pub derived_from: &'a [RecordingId],
}

impl Scope {
    /// Whether a consent with this scope, and so its withdrawal, reaches the recording at
    /// `place` (C8): a withdrawal ends only the consent it withdraws.
    pub fn reaches(&self, place: &RecordingPlace<'_>) -> bool {
        match self {
            Scope::Service { service } => service.as_str() == place.service,
            Scope::Course { course_id } => place.course_id == Some(*course_id),
            Scope::Session { session_id } => place.session_id == Some(*session_id),
            Scope::Recording { recording_id } => {
                place.recording == *recording_id || place.derived_from.contains(recording_id)
            }
        }
    }
}

vocabulary! {
    /// How the form was signed.
    pub enum SignatureMethod ("signature method") {
        /// Drawn on a screen with a finger, stylus or mouse.
        Drawn = "drawn", "drawn signature";
        /// The person typed their name, with a member of staff as witness (no dragging needed).
        TypedWithWitness = "typed_with_witness", "typed name with a witness";
        /// Signed on a paper form that is kept on file.
        Paper = "paper", "signed paper form";
    }
}

/// The signature on the form (C2): who signed, how, and any witness.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Signature {
    pub method: SignatureMethod,
    /// The name of whoever signed, as they wrote it.
    pub signed_by: ShortText,
    /// The witness, required for a typed name.
    pub witness: Option<ShortText>,
    /// The strokes, required for (and only for) a drawn signature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "10,150 40,60 80,150;120,100 160,100"))]
    pub drawing: Option<SignatureDrawing>,
}

/// A research ethics committee approval reference, compared without regard to case or spacing.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, example = "23/NE/0123"))]
#[serde(transparent)]
pub struct EthicsReference(String);

impl EthicsReference {
    /// Parses a reference such as `23/NE/0123` or `IRAS 312345`.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let text = ShortText::parse("ethics_reference", input)?;
        Ok(Self(text.as_str().to_ascii_uppercase()))
    }

    /// The reference itself.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The study a research consent is for, with its ethics approval (C10).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResearchApproval {
    pub study: ShortText,
    pub ethics_reference: EthicsReference,
}

/// A consent form as completed: the answer for each purpose, who gave it, what it covers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Consent {
    pub id: ConsentId,
    pub person_id: PersonId,
    pub answer: ConsentAnswer,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Purpose>))]
    pub purposes: PurposeSet,
    pub given_by: ConsentGiver,
    pub scope: Scope,
    /// When the form was signed; consent counts from then.
    #[serde(with = "time::serde::rfc3339")]
    pub signed_at: OffsetDateTime,
    pub signature: Signature,
    /// Whether representatives may have copies of the recordings (C14).
    pub representatives_may_have_copies: bool,
    /// The study and ethics approval, required with the research purpose (C10).
    pub research: Option<ResearchApproval>,
    pub notes: Option<Note>,
}

/// A consent form as entered, before it is checked against the person and the rules.
#[derive(Clone, Debug)]
pub struct ConsentForm {
    pub answer: ConsentAnswer,
    pub purposes: PurposeSet,
    pub given_by: ConsentGiver,
    pub scope: Scope,
    pub signed_at: OffsetDateTime,
    pub signature: Signature,
    pub representatives_may_have_copies: bool,
    pub research: Option<ResearchApproval>,
    /// Confirms the person was told that refusing does not affect their care (C4).
    pub told_refusal_does_not_affect_care: bool,
    pub notes: Option<Note>,
}

impl Signature {
    /// Checks the signature is whole (C2): a typed name needs its witness; a drawn signature
    /// needs its strokes, and only it has them.
    pub fn check(&self) -> Result<(), DomainError> {
        match (self.method, &self.drawing) {
            (SignatureMethod::TypedWithWitness, _) if self.witness.is_none() => {
                Err(DomainError::WitnessMissing)
            }
            (SignatureMethod::Drawn, None) => Err(DomainError::DrawingMissing),
            (SignatureMethod::TypedWithWitness | SignatureMethod::Paper, Some(_)) => {
                Err(DomainError::BadFormat {
                    field: "signature.drawing",
                    expected: "a drawing only with the `drawn` method",
                })
            }
            _ => Ok(()),
        }
    }
}

impl Consent {
    /// Checks a form against the person it is for and, when a representative answered, that
    /// representative. `now` is the server's time.
    pub fn new(
        id: ConsentId,
        person: &Person,
        representative: Option<&Representative>,
        form: ConsentForm,
        now: OffsetDateTime,
    ) -> Result<Self, DomainError> {
        if form.purposes.is_empty() {
            return Err(DomainError::NoPurposes);
        }
        if !form.told_refusal_does_not_affect_care {
            return Err(DomainError::RefusalNotExplained);
        }
        let signed_at = not_in_future("signed_at", crate::clock::normalise(form.signed_at), now)?;
        check_giver(person, representative, &form.given_by, form.answer)?;
        form.signature.check()?;
        let research_named = form.purposes.contains(Purpose::Research);
        match (research_named, &form.research, form.answer) {
            (true, None, ConsentAnswer::Given) => {
                return Err(DomainError::ResearchWithoutEthicsApproval);
            }
            (false, Some(_), _) => return Err(DomainError::EthicsApprovalWithoutResearch),
            _ => {}
        }
        Ok(Self {
            id,
            person_id: person.id,
            answer: form.answer,
            purposes: form.purposes,
            given_by: form.given_by,
            scope: form.scope,
            signed_at,
            signature: form.signature,
            representatives_may_have_copies: form.representatives_may_have_copies,
            research: form.research,
            notes: form.notes,
        })
    }

    /// The representative who answered, if one did.
    pub fn representative_id(&self) -> Option<RepresentativeId> {
        match &self.given_by {
            ConsentGiver::Person => None,
            ConsentGiver::Representative {
                representative_id, ..
            } => Some(*representative_id),
        }
    }
}

/// The terms of a consent that decisions read, without the form's signature and notes: compact,
/// because the decision function scans every consent of every subject.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsentTerms {
    pub id: ConsentId,
    pub answer: ConsentAnswer,
    pub purposes: PurposeSet,
    pub signed_at: OffsetDateTime,
    pub scope: Scope,
    /// The ethics approval of the study a research consent is for (C10).
    pub ethics_reference: Option<EthicsReference>,
    /// Whether a representative answered for the person (C3).
    pub by_representative: bool,
}

impl From<&Consent> for ConsentTerms {
    fn from(consent: &Consent) -> Self {
        Self {
            id: consent.id,
            answer: consent.answer,
            purposes: consent.purposes,
            signed_at: consent.signed_at,
            scope: consent.scope.clone(),
            ethics_reference: consent
                .research
                .as_ref()
                .map(|r| r.ethics_reference.clone()),
            by_representative: consent.representative_id().is_some(),
        }
    }
}

/// C3: a person with capacity answers for themselves; for a person without, a representative of
/// theirs answers with a capacity decision and best-interest note. Anyone's refusal is accepted,
/// because recording a "no" can only narrow what is allowed (C4).
fn check_giver(
    person: &Person,
    representative: Option<&Representative>,
    giver: &ConsentGiver,
    answer: ConsentAnswer,
) -> Result<(), DomainError> {
    match giver {
        ConsentGiver::Person => {
            if answer == ConsentAnswer::Given && person.capacity == Capacity::LacksCapacity {
                return Err(DomainError::SelfConsentWithoutCapacity);
            }
        }
        ConsentGiver::Representative {
            representative_id, ..
        } => {
            if answer == ConsentAnswer::Given && person.capacity == Capacity::HasCapacity {
                return Err(DomainError::RepresentativeForPersonWithCapacity);
            }
            match representative {
                Some(rep) if rep.id == *representative_id && rep.person_id == person.id => {}
                _ => return Err(DomainError::RepresentativeOfAnotherPerson),
            }
        }
    }
    Ok(())
}

vocabulary! {
    /// What happens to existing recordings when consent is withdrawn (C8).
    pub enum Disposition ("disposition") {
        /// The recordings are destroyed.
        Destroy = "destroy", "destroy the recordings";
        /// The recordings are handed to the person; the organisation's responsibility ends (H2).
        HandOver = "hand_over", "hand the recordings over to the person";
    }
}

/// Who withdrew consent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Withdrawer {
    /// The person themselves, and whether they had capacity at the time (C7 counts only
    /// withdrawals by family members with capacity as revoking the whole session).
    Person { had_capacity: bool },
    /// A representative of the person.
    Representative { representative_id: RepresentativeId },
}

impl Withdrawer {
    /// Whether this withdrawal revokes a whole family session (C7): it must come from a member
    /// with capacity, or from the representative who decides for a member without.
    pub const fn revokes_family_session(&self) -> bool {
        match self {
            Self::Person { had_capacity } => *had_capacity,
            Self::Representative { .. } => true,
        }
    }
}

/// A withdrawal of consent (C8), for all the consent's purposes or some of them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Withdrawal {
    pub id: WithdrawalId,
    pub consent_id: ConsentId,
    pub person_id: PersonId,
    /// When the person withdrew.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The purposes withdrawn.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Purpose>))]
    pub purposes: PurposeSet,
    pub withdrawn_by: Withdrawer,
    /// What the person chose for recordings already made.
    pub existing_recordings: Disposition,
    pub note: Option<Note>,
}

/// A withdrawal as entered.
#[derive(Clone, Debug)]
pub struct WithdrawalForm {
    pub at: OffsetDateTime,
    /// The purposes to withdraw; none means every purpose of the consent.
    pub purposes: PurposeSet,
    pub withdrawn_by: Withdrawer,
    pub existing_recordings: Disposition,
    pub note: Option<Note>,
}

impl Withdrawal {
    /// Checks a withdrawal against the consent it withdraws.
    pub fn new(
        id: WithdrawalId,
        consent: &Consent,
        representative: Option<&Representative>,
        form: WithdrawalForm,
        now: OffsetDateTime,
    ) -> Result<Self, DomainError> {
        if consent.answer != ConsentAnswer::Given {
            return Err(DomainError::WithdrawingARefusal);
        }
        let at = not_in_future("at", crate::clock::normalise(form.at), now)?;
        if at < consent.signed_at {
            return Err(DomainError::WithdrawalBeforeConsent {
                at: crate::clock::Shown(at),
                signed_at: crate::clock::Shown(consent.signed_at),
            });
        }
        let purposes = if form.purposes.is_empty() {
            consent.purposes
        } else {
            form.purposes
        };
        if let Some(uncovered) = purposes.iter().find(|p| !consent.purposes.contains(*p)) {
            return Err(DomainError::WithdrawalOfUncoveredPurpose {
                purpose: uncovered.as_str(),
            });
        }
        if let Withdrawer::Representative { representative_id } = &form.withdrawn_by {
            match representative {
                Some(rep) if rep.id == *representative_id && rep.person_id == consent.person_id => {
                }
                _ => return Err(DomainError::RepresentativeOfAnotherPerson),
            }
        }
        Ok(Self {
            id,
            consent_id: consent.id,
            person_id: consent.person_id,
            at,
            purposes,
            withdrawn_by: form.withdrawn_by,
            existing_recordings: form.existing_recordings,
            note: form.note,
        })
    }
}
