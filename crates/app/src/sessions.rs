//! Courses, sessions, "still willing" confirmations and stops (C5, C9, C12).

use custodian_core::ids::{
    ConfirmationId, CourseId, PersonId, RepresentativeId, SessionId, StopId,
};
use custodian_core::recording::Recording;
use custodian_core::session::{
    Confirmation, Confirmer, Course, PersonalMeetingKind, Session, SessionForm, SessionKind, Stop,
    StopChoice,
};
use custodian_core::text::{Note, ServiceCode, ShortText};
use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::access::Target;
use crate::accounts::Caller;
use crate::audit_trail::Audit;
use crate::uses::{GrantsResting, revoke_grants};
use crate::{AppError, AppResult, Custodian};
use custodian_access::Action;

/// A session as staff enter it.
#[derive(Clone, Debug)]
pub struct SessionRequest {
    pub kind: SessionKind,
    pub personal_meeting_kind: Option<PersonalMeetingKind>,
    pub service: ServiceCode,
    pub course: Option<CourseId>,
    pub title: ShortText,
    pub starts_at: OffsetDateTime,
    pub participants: Vec<PersonId>,
    pub attendees_informed_at: Option<OffsetDateTime>,
}

/// A session with everything that happened in it.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionRecord {
    #[serde(flatten)]
    pub session: Session,
    pub confirmations: Vec<Confirmation>,
    pub stops: Vec<Stop>,
    pub recordings: Vec<Recording>,
}

impl Custodian {
    /// Creates a course of sessions that one consent form can cover (C5).
    #[tracing::instrument(skip(self, caller), fields(staff = %caller.member.id))]
    pub async fn create_course(
        &self,
        caller: &Caller,
        service: ServiceCode,
        title: ShortText,
    ) -> AppResult<Course> {
        self.authorize(caller, Action::ManageCourses, Target::Organisation)
            .await?;
        let now = self.clock.now();
        let course = Course {
            id: CourseId::from_uuid(Uuid::now_v7()),
            service,
            title,
        };
        let mut tx = self.register.write().await?;
        tx.insert_course(&course, caller.member.id, now).await?;
        Audit::change("course.created")
            .detail(serde_json::json!({ "course_id": course.id, "service": course.service }))
            .write(&mut tx, caller.actor(), now)
            .await?;
        tx.commit().await?;
        Ok(course)
    }

    /// A course.
    pub async fn course(&self, caller: &Caller, id: CourseId) -> AppResult<Course> {
        self.authorize(caller, Action::ManageCourses, Target::Organisation)
            .await?;
        let mut tx = self.register.read().await?;
        tx.course(id)
            .await?
            .ok_or_else(|| AppError::not_found("course", id))
    }

    /// The courses a person has answered a consent form for, oldest first (C5).
    pub async fn courses_of(&self, caller: &Caller, person: PersonId) -> AppResult<Vec<Course>> {
        self.read_person(caller, Action::ViewPerson, person).await?;
        let mut tx = self.register.read().await?;
        let mut courses: Vec<Course> = Vec::new();
        for consent in tx.consents_of(person).await? {
            if let custodian_core::consent::Scope::Course { course_id } = consent.scope
                && !courses.iter().any(|c| c.id == course_id)
                && let Some(course) = tx.course(course_id).await?
            {
                courses.push(course);
            }
        }
        Ok(courses)
    }

