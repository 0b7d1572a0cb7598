//! The demo's people and what happened to them: care home residents, community nursing patients, therapy clients, groups, families and staff meetings.

use custodian_app::AppResult;
use custodian_app::consents::WithdrawnBy;
use custodian_app::uses::UseAsked;
use custodian_core::consent::{ConsentAnswer, Scope};
use custodian_core::ids::PersonId;
use custodian_core::person::{Capacity, RepresentativeKind};
use custodian_core::purpose::Purpose;
use custodian_core::recording::{DerivationForm, DerivationKind, RecordingKind};
use custodian_core::session::{SessionKind, StopChoice};
use time::Duration;

use crate::*;

impl Loader<'_> {
    /// An older person in a care home: admission consent (theirs or a representative's), an
    /// identification photograph and activity photographs.
    pub(crate) async fn care_home_resident(&mut self) -> AppResult<()> {
        let lacks = self.dice.chance(30);
        let capacity = if lacks {
            Capacity::LacksCapacity
        } else {
            Capacity::HasCapacity
        };
        let person = self.person(capacity, 70, 98, false).await?;
        let admitted = self.some_days_ago(30, 700);
        let representative = if lacks {
            let kind = if self.dice.chance(50) {
                RepresentativeKind::LastingPowerOfAttorney
            } else {
                RepresentativeKind::NextOfKin
            };
            Some(self.representative(person, kind).await?)
        } else {
            None
        };
        let scope = Scope::Service {
            service: service("CARE-HOME-ELM")?,
        };
        let mut given = vec![
            Purpose::Identification,
            Purpose::Medication,
            Purpose::CarePlan,
            Purpose::HealthAndWellbeing,
        ];
        let mut refused = Vec::new();
        for optional in [
            Purpose::Activities,
            Purpose::Outings,
            Purpose::FamilyAndVisitors,
            Purpose::Newsletters,
            Purpose::AwardEntries,
            Purpose::SocialMedia,
        ] {
            if self.dice.chance(if optional == Purpose::SocialMedia {
                25
            } else {
                70
            }) {
                given.push(optional);
            } else {
                refused.push(optional);
            }
        }
        let consent = self
            .consent(
                person,
                ConsentAnswer::Given,
                &given,
                scope.clone(),
                admitted,
                representative,
                false,
            )
            .await?;
        if !refused.is_empty() {
            self.consent(
                person,
                ConsentAnswer::Refused,
                &refused,
                scope,
                admitted,
                representative,
                false,
            )
            .await?;
        }
        self.recording(
            RecordingKind::Photograph,
            "CARE-HOME-ELM",
            None,
            vec![person],
            &[Purpose::Identification],
            admitted + Duration::hours(2),
            "Elm House reception",
        )
        .await?;
        if given.contains(&Purpose::Activities) {
            self.recording(
                RecordingKind::Photograph,
                "CARE-HOME-ELM",
                None,
                vec![person],
                &[Purpose::Activities],
                admitted + Duration::days(10),
                "Elm House garden",
            )
            .await?;
        }
        if self.dice.chance(8) {
            let by = representative.map_or(WithdrawnBy::Person, WithdrawnBy::Representative);
            self.withdraw(consent, admitted + Duration::days(20), by)
                .await?;
        }
        Ok(())
    }

    /// A community nursing patient with photographs of a wound over time (R7).
    pub(crate) async fn community_nursing_patient(&mut self) -> AppResult<()> {
        let person = self.person(Capacity::HasCapacity, 40, 95, false).await?;
        let first = self.some_days_ago(30, 120);
        self.consent(
            person,
            ConsentAnswer::Given,
            &[Purpose::HealthAndWellbeing, Purpose::Clinical],
            Scope::Service {
                service: service("COMMUNITY-NURSING")?,
            },
            first,
            None,
            false,
        )
        .await?;
        for visit in 0..3 {
            self.recording(
                RecordingKind::Photograph,
                "COMMUNITY-NURSING",
                None,
                vec![person],
                &[Purpose::HealthAndWellbeing],
                first + Duration::days(visit * 7),
                "Home visit: pressure area, left heel",
            )
            .await?;
        }
        Ok(())
    }

    /// An adult in a course of therapy with recorded sessions; some consent to teaching or
    /// research, some stop a session, some withdraw.
    pub(crate) async fn therapy_client(&mut self) -> AppResult<PersonId> {
        let person = self.person(Capacity::HasCapacity, 18, 80, false).await?;
        let course = self
            .course("ADULT-MH-EAST", "Cognitive behavioural therapy")
            .await?;
        let start = self.some_days_ago(90, 60);
        let teaching = self.dice.chance(25);
        let research = self.dice.chance(15);
        let mut purposes = vec![Purpose::Clinical, Purpose::SupervisionAndTraining];
        if teaching {
            purposes.push(Purpose::Teaching);
        }
        if research {
            purposes.push(Purpose::Research);
        }
        let consent = self
            .consent(
                person,
                ConsentAnswer::Given,
                &purposes,
                Scope::Course { course_id: course },
                start - Duration::days(1),
                None,
                research,
            )
            .await?;
        let sessions = 4 + i64::try_from(self.dice.below(5)).unwrap_or(0);
        let withdraws_after = self.dice.chance(10).then(|| 2 + self.dice.below(2));
        for number in 0..sessions {
            let at = start + Duration::days(7 * number);
            let session = self
                .session(
                    SessionKind::Individual,
                    "ADULT-MH-EAST",
                    Some(course),
                    &format!("Session {}", number + 1),
                    at,
                    vec![person],
                )
                .await?;
            let willing = self.confirm(session, person, at, None).await?;
            if !willing {
                continue;
            }
            let recording = self
                .recording(
                    RecordingKind::Audio,
                    "ADULT-MH-EAST",
                    Some(session),
                    vec![person],
                    &[Purpose::Clinical, Purpose::SupervisionAndTraining],
                    at + Duration::minutes(2),
                    "Therapy room 3",
                )
                .await?;
            let mut deleted = false;
            if self.dice.chance(6) {
                let index =
                    usize::try_from(self.dice.below(StopChoice::ALL.len() as u64)).unwrap_or(0);
                let choice = StopChoice::ALL
                    .get(index)
                    .copied()
                    .unwrap_or(StopChoice::PauseAndResume);
                self.custodian
                    .stop_session(
                        &self.caller,
                        session,
                        at + Duration::minutes(25),
                        choice,
                        Some(person),
                        None,
                    )
                    .await?;
                deleted = choice.deletes(at + Duration::minutes(2), at + Duration::minutes(25));
            }
            // A recording the person asked to be deleted is never copied (C9, X1).
            if teaching && number == 1 && !deleted {
                let form = DerivationForm {
                    kind: DerivationKind::Redaction,
                    de_identified: true,
                    removed_persons: Vec::new(),
                    method: Some(note(
                        "Surname and address muted; opening statement removed.",
                    )?),
                    made_by: self.caller.member.id,
                    device: text("EDIT-SUITE-1")?,
                    made_at: at + Duration::days(2),
                };
                let asked = UseAsked {
                    recording,
                    purpose: Purpose::Teaching,
                    study: None,
                };
                self.custodian
                    .register_derivative(&self.caller, &asked, form)
                    .await?;
                self.summary.recordings += 1;
            }
            if withdraws_after == u64::try_from(number).ok() {
                self.withdraw(consent, at + Duration::days(1), WithdrawnBy::Person)
                    .await?;
                break;
            }
        }
        Ok(person)
    }

    /// A therapy group of adults meeting three times; one member withdraws and a copy without
    /// them is made (C7).
    pub(crate) async fn group(&mut self, members: &[PersonId]) -> AppResult<()> {
        let start = self.days_ago(40);
        let mut consents = Vec::new();
        for member in members {
            consents.push(
                self.consent(
                    *member,
                    ConsentAnswer::Given,
                    &[Purpose::Clinical],
                    Scope::Service {
                        service: service("ADULT-MH-EAST")?,
                    },
                    start - Duration::days(3),
                    None,
                    false,
                )
                .await?,
            );
        }
        let mut last = None;
        for number in 0..3 {
            let at = start + Duration::days(7 * number);
            let session = self
                .session(
                    SessionKind::Group,
                    "ADULT-MH-EAST",
                    None,
                    &format!("Anxiety group, week {}", number + 1),
                    at,
                    members.to_vec(),
                )
                .await?;
            last = Some(
                self.recording(
                    RecordingKind::Video,
                    "ADULT-MH-EAST",
                    Some(session),
                    members.to_vec(),
                    &[Purpose::Clinical],
                    at + Duration::minutes(1),
                    "Group room",
                )
                .await?,
            );
        }
        if let (Some(recording), Some(consent), Some(member)) =
            (last, consents.first(), members.first())
        {
            self.withdraw(*consent, start + Duration::days(16), WithdrawnBy::Person)
                .await?;
            let form = DerivationForm {
                kind: DerivationKind::Redaction,
                de_identified: false,
                removed_persons: vec![*member],
                method: Some(note(
                    "Member blurred and muted throughout; references to them removed.",
                )?),
                made_by: self.caller.member.id,
                device: text("EDIT-SUITE-1")?,
                made_at: start + Duration::days(18),
            };
            let asked = UseAsked {
                recording,
                purpose: Purpose::Clinical,
                study: None,
            };
            self.custodian
                .register_derivative(&self.caller, &asked, form)
                .await?;
            self.summary.recordings += 1;
        }
        Ok(())
    }

    /// A family of a parent and two children in a course of family therapy; children's consent
    /// comes from the parent with parental responsibility. In some families a member withdraws (C7).
    pub(crate) async fn family(&mut self, someone_withdraws: bool) -> AppResult<()> {
        let parent = self.person(Capacity::HasCapacity, 28, 50, false).await?;
        let children = [
            self.person(Capacity::LacksCapacity, 4, 11, false).await?,
            self.person(Capacity::LacksCapacity, 6, 13, false).await?,
        ];
        let course = self.course("CAMHS-NORTH", "Family therapy").await?;
        let start = self.some_days_ago(70, 30);
        let scope = Scope::Course { course_id: course };
        let purposes = [Purpose::Clinical, Purpose::SupervisionAndTraining];
        let parent_consent = self
            .consent(
                parent,
                ConsentAnswer::Given,
                &purposes,
                scope.clone(),
                start - Duration::days(2),
                None,
                false,
            )
            .await?;
        let mut representatives = Vec::new();
        for child in children {
            let representative = self
                .representative(child, RepresentativeKind::ParentalResponsibility)
                .await?;
            self.consent(
                child,
                ConsentAnswer::Given,
                &purposes,
                scope.clone(),
                start - Duration::days(2),
                Some(representative),
                false,
            )
            .await?;
            representatives.push((child, representative));
        }
        let members = vec![parent, children[0], children[1]];
        for number in 0..5 {
            let at = start + Duration::days(14 * number);
            let session = self
                .session(
                    SessionKind::Family,
                    "CAMHS-NORTH",
                    Some(course),
                    &format!("Family session {}", number + 1),
                    at,
                    members.clone(),
                )
                .await?;
            self.confirm(session, parent, at, None).await?;
            for (child, representative) in &representatives {
                self.confirm(session, *child, at, Some(*representative))
                    .await?;
            }
            self.recording(
                RecordingKind::Video,
                "CAMHS-NORTH",
                Some(session),
                members.clone(),
                &purposes,
                at + Duration::minutes(3),
                "Family therapy room",
            )
            .await?;
            if someone_withdraws && number == 2 {
                self.withdraw(parent_consent, at + Duration::days(3), WithdrawnBy::Person)
                    .await?;
                break;
            }
        }
        Ok(())
    }

    /// Team meetings (no consent needed, attendees told) and one appraisal (consent needed, C12).
    pub(crate) async fn staff_meetings(&mut self, colleagues: &[PersonId]) -> AppResult<()> {
        for week in 0..3 {
            let at = self.days_ago(21 - 7 * week);
            let session = self
                .session(
                    SessionKind::StaffMeeting,
                    "ADULT-MH-EAST",
                    None,
                    "Team meeting",
                    at,
                    colleagues.to_vec(),
                )
                .await?;
            self.recording(
                RecordingKind::Audio,
                "ADULT-MH-EAST",
                Some(session),
                colleagues.to_vec(),
                &[Purpose::Administrative],
                at + Duration::minutes(1),
                "Meeting room B",
            )
            .await?;
        }
        if let Some(colleague) = colleagues.first() {
            let at = self.days_ago(5);
            let session = self
                .session(
                    SessionKind::PersonalStaffMeeting,
                    "ADULT-MH-EAST",
                    None,
                    "Annual appraisal",
                    at,
                    vec![*colleague],
                )
                .await?;
            self.consent(
                *colleague,
                ConsentAnswer::Given,
                &[Purpose::Administrative],
                Scope::Session {
                    session_id: session,
                },
                at,
                None,
                false,
            )
            .await?;
            self.recording(
                RecordingKind::Audio,
                "ADULT-MH-EAST",
                Some(session),
                vec![*colleague],
                &[Purpose::Administrative],
                at + Duration::minutes(1),
                "Manager's office",
            )
            .await?;
        }
        Ok(())
    }
}
