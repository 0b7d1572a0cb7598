//! Courses, sessions, "still willing" confirmations and stops in the register.

use custodian_core::ids::{
    ConfirmationId, CourseId, PersonId, RepresentativeId, SessionId, StaffId, StopId,
};
use custodian_core::session::{
    Confirmation, Confirmer, Course, PersonalMeetingKind, Session, SessionKind, Stop, StopChoice,
};
use custodian_core::text::ServiceCode;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::rows::{KnownBy, note, present, short, stored};
use crate::{RegisterTx, StoreError, StoreResult, on_both};

#[derive(sqlx::FromRow)]
struct SessionRow {
    id: Uuid,
    kind: String,
    personal_meeting_kind: Option<String>,
    service: String,
    course_id: Option<Uuid>,
    title: String,
    starts_at: OffsetDateTime,
    attendees_informed_at: Option<OffsetDateTime>,
}

impl SessionRow {
    fn into_session(self, participants: Vec<PersonId>) -> Result<Session, StoreError> {
        Ok(Session {
            id: SessionId::from_uuid(self.id),
            kind: stored("session kind", SessionKind::parse(&self.kind))?,
            personal_meeting_kind: self
                .personal_meeting_kind
                .map(|k| stored("personal meeting kind", PersonalMeetingKind::parse(&k)))
                .transpose()?,
            service: stored("session service", ServiceCode::parse(&self.service))?,
            course_id: self.course_id.map(CourseId::from_uuid),
            title: short("session title", &self.title)?,
            starts_at: self.starts_at,
            participants,
            attendees_informed_at: self.attendees_informed_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct ConfirmationRow {
    id: Uuid,
    session_id: Uuid,
    person_id: Uuid,
    willing: bool,
    at: OffsetDateTime,
    confirmed_by_kind: String,
    representative_id: Option<Uuid>,
    note: Option<String>,
    recorded_at: OffsetDateTime,
}

impl TryFrom<ConfirmationRow> for Confirmation {
    type Error = StoreError;

    fn try_from(row: ConfirmationRow) -> Result<Self, StoreError> {
        let confirmed_by = match row.confirmed_by_kind.as_str() {
            "person" => Confirmer::Person,
            "representative" => Confirmer::Representative {
                representative_id: RepresentativeId::from_uuid(present(
                    "confirming representative",
                    row.representative_id,
                )?),
            },
            other => return Err(StoreError::corrupt("confirmer", other)),
        };
        Ok(Confirmation {
            id: ConfirmationId::from_uuid(row.id),
            session_id: SessionId::from_uuid(row.session_id),
            person_id: PersonId::from_uuid(row.person_id),
            willing: row.willing,
            at: row.at,
            confirmed_by,
            note: note("confirmation note", row.note.as_deref())?,
        })
    }
}

#[derive(sqlx::FromRow)]
struct StopRow {
    id: Uuid,
    session_id: Uuid,
    at: OffsetDateTime,
    choice: String,
    requested_by: Option<Uuid>,
    note: Option<String>,
    recorded_at: OffsetDateTime,
}

impl TryFrom<StopRow> for Stop {
    type Error = StoreError;

    fn try_from(row: StopRow) -> Result<Self, StoreError> {
        Ok(Stop {
            id: StopId::from_uuid(row.id),
            session_id: SessionId::from_uuid(row.session_id),
            at: row.at,
            choice: stored("stop choice", StopChoice::parse(&row.choice))?,
            requested_by: row.requested_by.map(PersonId::from_uuid),
            note: note("stop note", row.note.as_deref())?,
        })
    }
}

impl RegisterTx {
    /// Adds a course of sessions.
    pub async fn insert_course(
        &mut self,
        course: &Course,
        by: StaffId,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        on_both!(self, conn => sqlx::query("INSERT INTO courses (id, service, title, created_at, created_by) VALUES ($1, $2, $3, $4, $5)")
            .bind(course.id.as_uuid())
            .bind(course.service.as_str())
            .bind(course.title.as_str())
            .bind(at)
            .bind(by.as_uuid())
            .execute(&mut **conn)
            .await?.rows_affected());
        Ok(())
    }

    /// The course with `id`.
    pub async fn course(&mut self, id: CourseId) -> StoreResult<Option<Course>> {
        let row: Option<(Uuid, String, String)> = on_both!(self, conn => sqlx::query_as("SELECT id, service, title FROM courses WHERE id = $1")
                .bind(id.as_uuid())
                .fetch_optional(&mut **conn)
                .await?);
        row.map(|(id, service, title)| {
            Ok(Course {
                id: CourseId::from_uuid(id),
                service: stored("course service", ServiceCode::parse(&service))?,
                title: short("course title", &title)?,
            })
        })
        .transpose()
    }

    /// Adds a session with its participants.
    pub async fn insert_session(
        &mut self,
        session: &Session,
        by: StaffId,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        on_both!(self, conn => sqlx::query(
            "INSERT INTO sessions (id, kind, personal_meeting_kind, service, course_id, title, starts_at, attendees_informed_at, created_at, created_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(session.id.as_uuid())
        .bind(session.kind.as_str())
        .bind(session.personal_meeting_kind.map(|k| k.as_str()))
        .bind(session.service.as_str())
        .bind(session.course_id.map(|c| c.as_uuid()))
        .bind(session.title.as_str())
        .bind(session.starts_at)
        .bind(session.attendees_informed_at)
        .bind(at)
        .bind(by.as_uuid())
        .execute(&mut **conn)
        .await?.rows_affected());
        let participants: Vec<Uuid> = session.participants.iter().map(|p| p.as_uuid()).collect();
        self.insert_ids(
            "session_participants",
            "session_id",
            "person_id",
            session.id.as_uuid(),
            &participants,
        )
        .await?;
        Ok(())
    }

    /// Records when meeting attendees were told it is recorded (C12, R5).
    pub async fn set_attendees_informed(
        &mut self,
        session: SessionId,
        informed_at: OffsetDateTime,
    ) -> StoreResult<bool> {
        let changed = on_both!(self, conn => sqlx::query("UPDATE sessions SET attendees_informed_at = $1 WHERE id = $2")
            .bind(informed_at)
            .bind(session.as_uuid())
            .execute(&mut **conn)
            .await?
            .rows_affected());
        Ok(changed == 1)
    }

    /// The session with `id`, with its participants.
    pub async fn session(&mut self, id: SessionId) -> StoreResult<Option<Session>> {
        let row: Option<SessionRow> = on_both!(self, conn => sqlx::query_as(
            "SELECT id, kind, personal_meeting_kind, service, course_id, title, starts_at, attendees_informed_at FROM sessions WHERE id = $1",
        )
        .bind(id.as_uuid())
        .fetch_optional(&mut **conn)
        .await?);
        let Some(row) = row else { return Ok(None) };
        let participants: Vec<Uuid> = on_both!(self, conn => sqlx::query_scalar(
            "SELECT person_id FROM session_participants WHERE session_id = $1 ORDER BY person_id",
        )
        .bind(id.as_uuid())
        .fetch_all(&mut **conn)
        .await?);
        let mut participants: Vec<PersonId> =
            participants.into_iter().map(PersonId::from_uuid).collect();
        participants.sort_unstable();
        row.into_session(participants).map(Some)
    }

    /// The sessions a person takes part in, latest first.
    pub async fn sessions_of(&mut self, person: PersonId) -> StoreResult<Vec<Session>> {
        self.latest_sessions_of(person, u32::MAX).await
    }

    /// The latest `limit` sessions a person takes part in, latest first (for pages).
    pub async fn latest_sessions_of(
        &mut self,
        person: PersonId,
        limit: u32,
    ) -> StoreResult<Vec<Session>> {
        let ids: Vec<Uuid> = on_both!(self, conn => sqlx::query_scalar(
            "SELECT s.id FROM sessions s JOIN session_participants p ON p.session_id = s.id
             WHERE p.person_id = $1 ORDER BY s.starts_at DESC, s.id LIMIT $2",
        )
        .bind(person.as_uuid())
        .bind(i64::from(limit))
        .fetch_all(&mut **conn)
        .await?);
        self.sessions(ids).await
    }

    /// The sessions `staff` started that begin in `from..until`, earliest first.
    pub async fn sessions_started_by(
        &mut self,
        staff: StaffId,
        from: OffsetDateTime,
        until: OffsetDateTime,
    ) -> StoreResult<Vec<Session>> {
        let ids: Vec<Uuid> = on_both!(self, conn => sqlx::query_scalar(
            "SELECT id FROM sessions WHERE created_by = $1 AND starts_at >= $2 AND starts_at < $3
             ORDER BY starts_at, id",
        )
        .bind(staff.as_uuid())
        .bind(from)
        .bind(until)
        .fetch_all(&mut **conn)
        .await?);
        self.sessions(ids).await
    }

    /// The sessions with these ids, in the order given, with their participants.
    async fn sessions(&mut self, ids: Vec<Uuid>) -> StoreResult<Vec<Session>> {
        let mut sessions = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(session) = self.session(SessionId::from_uuid(id)).await? {
                sessions.push(session);
            }
        }
        Ok(sessions)
    }

    /// Records a "still willing" answer.
    pub async fn insert_confirmation(
        &mut self,
        confirmation: &Confirmation,
        by: StaffId,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        let (kind, representative) = match &confirmation.confirmed_by {
            Confirmer::Person => ("person", None),
            Confirmer::Representative { representative_id } => {
                ("representative", Some(representative_id.as_uuid()))
            }
        };
        on_both!(self, conn => sqlx::query(
            "INSERT INTO confirmations (id, session_id, person_id, willing, at, confirmed_by_kind, representative_id, note, recorded_at, recorded_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(confirmation.id.as_uuid())
        .bind(confirmation.session_id.as_uuid())
        .bind(confirmation.person_id.as_uuid())
        .bind(confirmation.willing)
        .bind(confirmation.at)
        .bind(kind)
        .bind(representative)
        .bind(confirmation.note.as_ref().map(|n| n.as_str().to_owned()))
        .bind(at)
        .bind(by.as_uuid())
        .execute(&mut **conn)
        .await?.rows_affected());
        Ok(())
    }

    /// A session's "still willing" answers, in the order they were given.
    pub async fn confirmations_in(&mut self, session: SessionId) -> StoreResult<Vec<Confirmation>> {
        self.confirmations_known_by(session, KnownBy::EVERYTHING)
            .await
    }

    /// The "still willing" answers in a session that the register held at `known_at`
    /// (recorded at or before it), in the order they were given.
    pub async fn confirmations_known_at(
        &mut self,
        session: SessionId,
        known_at: Option<OffsetDateTime>,
    ) -> StoreResult<Vec<Confirmation>> {
        self.confirmations_known_by(session, KnownBy::as_of(known_at))
            .await
    }

    async fn confirmations_known_by(
        &mut self,
        session: SessionId,
        known: KnownBy,
    ) -> StoreResult<Vec<Confirmation>> {
        let rows: Vec<ConfirmationRow> = on_both!(self, conn => sqlx::query_as(
            "SELECT id, session_id, person_id, willing, at, confirmed_by_kind, representative_id, note, recorded_at
             FROM confirmations WHERE session_id = $1 AND ($2 IS NULL OR recorded_at <= $2) ORDER BY at, id",
        )
        .bind(session.as_uuid())
        .bind(known.bound())
        .fetch_all(&mut **conn)
        .await?);
        rows.into_iter()
            .filter(|row| known.holds(row.recorded_at))
            .map(Confirmation::try_from)
            .collect()
    }

    /// Records a stop or pause.
    pub async fn insert_stop(
        &mut self,
        stop: &Stop,
        by: StaffId,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        on_both!(self, conn => sqlx::query(
            "INSERT INTO session_stops (id, session_id, at, choice, requested_by, note, recorded_at, recorded_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(stop.id.as_uuid())
        .bind(stop.session_id.as_uuid())
        .bind(stop.at)
        .bind(stop.choice.as_str())
        .bind(stop.requested_by.map(|p| p.as_uuid()))
        .bind(stop.note.as_ref().map(|n| n.as_str().to_owned()))
        .bind(at)
        .bind(by.as_uuid())
        .execute(&mut **conn)
        .await?.rows_affected());
        Ok(())
    }

    /// A session's stops, in the order they happened.
    pub async fn stops_in(&mut self, session: SessionId) -> StoreResult<Vec<Stop>> {
        self.stops_known_by(session, KnownBy::EVERYTHING).await
    }

    /// The stops in a session that the register held at `known_at` (recorded at or before it),
    /// in the order they happened.
    pub async fn stops_known_at(
        &mut self,
        session: SessionId,
        known_at: Option<OffsetDateTime>,
    ) -> StoreResult<Vec<Stop>> {
        self.stops_known_by(session, KnownBy::as_of(known_at)).await
    }

    async fn stops_known_by(
        &mut self,
        session: SessionId,
        known: KnownBy,
    ) -> StoreResult<Vec<Stop>> {
        let rows: Vec<StopRow> = on_both!(self, conn => sqlx::query_as(
            "SELECT id, session_id, at, choice, requested_by, note, recorded_at
             FROM session_stops WHERE session_id = $1 AND ($2 IS NULL OR recorded_at <= $2) ORDER BY at, id",
        )
        .bind(session.as_uuid())
        .bind(known.bound())
        .fetch_all(&mut **conn)
        .await?);
        rows.into_iter()
            .filter(|row| known.holds(row.recorded_at))
            .map(Stop::try_from)
            .collect()
    }
}
