//! Courses, sessions and meetings, with "still willing" confirmations (C5) and stops (C9).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::clock::{normalise, not_in_future};
use crate::error::DomainError;
use crate::ids::{ConfirmationId, CourseId, PersonId, RepresentativeId, SessionId, StopId};
use crate::person::distinct_persons;
use crate::text::{Note, ServiceCode, ShortText};
use crate::vocabulary::vocabulary;

/// A course of sessions that one consent form can cover (C5).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Course {
    pub id: CourseId,
    pub service: ServiceCode,
    pub title: ShortText,
}

vocabulary! {
    /// What kind of session or meeting it is; the kind decides whose consent is needed.
    pub enum SessionKind ("session kind") {
        /// One person (and possibly staff).
        Individual = "individual", "individual session";
        /// A family: every member must consent; one withdrawal revokes the session (C7).
        Family = "family", "family session";
        /// A group: a member's withdrawal means using a copy without them (C7).
        Group = "group", "group session";
        /// A child protection case conference, recorded by the chair (R5).
        CaseConference = "case_conference", "case conference";
        /// A staff or formal meeting: attendees are told, no consent needed (C12).
        StaffMeeting = "staff_meeting", "staff meeting";
        /// A personal staff meeting, which needs consent (C12).
        PersonalStaffMeeting = "personal_staff_meeting", "personal staff meeting";
    }
}

vocabulary! {
    /// The kinds of personal staff meeting that need consent (C12).
    pub enum PersonalMeetingKind ("personal meeting kind") {
        OneToOne = "one_to_one", "one-to-one";
        Appraisal = "appraisal", "appraisal";
        Sickness = "sickness", "sickness meeting";
        Capability = "capability", "capability meeting";
        Disciplinary = "disciplinary", "disciplinary meeting";
    }
}

/// A session or meeting with the people taking part.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Session {
    pub id: SessionId,
    pub kind: SessionKind,
    pub personal_meeting_kind: Option<PersonalMeetingKind>,
    pub service: ServiceCode,
    pub course_id: Option<CourseId>,
    pub title: ShortText,
    #[serde(with = "time::serde::rfc3339")]
    pub starts_at: OffsetDateTime,
    /// The people taking part, in a stable order.
    pub participants: Vec<PersonId>,
    /// When attendees were told the meeting is recorded (C12, R5), for meetings that need no consent.
    #[serde(with = "time::serde::rfc3339::option")]
    pub attendees_informed_at: Option<OffsetDateTime>,
}

/// A session as entered.
#[derive(Clone, Debug)]
pub struct SessionForm {
    pub kind: SessionKind,
    pub personal_meeting_kind: Option<PersonalMeetingKind>,
    pub service: ServiceCode,
    pub course: Option<Course>,
    pub title: ShortText,
    pub starts_at: OffsetDateTime,
    pub participants: Vec<PersonId>,
    pub attendees_informed_at: Option<OffsetDateTime>,
}

impl Session {
    /// Checks a session: enough participants for its kind, none twice, a personal meeting kind
    /// exactly when it is a personal staff meeting.
    pub fn new(id: SessionId, form: SessionForm, now: OffsetDateTime) -> Result<Self, DomainError> {
        let min = match form.kind {
            SessionKind::Family | SessionKind::Group => 2,
            _ => 1,
        };
        if form.participants.len() < min {
            return Err(DomainError::TooFewParticipants {
                kind: form.kind.label(),
                min,
            });
        }
        let participants = distinct_persons(form.participants)?;
        match (form.kind, form.personal_meeting_kind) {
            (SessionKind::PersonalStaffMeeting, None) => {
                return Err(DomainError::PersonalMeetingKindMissing);
            }
            (kind, Some(_)) if kind != SessionKind::PersonalStaffMeeting => {
                return Err(DomainError::PersonalMeetingKindNotAllowed);
            }
            _ => {}
        }
        let starts_at = normalise(form.starts_at);
        let attendees_informed_at = form
            .attendees_informed_at
            .map(|at| not_in_future("attendees_informed_at", normalise(at), now))
            .transpose()?;
        let service = match &form.course {
            Some(course) => course.service.clone(),
            None => form.service,
        };
        Ok(Self {
            id,
            kind: form.kind,
            personal_meeting_kind: form.personal_meeting_kind,
            service,
            course_id: form.course.map(|course| course.id),
            title: form.title,
            starts_at,
            participants,
            attendees_informed_at,
        })
    }

