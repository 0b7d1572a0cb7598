//! Builders for decision scenarios in tests and benchmarks, named after the people in them.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::consent::{
    CapacityDecision, Consent, ConsentAnswer, ConsentGiver, ConsentTerms, Disposition,
    EthicsReference, ResearchApproval, Scope, Signature, SignatureMethod, Withdrawal, Withdrawer,
};
use crate::decision::{PersonEvidence, RecordingEvidence, Requester, SessionEvidence};
use crate::ids::{
    ConfirmationId, ConsentId, CourseId, PersonId, RecordingId, RepresentativeId, SessionId,
    StaffId, StopId, WithdrawalId,
};
use crate::person::PersonName;
use crate::purpose::{Purpose, PurposeSet};
use crate::recording::{Derivation, DerivationKind, Recording, RecordingKind};
use crate::session::{Confirmation, Confirmer, Session, SessionKind, Stop, StopChoice};
use crate::text::{Note, ServiceCode, ShortText};

/// The service every scenario happens in.
pub const SERVICE: &str = "CAMHS-NORTH";

/// A moment `minutes` after 09:00 UTC on 2 March 2026, the scenarios' day.
pub fn at(minutes: i64) -> OffsetDateTime {
    time::macros::datetime!(2026-03-02 09:00 UTC) + Duration::minutes(minutes)
}

/// A member of staff asking a question.
pub fn requester() -> Requester {
    Requester {
        staff_id: StaffId::from_uuid(Uuid::from_u128(0xA11)),
        study: None,
    }
}

/// A member of staff asking for research in `study`.
pub fn researcher(study: &str) -> Requester {
    Requester {
        study: Some(EthicsReference::parse(study).unwrap()),
        ..requester()
    }
}

/// Which recordings a scenario consent covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Covering {
    /// Everything the service records (consent on admission).
    Service,
    /// The course the session belongs to.
    Course,
    /// The session.
    Session,
    /// The recording.
    Recording,
}

/// Builds the evidence about one recording, step by step, as a story.
#[derive(Clone, Debug)]
pub struct Story {
    evidence: RecordingEvidence,
    next_id: u128,
}

impl Story {
    /// A recording of the named people (given names) made at 60 minutes for `purposes`, outside any session.
    pub fn recording(people: &[&str], purposes: &[Purpose]) -> Self {
        let mut story = Self {
            evidence: RecordingEvidence {
                recording: Recording {
                    id: RecordingId::from_uuid(Uuid::from_u128(1)),
                    kind: RecordingKind::Video,
                    service: ServiceCode::parse(SERVICE).unwrap(),
                    session_id: None,
                    subjects: Vec::new(),
                    purposes: purposes.iter().copied().collect(),
                    made_by: StaffId::from_uuid(Uuid::from_u128(0xA11)),
                    device: ShortText::parse("device", "TAB-0042").unwrap(),
                    made_at: at(60),
                    captured_at: at(60),
                    location: ShortText::parse("location", "Therapy room 2").unwrap(),
                    derivation: None,
                },
                session: None,
                people: Vec::new(),
                derivatives: Vec::new(),
                destroyed_at: None,
            },
            next_id: 100,
        };
        for name in people {
            let id = story.add_person(name);
            story.evidence.recording.subjects.push(id);
        }
        story.evidence.recording.subjects.sort_unstable();
        story
    }

    fn fresh(&mut self) -> Uuid {
        self.next_id += 1;
        Uuid::from_u128(self.next_id)
    }

    fn add_person(&mut self, given: &str) -> PersonId {
        let id = PersonId::from_uuid(self.fresh());
        self.evidence.people.push(PersonEvidence::new(
            id,
            PersonName::parse(given, "Testperson").unwrap(),
            Vec::new(),
            Vec::new(),
        ));
        id
    }

    /// Adds someone who is neither in the recording nor in its session.
    pub fn bystander(&mut self, given: &str) -> PersonId {
        self.add_person(given)
    }

    /// The person with this given name.
    pub fn person(&self, given: &str) -> PersonId {
        self.evidence
            .people
            .iter()
            .find(|p| p.name.given == given)
            .unwrap_or_else(|| panic!("no person called {given}"))
            .person_id
    }

