//! A synthetic demonstration: hundreds of invented people in care homes, community nursing,
//! therapy courses, families, groups and staff meetings, loaded through the use cases so that the
//! audit trail, decisions and histories all look as they would in use. NHS numbers come from the
//! 999 test range; every name is invented.

use std::fmt;

use custodian_core::audit::Actor;
use custodian_core::consent::{
    CapacityDecision, ConsentAnswer, ConsentForm, ConsentGiver, Disposition, EthicsReference,
    ResearchApproval, Scope, Signature, SignatureMethod,
};
use custodian_core::ids::{CourseId, PersonId, RepresentativeId};
use custodian_core::nhs_number::{NhsNumber, check_digit};
use custodian_core::person::{Capacity, LocalIdentifier, PersonName, RepresentativeKind};
use custodian_core::purpose::{Purpose, PurposeSet};
use custodian_core::recording::{DerivationForm, DerivationKind, RecordingForm, RecordingKind};
use custodian_core::session::{PersonalMeetingKind, SessionKind, StopChoice};
use custodian_core::signature::SignatureDrawing;
use custodian_core::staff::{Role, Username};
use custodian_core::text::{Note, ServiceCode, ShortText};
use time::{Date, Duration, OffsetDateTime};

use crate::accounts::{Caller, Credential};
use crate::consents::{WithdrawalRequest, WithdrawnBy};
use crate::persons::PersonForm;
use crate::sessions::SessionRequest;
use crate::staff::NewStaff;
use crate::uses::UseAsked;
use crate::{AppError, AppResult, Custodian};

const GIVEN: &[&str] = &[
    "Ada", "Bela", "Cato", "Dara", "Elin", "Farah", "Gus", "Hana", "Ivo", "Jude", "Kit", "Lior",
    "Mira", "Nico", "Odile", "Pax", "Quin", "Rhea", "Sol", "Tamsin", "Ula", "Vaughn", "Wren",
    "Xavi", "Yara", "Zeb", "Arlo", "Bryn", "Cleo", "Dov",
];
const FAMILY: &[&str] = &[
    "Ashdown",
    "Brackley",
    "Corrin",
    "Dunmore",
    "Elsworth",
    "Fenwick",
    "Garrow",
    "Hollis",
    "Inchley",
    "Jessop",
    "Kirrin",
    "Larkspur",
    "Merriott",
    "Nettlefold",
    "Orrell",
    "Pellow",
    "Quarrie",
    "Redfern",
    "Stowell",
    "Tarrant",
    "Upcott",
    "Vellacott",
    "Wexcombe",
    "Yarrow",
];

/// A small deterministic generator (SplitMix64), so a demo can be repeated exactly.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        let index = usize::try_from(self.below(items.len() as u64)).unwrap_or_default();
        items.get(index).copied().unwrap_or("Ada")
    }
}

/// What the demo created.
#[derive(Debug, Default)]
pub struct DemoSummary {
    pub people: u32,
    pub representatives: u32,
    pub consents: u32,
    pub withdrawals: u32,
    pub courses: u32,
    pub sessions: u32,
    pub confirmations: u32,
    pub recordings: u32,
}

impl fmt::Display for DemoSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Demo loaded: {} people, {} representatives, {} consent forms, {} withdrawals, {} courses, {} sessions, {} \"still willing\" answers, {} recordings.",
            self.people,
            self.representatives,
            self.consents,
            self.withdrawals,
            self.courses,
            self.sessions,
            self.confirmations,
            self.recordings
        )
    }
}

/// The demo's state while it loads.
struct Loader<'a> {
    custodian: &'a Custodian,
    caller: Caller,
    dice: Dice,
    now: OffsetDateTime,
    next_number: u32,
    summary: DemoSummary,
}

fn text(value: &str) -> AppResult<ShortText> {
    Ok(ShortText::parse("demo", value)?)
}

fn note(value: &str) -> AppResult<Note> {
    Ok(Note::parse("demo", value)?)
}

fn service(code: &str) -> AppResult<ServiceCode> {
    Ok(ServiceCode::parse(code)?)
}

