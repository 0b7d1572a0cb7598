//! The loader's building blocks: a person, a representative, a consent, a withdrawal, a recording, a course, a session, a confirmation.

use custodian_app::consents::{WithdrawalRequest, WithdrawnBy};
use custodian_app::persons::PersonForm;
use custodian_app::sessions::SessionRequest;
use custodian_app::{AppError, AppResult};
use custodian_core::consent::{
    CapacityDecision, ConsentAnswer, ConsentForm, ConsentGiver, Disposition, EthicsReference,
    ResearchApproval, Scope, Signature, SignatureMethod,
};
use custodian_core::ids::{CourseId, PersonId, RepresentativeId};
use custodian_core::nhs_number::{NhsNumber, check_digit};
use custodian_core::person::{Capacity, LocalIdentifier, PersonName, RepresentativeKind};
use custodian_core::purpose::{Purpose, PurposeSet};
use custodian_core::recording::{RecordingForm, RecordingKind};
use custodian_core::session::{PersonalMeetingKind, SessionKind};
use custodian_core::signature::SignatureDrawing;
use time::{Date, Duration, OffsetDateTime};

use crate::*;

impl Loader<'_> {
    pub(crate) fn days_ago(&self, days: i64) -> OffsetDateTime {
        self.now - Duration::days(days)
    }

    /// Some time between `at_least` and `at_least + spread` days ago.
    pub(crate) fn some_days_ago(&mut self, at_least: i64, spread: u64) -> OffsetDateTime {
        let extra = i64::try_from(self.dice.below(spread)).unwrap_or(0);
        self.days_ago(at_least + extra)
    }

    pub(crate) fn nhs_number(&mut self) -> AppResult<NhsNumber> {
        loop {
            let tail = self.dice.below(1_000_000);
            let mut nine = [9u8, 9, 9, 0, 0, 0, 0, 0, 0];
            for (slot, digit) in nine.iter_mut().skip(3).zip(format!("{tail:06}").bytes()) {
                *slot = digit - b'0';
            }
            if let Some(check) = check_digit(&nine) {
                let digits: String = nine
                    .iter()
                    .chain(std::iter::once(&check))
                    .map(|d| char::from(b'0' + d))
                    .collect();
                return Ok(NhsNumber::parse(&digits)?);
            }
        }
    }

    pub(crate) async fn person(
        &mut self,
        capacity: Capacity,
        youngest: i64,
        oldest: i64,
        staff: bool,
    ) -> AppResult<PersonId> {
        self.next_number += 1;
        let age = youngest
            + i64::try_from(
                self.dice
                    .below(u64::try_from(oldest - youngest + 1).unwrap_or(1)),
            )
            .unwrap_or(0);
        let born: Date = (self.now
            - Duration::days(age * 365 + i64::try_from(self.dice.below(360)).unwrap_or(0)))
        .date();
        let name = PersonName::parse(self.dice.pick(GIVEN), self.dice.pick(FAMILY))?;
        let form = PersonForm {
            name,
            date_of_birth: born,
            nhs_number: if staff {
                None
            } else {
                Some(self.nhs_number()?)
            },
            local_identifier: Some(LocalIdentifier::parse(&format!(
                "{}-{:05}",
                if staff { "STAFF" } else { "DEMO" },
                self.next_number
            ))?),
            capacity,
            // The demo's people are all cared for by the demo clinician's first service.
            service: self.caller.member.services.first().cloned(),
        };
        let person = match self.custodian.register_person(&self.caller, form).await {
            Err(AppError::Rule { .. }) => {
                // Another demo run used this NHS number; draw again.
                return Box::pin(self.person(capacity, youngest, oldest, staff)).await;
            }
            other => other?,
        };
        self.summary.people += 1;
        Ok(person.id)
    }

    pub(crate) async fn representative(
        &mut self,
        person: PersonId,
        kind: RepresentativeKind,
    ) -> AppResult<RepresentativeId> {
        let name = format!("{} {}", self.dice.pick(GIVEN), self.dice.pick(FAMILY));
        let representative = self
            .custodian
            .add_representative(
                &self.caller,
                person,
                text(&name)?,
                kind,
                Some(text("07700 900000")?),
            )
            .await?;
        self.summary.representatives += 1;
        Ok(representative.id)
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn consent(
        &mut self,
        person: PersonId,
        answer: ConsentAnswer,
        purposes: &[Purpose],
        scope: Scope,
        signed_at: OffsetDateTime,
        representative: Option<RepresentativeId>,
        research: bool,
    ) -> AppResult<custodian_core::ids::ConsentId> {
        let given_by = match representative {
            None => ConsentGiver::Person,
            Some(representative_id) => ConsentGiver::Representative {
                representative_id,
                capacity_decision: CapacityDecision {
                    assessed_on: (signed_at - Duration::days(2)).date(),
                    assessed_by: text("Dr R. Assessor, consultant")?,
                    decision: note(
                        "Unable to retain and weigh the information needed to decide about recordings.",
                    )?,
                },
                best_interest_note: note(
                    "Recordings support safe, person-centred care; the family agrees this is in their best interests.",
                )?,
            },
        };
        let form = ConsentForm {
            answer,
            purposes: purposes.iter().copied().collect::<PurposeSet>(),
            given_by,
            scope,
            signed_at,
            signature: if self.dice.chance(20) {
                Signature {
                    method: SignatureMethod::TypedWithWitness,
                    signed_by: text("signed")?,
                    witness: Some(text("Staff witness")?),
                    drawing: None,
                }
            } else {
                Signature {
                    method: SignatureMethod::Drawn,
                    signed_by: text("signed")?,
                    witness: None,
                    drawing: Some(SignatureDrawing::parse("20,150 60,40 100,150 140,60")?),
                }
            },
            representatives_may_have_copies: self.dice.chance(50),
            research: research
                .then(|| -> AppResult<ResearchApproval> {
                    Ok(ResearchApproval {
                        study: text("Outcomes of recorded therapy sessions")?,
                        ethics_reference: EthicsReference::parse("23/NE/0123")?,
                    })
                })
                .transpose()?,
            told_refusal_does_not_affect_care: true,
            notes: None,
        };
        let consent = self
            .custodian
            .record_consent(&self.caller, person, form)
            .await?;
        self.summary.consents += 1;
        Ok(consent.id)
    }

    pub(crate) async fn withdraw(
        &mut self,
        consent: custodian_core::ids::ConsentId,
        at: OffsetDateTime,
        by: WithdrawnBy,
    ) -> AppResult<()> {
        let request = WithdrawalRequest {
            at,
            purposes: PurposeSet::EMPTY,
            withdrawn_by: by,
            existing_recordings: if self.dice.chance(50) {
                Disposition::Destroy
            } else {
                Disposition::HandOver
            },
            note: Some(note(
                "Told the clinician at the start of the next appointment.",
            )?),
        };
        self.custodian
            .withdraw_consent(&self.caller, consent, request)
            .await?;
        self.summary.withdrawals += 1;
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn recording(
        &mut self,
        kind: RecordingKind,
        code: &str,
        session: Option<custodian_core::ids::SessionId>,
        subjects: Vec<PersonId>,
        purposes: &[Purpose],
        made_at: OffsetDateTime,
        location: &str,
    ) -> AppResult<custodian_core::ids::RecordingId> {
        let form = RecordingForm {
            kind,
            service: service(code)?,
            subjects,
            purposes: purposes.iter().copied().collect(),
            made_by: self.caller.member.id,
            device: text(&format!("TAB-{:04}", self.dice.below(60) + 1))?,
            made_at,
            location: text(location)?,
        };
        let recording = self
            .custodian
            .register_recording(&self.caller, form, session)
            .await?;
        self.summary.recordings += 1;
        Ok(recording.id)
    }

    pub(crate) async fn course(&mut self, code: &str, title: &str) -> AppResult<CourseId> {
        let course = self
            .custodian
            .create_course(&self.caller, service(code)?, text(title)?)
            .await?;
        self.summary.courses += 1;
        Ok(course.id)
    }

    pub(crate) async fn session(
        &mut self,
        kind: SessionKind,
        code: &str,
        course: Option<CourseId>,
        title: &str,
        starts_at: OffsetDateTime,
        participants: Vec<PersonId>,
    ) -> AppResult<custodian_core::ids::SessionId> {
        let meeting = matches!(
            kind,
            SessionKind::StaffMeeting | SessionKind::CaseConference
        );
        let request = SessionRequest {
            kind,
            personal_meeting_kind: (kind == SessionKind::PersonalStaffMeeting)
                .then_some(PersonalMeetingKind::Appraisal),
            service: service(code)?,
            course,
            title: text(title)?,
            starts_at,
            participants,
            attendees_informed_at: meeting.then_some(starts_at),
        };
        let session = self.custodian.start_session(&self.caller, request).await?;
        self.summary.sessions += 1;
        Ok(session.id)
    }

    pub(crate) async fn confirm(
        &mut self,
        session: custodian_core::ids::SessionId,
        person: PersonId,
        at: OffsetDateTime,
        representative: Option<RepresentativeId>,
    ) -> AppResult<bool> {
        let willing = !self.dice.chance(5);
        self.custodian
            .confirm_still_willing(
                &self.caller,
                session,
                person,
                willing,
                at,
                representative,
                None,
            )
            .await?;
        self.summary.confirmations += 1;
        Ok(willing)
    }
}