    /// Puts the recording in a session of `kind` that started at 50 minutes, whose participants
    /// are the subjects and `others` (people taking part but not in this recording).
    pub fn in_session(mut self, kind: SessionKind, others: &[&str]) -> Self {
        let mut participants = self.evidence.recording.subjects.clone();
        for name in others {
            participants.push(self.add_person(name));
        }
        participants.sort_unstable();
        let id = SessionId::from_uuid(self.fresh());
        self.evidence.recording.session_id = Some(id);
        self.evidence.session = Some(SessionEvidence::new(
            Session {
                id,
                kind,
                personal_meeting_kind: (kind == SessionKind::PersonalStaffMeeting)
                    .then_some(crate::session::PersonalMeetingKind::Appraisal),
                service: ServiceCode::parse(SERVICE).unwrap(),
                course_id: None,
                title: ShortText::parse("title", "Session").unwrap(),
                starts_at: at(50),
                participants,
                attendees_informed_at: None,
            },
            Vec::new(),
            Vec::new(),
        ));
        self
    }

    /// Makes the session part of a course of sessions.
    pub fn in_course(mut self) -> Self {
        let id = CourseId::from_uuid(self.fresh());
        self.session_mut().session.course_id = Some(id);
        self
    }

    /// Records that meeting attendees were told at `minutes`.
    pub fn attendees_informed(mut self, minutes: i64) -> Self {
        self.session_mut().session.attendees_informed_at = Some(at(minutes));
        self
    }

    fn session_mut(&mut self) -> &mut SessionEvidence {
        self.evidence
            .session
            .as_mut()
            .expect("the story has no session")
    }

    fn scope(&self, covering: Covering) -> Scope {
        let session = self.evidence.session.as_ref().map(|s| &s.session);
        match covering {
            Covering::Service => Scope::Service {
                service: ServiceCode::parse(SERVICE).unwrap(),
            },
            Covering::Course => Scope::Course {
                course_id: session.and_then(|s| s.course_id).expect("no course"),
            },
            Covering::Session => Scope::Session {
                session_id: session.expect("no session").id,
            },
            Covering::Recording => Scope::Recording {
                recording_id: self.evidence.recording.id,
            },
        }
    }

    fn answer(
        &mut self,
        who: &str,
        answer: ConsentAnswer,
        purposes: &[Purpose],
        covering: Covering,
        minutes: i64,
        giver: ConsentGiver,
    ) -> ConsentId {
        let id = ConsentId::from_uuid(self.fresh());
        let person = self.person(who);
        let purposes: PurposeSet = purposes.iter().copied().collect();
        let consent = Consent {
            id,
            person_id: person,
            answer,
            purposes,
            given_by: giver,
            scope: self.scope(covering),
            signed_at: at(minutes),
            signature: Signature {
                method: SignatureMethod::Drawn,
                signed_by: ShortText::parse("signed_by", who).unwrap(),
                witness: None,
                drawing: Some(
                    crate::signature::SignatureDrawing::parse("10,150 40,60 80,150").unwrap(),
                ),
            },
            representatives_may_have_copies: false,
            research: purposes
                .contains(Purpose::Research)
                .then(|| ResearchApproval {
                    study: ShortText::parse("study", "Family therapy outcomes").unwrap(),
                    ethics_reference: EthicsReference::parse("23/NE/0123").unwrap(),
                }),
            notes: None,
        };
        self.people_mut(person)
            .add_consent(ConsentTerms::from(&consent));
        id
    }

    fn people_mut(&mut self, person: PersonId) -> &mut PersonEvidence {
        self.evidence
            .people
            .iter_mut()
            .find(|p| p.person_id == person)
            .unwrap()
    }

    /// `who` consents themselves to `purposes` at `minutes`.
    pub fn consents(
        &mut self,
        who: &str,
        purposes: &[Purpose],
        covering: Covering,
        minutes: i64,
    ) -> ConsentId {
        self.answer(
            who,
            ConsentAnswer::Given,
            purposes,
            covering,
            minutes,
            ConsentGiver::Person,
        )
    }

    /// `who`'s representative consents for them at `minutes` (C3).
    pub fn representative_consents(
        &mut self,
        who: &str,
        purposes: &[Purpose],
        covering: Covering,
        minutes: i64,
    ) -> ConsentId {
        let giver = ConsentGiver::Representative {
            representative_id: RepresentativeId::from_uuid(self.fresh()),
            capacity_decision: CapacityDecision {
                assessed_on: at(0).date(),
                assessed_by: ShortText::parse("assessed_by", "Dr R. Assessor").unwrap(),
                decision: Note::parse(
                    "decision",
                    "Cannot retain the information needed to decide.",
                )
                .unwrap(),
            },
            best_interest_note: Note::parse(
                "best_interest_note",
                "Recording helps the team see progress.",
            )
            .unwrap(),
        };
        self.answer(
            who,
            ConsentAnswer::Given,
            purposes,
            covering,
            minutes,
            giver,
        )
    }