impl Custodian {
    /// Loads `people` synthetic people and their histories. Runs through the use cases as a
    /// demo clinician account (which cannot sign in: its password is random and must be changed).
    #[tracing::instrument(skip(self))]
    pub async fn load_demo(&self, people: u32, seed: u64) -> AppResult<DemoSummary> {
        let caller = self.demo_clinician().await?;
        let mut loader = Loader {
            custodian: self,
            caller,
            dice: Dice(seed),
            now: self.clock.now(),
            next_number: 0,
            summary: DemoSummary::default(),
        };
        let people = people.max(20);
        let nursing = people * 15 / 100;
        let therapy = people * 20 / 100;
        let staff = (people / 20).max(4);
        let mut care_home = people * 35 / 100;
        let families = (people - care_home - nursing - therapy - staff) / 3;
        // Whoever does not fit into a family of three lives in the care home.
        care_home = people - nursing - therapy - staff - 3 * families;
        for _ in 0..care_home {
            loader.care_home_resident().await?;
        }
        for _ in 0..nursing {
            loader.community_nursing_patient().await?;
        }
        let mut therapy_clients = Vec::new();
        for _ in 0..therapy {
            therapy_clients.push(loader.therapy_client().await?);
        }
        for chunk in therapy_clients.chunks(5).take(2) {
            loader.group(chunk).await?;
        }
        for family in 0..families {
            loader.family(family % 4 == 1).await?;
        }
        let mut colleagues = Vec::new();
        for _ in 0..staff {
            colleagues.push(loader.person(Capacity::HasCapacity, 25, 64, true).await?);
        }
        loader.staff_meetings(&colleagues).await?;
        Ok(loader.summary)
    }

    async fn demo_clinician(&self) -> AppResult<Caller> {
        let username = Username::parse("demo.clinician")?;
        let existing = self
            .register
            .read()
            .await?
            .staff_by_username(&username)
            .await?;
        let member = match existing {
            Some(account) => account.member,
            None => {
                // Nobody signs in as the loader: its password is random and never shown.
                let mut bytes = [0u8; 24];
                getrandom::fill(&mut bytes)
                    .map_err(|e| AppError::Internal(format!("no randomness: {e}")))?;
                let new = NewStaff {
                    username,
                    display_name: text("Demo Clinician")?,
                    roles: vec![Role::Practitioner],
                    services: vec![
                        service("ADULT-MH-EAST")?,
                        service("CARE-HOME-ELM")?,
                        service("COMMUNITY-NURSING")?,
                    ],
                };
                self.add_member(new, &format!("{bytes:?}"), true, Actor::System)
                    .await?
            }
        };
        Ok(Caller {
            member,
            credential: Credential::SignIn,
            must_change_password: false,
            must_enrol_totp: false,
        })
    }
}

impl Loader<'_> {
    fn days_ago(&self, days: i64) -> OffsetDateTime {
        self.now - Duration::days(days)
    }

    /// Some time between `at_least` and `at_least + spread` days ago.
    fn some_days_ago(&mut self, at_least: i64, spread: u64) -> OffsetDateTime {
        let extra = i64::try_from(self.dice.below(spread)).unwrap_or(0);
        self.days_ago(at_least + extra)
    }

    fn nhs_number(&mut self) -> AppResult<NhsNumber> {
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

    async fn person(
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

    async fn representative(
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
    async fn consent(
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

    async fn withdraw(
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
    async fn recording(
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

    async fn course(&mut self, code: &str, title: &str) -> AppResult<CourseId> {
        let course = self
            .custodian
            .create_course(&self.caller, service(code)?, text(title)?)
            .await?;
        self.summary.courses += 1;
        Ok(course.id)
    }

    async fn session(
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

    async fn confirm(
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

    /// An older person in a care home: admission consent (theirs or a representative's), an
    /// identification photograph and activity photographs.
    async fn care_home_resident(&mut self) -> AppResult<()> {
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
    async fn community_nursing_patient(&mut self) -> AppResult<()> {
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
    async fn therapy_client(&mut self) -> AppResult<PersonId> {
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
    async fn group(&mut self, members: &[PersonId]) -> AppResult<()> {
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
    async fn family(&mut self, someone_withdraws: bool) -> AppResult<()> {
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
    async fn staff_meetings(&mut self, colleagues: &[PersonId]) -> AppResult<()> {
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