    /// Starts a session with its participants.
    #[tracing::instrument(skip(self, caller, request), fields(staff = %caller.member.id))]
    pub async fn start_session(
        &self,
        caller: &Caller,
        request: SessionRequest,
    ) -> AppResult<Session> {
        for person in &request.participants {
            self.read_person(caller, Action::StartSession, *person)
                .await?;
        }
        let now = self.clock.now();
        let mut tx = self.register.write().await?;
        let course = match request.course {
            Some(id) => Some(
                tx.course(id)
                    .await?
                    .ok_or_else(|| AppError::not_found("course", id))?,
            ),
            None => None,
        };
        for person in &request.participants {
            tx.person(*person)
                .await?
                .ok_or_else(|| AppError::not_found("person", person))?;
        }
        let session = Session::new(
            SessionId::from_uuid(Uuid::now_v7()),
            SessionForm {
                kind: request.kind,
                personal_meeting_kind: request.personal_meeting_kind,
                service: request.service,
                course,
                title: request.title,
                starts_at: request.starts_at,
                participants: request.participants,
                attendees_informed_at: request.attendees_informed_at,
            },
            now,
        )?;
        tx.insert_session(&session, caller.member.id, now).await?;
        for person in &session.participants {
            Audit::change("session.started")
                .person(*person)
                .detail(serde_json::json!({ "session_id": session.id, "kind": session.kind }))
                .write(&mut tx, caller.actor(), now)
                .await?;
        }
        tx.commit().await?;
        Ok(session)
    }

    /// A session with its confirmations, stops and recordings.
    pub async fn session(&self, caller: &Caller, id: SessionId) -> AppResult<SessionRecord> {
        self.session_to(caller, Action::ViewSession, id).await
    }

    /// A session with its confirmations, stops and recordings, for a page that offers
    /// `action` on it: refused unless the caller may do it.
    pub async fn session_to(
        &self,
        caller: &Caller,
        action: Action,
        id: SessionId,
    ) -> AppResult<SessionRecord> {
        let session = self.session_for(caller, action, id).await?;
        let mut tx = self.register.read().await?;
        Ok(SessionRecord {
            confirmations: tx.confirmations_in(id).await?,
            stops: tx.stops_in(id).await?,
            recordings: tx.recordings_in(id).await?,
            session,
        })
    }

    /// The sessions a person takes part in, latest first.
    pub async fn sessions_of(&self, caller: &Caller, person: PersonId) -> AppResult<Vec<Session>> {
        self.read_person(caller, Action::ViewPerson, person).await?;
        let sessions = {
            let mut tx = self.register.read().await?;
            tx.sessions_of(person).await?
        };
        self.visible_sessions(caller, sessions).await
    }

    /// Loads a session after checking the caller may do `action` to it.
    pub(crate) async fn session_for(
        &self,
        caller: &Caller,
        action: Action,
        id: SessionId,
    ) -> AppResult<Session> {
        caller.ready()?;
        let session = {
            let mut tx = self.register.read().await?;
            tx.session(id)
                .await?
                .ok_or_else(|| AppError::not_found("session", id))?
        };
        self.authorize(caller, action, Target::Session(&session))
            .await?;
        Ok(session)
    }

    /// The sessions of `sessions` the caller may see: a session with someone they are
    /// connected to is left out (S3).
    pub(crate) async fn visible_sessions(
        &self,
        caller: &Caller,
        sessions: Vec<Session>,
    ) -> AppResult<Vec<Session>> {
        self.visible(
            caller,
            Action::ViewSession,
            sessions,
            |session: &Session| Target::Session(session),
        )
        .await
    }