    /// `who` refuses `purposes` at `minutes`.
    pub fn refuses(
        &mut self,
        who: &str,
        purposes: &[Purpose],
        covering: Covering,
        minutes: i64,
    ) -> ConsentId {
        self.answer(
            who,
            ConsentAnswer::Refused,
            purposes,
            covering,
            minutes,
            ConsentGiver::Person,
        )
    }

    /// The consent's person withdraws it at `minutes`, for all its purposes.
    pub fn withdraws(
        &mut self,
        consent: ConsentId,
        minutes: i64,
        had_capacity: bool,
    ) -> WithdrawalId {
        self.withdraws_purposes(consent, None, minutes, had_capacity)
    }

    /// The consent's person withdraws some purposes (or all, given `None`) at `minutes`.
    pub fn withdraws_purposes(
        &mut self,
        consent: ConsentId,
        purposes: Option<&[Purpose]>,
        minutes: i64,
        had_capacity: bool,
    ) -> WithdrawalId {
        let id = WithdrawalId::from_uuid(self.fresh());
        let owner = self
            .evidence
            .people
            .iter_mut()
            .find(|p| p.consents().iter().any(|c| c.id == consent))
            .expect("no such consent");
        let granted = owner
            .consents()
            .iter()
            .find(|c| c.id == consent)
            .unwrap()
            .purposes;
        owner.add_withdrawal(Withdrawal {
            id,
            consent_id: consent,
            person_id: owner.person_id,
            at: at(minutes),
            purposes: purposes.map_or(granted, |p| p.iter().copied().collect()),
            withdrawn_by: Withdrawer::Person { had_capacity },
            existing_recordings: Disposition::Destroy,
            note: None,
        });
        id
    }

    /// `who` answers "still willing?" for the session at `minutes` (C5).
    pub fn confirms(&mut self, who: &str, willing: bool, minutes: i64) {
        let id = ConfirmationId::from_uuid(self.fresh());
        let person = self.person(who);
        let session = self.session_mut();
        let session_id = session.session.id;
        session.add_confirmation(Confirmation {
            id,
            session_id,
            person_id: person,
            willing,
            at: at(minutes),
            confirmed_by: Confirmer::Person,
            note: None,
        });
    }

    /// The session is stopped at `minutes` with `choice` (C9).
    pub fn stops(&mut self, choice: StopChoice, minutes: i64) {
        let id = StopId::from_uuid(self.fresh());
        let session = self.session_mut();
        let session_id = session.session.id;
        session.stops.push(Stop {
            id,
            session_id,
            at: at(minutes),
            choice,
            requested_by: None,
            note: None,
        });
    }

    /// A copy derived at `minutes`, removing `removed` people and optionally de-identified.
    pub fn derives(&mut self, de_identified: bool, removed: &[&str], minutes: i64) -> RecordingId {
        let id = RecordingId::from_uuid(self.fresh());
        let removed: Vec<PersonId> = removed.iter().map(|name| self.person(name)).collect();
        let source = &self.evidence.recording;
        let copy = Recording {
            id,
            subjects: source
                .subjects
                .iter()
                .copied()
                .filter(|s| !removed.contains(s))
                .collect(),
            made_at: at(minutes),
            derivation: Some(Derivation {
                source: source.id,
                original: source.id,
                kind: DerivationKind::Redaction,
                de_identified,
                removed_persons: removed,
                method: None,
            }),
            ..source.clone()
        };
        self.evidence.derivatives.push(copy);
        id
    }

    /// The evidence about the derived copy `id` instead of the original: the same people and session.
    pub fn about_copy(&self, id: RecordingId) -> RecordingEvidence {
        let mut evidence = self.evidence.clone();
        let copy = evidence
            .derivatives
            .iter()
            .find(|d| d.id == id)
            .expect("no such copy")
            .clone();
        evidence.derivatives.clear();
        evidence.recording = copy;
        evidence
    }

    /// The evidence, to rearrange or inspect directly.
    pub fn evidence_mut(&mut self) -> &mut RecordingEvidence {
        &mut self.evidence
    }

    /// The evidence as built so far.
    pub fn evidence(&self) -> &RecordingEvidence {
        &self.evidence
    }
}