    /// Whether `person` takes part in the session.
    pub fn has_participant(&self, person: PersonId) -> bool {
        self.participants.binary_search(&person).is_ok()
    }

    fn require_participant(&self, person: PersonId) -> Result<(), DomainError> {
        if self.has_participant(person) {
            Ok(())
        } else {
            Err(DomainError::NotAParticipant { person })
        }
    }
}

/// Who answered a "still willing" question.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Confirmer {
    /// The person.
    Person,
    /// Their representative.
    Representative { representative_id: RepresentativeId },
}

/// The answer to "are you still willing for this session to be recorded?" (C5). "Not sure"
/// is recorded as not willing: ambivalence means no recording (C4).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Confirmation {
    pub id: ConfirmationId,
    pub session_id: SessionId,
    pub person_id: PersonId,
    pub willing: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub confirmed_by: Confirmer,
    pub note: Option<Note>,
}

impl Confirmation {
    /// Checks the person takes part in the session and the time is not in the future.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        id: ConfirmationId,
        session: &Session,
        person_id: PersonId,
        willing: bool,
        at: OffsetDateTime,
        confirmed_by: Confirmer,
        note: Option<Note>,
        now: OffsetDateTime,
    ) -> Result<Self, DomainError> {
        session.require_participant(person_id)?;
        let at = not_in_future("at", normalise(at), now)?;
        Ok(Self {
            id,
            session_id: session.id,
            person_id,
            willing,
            at,
            confirmed_by,
            note,
        })
    }
}

vocabulary! {
    /// What happens when a session is stopped at the person's request (C9).
    pub enum StopChoice ("stop choice") {
        /// Stop recording and delete what was recorded.
        DiscontinueAndDelete = "discontinue_and_delete", "stop and delete the recording";
        /// Delete what was recorded so far and carry on recording.
        DeleteSoFarAndContinue = "delete_so_far_and_continue", "delete the recording so far and carry on";
        /// Pause and resume later in the session when the person agrees.
        PauseAndResume = "pause_and_resume", "pause and resume later";
        /// Stop recording and keep what was recorded.
        DiscontinueAndKeep = "discontinue_and_keep", "stop and keep the recording so far";
        /// Carry on, and delete the whole recording at the end of the session.
        DeleteAtEnd = "delete_at_end", "delete the recording at the end of the session";
    }
}

impl StopChoice {
    /// Whether a recording of the session that started at `recording_started` must be deleted
    /// because of a stop at `stopped_at` with this choice.
    pub fn deletes(self, recording_started: OffsetDateTime, stopped_at: OffsetDateTime) -> bool {
        match self {
            Self::DiscontinueAndDelete | Self::DeleteSoFarAndContinue => {
                recording_started <= stopped_at
            }
            Self::DeleteAtEnd => true,
            Self::PauseAndResume | Self::DiscontinueAndKeep => false,
        }
    }
}

/// A stop or pause during a session, with the choice made (C9).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Stop {
    pub id: StopId,
    pub session_id: SessionId,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub choice: StopChoice,
    /// The participant who asked, if a participant asked (the clinician may stop on their own judgement).
    pub requested_by: Option<PersonId>,
    pub note: Option<Note>,
}

impl Stop {
    /// Checks a stop happens during the session and, when a participant asked, that they take part.
    pub fn new(
        id: StopId,
        session: &Session,
        at: OffsetDateTime,
        choice: StopChoice,
        requested_by: Option<PersonId>,
        note: Option<Note>,
        now: OffsetDateTime,
    ) -> Result<Self, DomainError> {
        if let Some(person) = requested_by {
            session.require_participant(person)?;
        }
        let at = not_in_future("at", normalise(at), now)?;
        if at < session.starts_at {
            return Err(DomainError::BeforeSessionStart {
                at: crate::clock::Shown(at),
                starts_at: crate::clock::Shown(session.starts_at),
            });
        }
        Ok(Self {
            id,
            session_id: session.id,
            at,
            choice,
            requested_by,
            note,
        })
    }
}