    /// Records a participant's answer to "are you still willing for this session to be recorded?" (C5).
    #[tracing::instrument(skip(self, caller, note), fields(staff = %caller.member.id))]
    #[allow(clippy::too_many_arguments)]
    pub async fn confirm_still_willing(
        &self,
        caller: &Caller,
        session: SessionId,
        person: PersonId,
        willing: bool,
        at: OffsetDateTime,
        representative: Option<RepresentativeId>,
        note: Option<Note>,
    ) -> AppResult<Confirmation> {
        self.session_for(caller, Action::RunSession, session)
            .await?;
        let now = self.clock.now();
        let mut tx = self.register.write().await?;
        let found = tx
            .session(session)
            .await?
            .ok_or_else(|| AppError::not_found("session", session))?;
        let confirmed_by = match representative {
            None => Confirmer::Person,
            Some(id) => {
                let rep = tx
                    .representative(id)
                    .await?
                    .ok_or_else(|| AppError::not_found("representative", id))?;
                if rep.person_id != person {
                    return Err(custodian_core::DomainError::RepresentativeOfAnotherPerson.into());
                }
                Confirmer::Representative {
                    representative_id: id,
                }
            }
        };
        let confirmation = Confirmation::new(
            ConfirmationId::from_uuid(Uuid::now_v7()),
            &found,
            person,
            willing,
            at,
            confirmed_by,
            note,
            now,
        )?;
        tx.insert_confirmation(&confirmation, caller.member.id, now)
            .await?;
        if !willing {
            revoke_grants(
                &mut tx,
                GrantsResting::On(person),
                now,
                "they said they are not willing to be recorded in this session",
            )
            .await?;
        }
        Audit::change("session.confirmation_recorded")
            .person(person)
            .detail(serde_json::json!({ "session_id": session, "willing": willing }))
            .write(&mut tx, caller.actor(), now)
            .await?;
        tx.commit().await?;
        Ok(confirmation)
    }

    /// Records a stop or pause and the choice made (C9).
    #[tracing::instrument(skip(self, caller, note), fields(staff = %caller.member.id))]
    pub async fn stop_session(
        &self,
        caller: &Caller,
        session: SessionId,
        at: OffsetDateTime,
        choice: StopChoice,
        requested_by: Option<PersonId>,
        note: Option<Note>,
    ) -> AppResult<Stop> {
        self.session_for(caller, Action::RunSession, session)
            .await?;
        let now = self.clock.now();
        let mut tx = self.register.write().await?;
        let found = tx
            .session(session)
            .await?
            .ok_or_else(|| AppError::not_found("session", session))?;
        let stop = Stop::new(
            StopId::from_uuid(Uuid::now_v7()),
            &found,
            at,
            choice,
            requested_by,
            note,
            now,
        )?;
        tx.insert_stop(&stop, caller.member.id, now).await?;
        // A stop may delete what was recorded (C9): whatever the choice, decide afresh.
        for person in &found.participants {
            revoke_grants(
                &mut tx,
                GrantsResting::On(*person),
                now,
                "the session was stopped",
            )
            .await?;
        }
        // What it deletes goes on the disposal path now, not at the next sweep.
        let to_destroy = crate::retention::on_stopped(&mut tx, session, now).await?;
        for person in &found.participants {
            Audit::change("session.stopped")
                .person(*person)
                .detail(serde_json::json!({
                    "session_id": session, "choice": choice, "recordings_to_destroy": to_destroy,
                }))
                .write(&mut tx, caller.actor(), now)
                .await?;
        }
        tx.commit().await?;
        Ok(stop)
    }

    /// Records when a meeting's attendees were told it is recorded (C12, R5).
    #[tracing::instrument(skip(self, caller), fields(staff = %caller.member.id))]
    pub async fn record_attendees_informed(
        &self,
        caller: &Caller,
        session: SessionId,
        at: OffsetDateTime,
    ) -> AppResult<Session> {
        self.session_for(caller, Action::RunSession, session)
            .await?;
        let now = self.clock.now();
        let at = custodian_core::clock::not_in_future(
            "attendees_informed_at",
            custodian_core::clock::normalise(at),
            now,
        )?;
        let mut tx = self.register.write().await?;
        let mut found = tx
            .session(session)
            .await?
            .ok_or_else(|| AppError::not_found("session", session))?;
        tx.set_attendees_informed(session, at).await?;
        found.attendees_informed_at = Some(at);
        Audit::change("session.attendees_informed")
            .detail(serde_json::json!({ "session_id": session, "at": at.unix_timestamp() }))
            .write(&mut tx, caller.actor(), now)
            .await?;
        tx.commit().await?;
        Ok(found)
    }
}
