//! Courses, sessions, "still willing" confirmations and stops (C5, C9, C12).

use axum::extract::State;
use axum::http::StatusCode;
use custodian_app::sessions::{SessionRecord, SessionRequest};
use custodian_core::ids::{CourseId, PersonId, RepresentativeId, SessionId};
use custodian_core::session::{
    Confirmation, Course, PersonalMeetingKind, Session, SessionKind, Stop, StopChoice,
};
use custodian_core::text::{ServiceCode, ShortText};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiResult, Problem};
use crate::extract::{Body, Path, Staff};
use crate::input::{moment, optional_moment, optional_note};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_course))
        .routes(routes!(course))
        .routes(routes!(start_session))
        .routes(routes!(session))
        .routes(routes!(confirm))
        .routes(routes!(stop))
        .routes(routes!(attendees_informed))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCourse {
    #[schema(example = "CAMHS-NORTH")]
    service: String,
    title: String,
}

/// Create a course of sessions that one consent form can cover (C5).
#[utoipa::path(post, path = "/courses", tag = "sessions", request_body = NewCourse,
    responses((status = CREATED, body = Course), (status = UNPROCESSABLE_ENTITY, body = Problem)))]
async fn create_course(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Body(request): Body<NewCourse>,
) -> ApiResult<(StatusCode, axum::Json<Course>)> {
    let service = ServiceCode::parse(&request.service)?;
    let title = ShortText::parse("title", &request.title)?;
    Ok((
        StatusCode::CREATED,
        axum::Json(
            state
                .custodian
                .create_course(&caller, service, title)
                .await?,
        ),
    ))
}

/// A course.
#[utoipa::path(get, path = "/courses/{id}", tag = "sessions", params(("id" = CourseId, Path)),
    responses((status = OK, body = Course), (status = NOT_FOUND, body = Problem)))]
async fn course(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<CourseId>,
) -> ApiResult<axum::Json<Course>> {
    Ok(axum::Json(state.custodian.course(&caller, id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSession {
    /// `individual`, `family`, `group`, `case_conference`, `staff_meeting` or `personal_staff_meeting`.
    kind: String,
    /// For a personal staff meeting: `one_to_one`, `appraisal`, `sickness`, `capability` or `disciplinary`.
    personal_meeting_kind: Option<String>,
    /// The service; taken from the course when one is given.
    service: String,
    course_id: Option<CourseId>,
    title: String,
    /// RFC 3339.
    starts_at: String,
    participants: Vec<PersonId>,
    /// For meetings: when attendees were told it is recorded (C12, R5).
    attendees_informed_at: Option<String>,
}

/// Start a session with its participants.
#[utoipa::path(post, path = "/sessions", tag = "sessions", request_body = NewSession,
    responses((status = CREATED, body = Session), (status = UNPROCESSABLE_ENTITY, body = Problem), (status = NOT_FOUND, body = Problem)))]
async fn start_session(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Body(request): Body<NewSession>,
) -> ApiResult<(StatusCode, axum::Json<Session>)> {
    let session_request = SessionRequest {
        kind: SessionKind::parse(&request.kind)?,
        personal_meeting_kind: request
            .personal_meeting_kind
            .as_deref()
            .filter(|k| !k.trim().is_empty())
            .map(PersonalMeetingKind::parse)
            .transpose()?,
        service: ServiceCode::parse(&request.service)?,
        course: request.course_id,
        title: ShortText::parse("title", &request.title)?,
        starts_at: moment("starts_at", &request.starts_at)?,
        participants: request.participants,
        attendees_informed_at: optional_moment(
            "attendees_informed_at",
            request.attendees_informed_at.as_deref(),
        )?,
    };
    Ok((
        StatusCode::CREATED,
        axum::Json(
            state
                .custodian
                .start_session(&caller, session_request)
                .await?,
        ),
    ))
}

/// A session with its confirmations, stops and recordings.
#[utoipa::path(get, path = "/sessions/{id}", tag = "sessions", params(("id" = SessionId, Path)),
    responses((status = OK, body = SessionRecord), (status = NOT_FOUND, body = Problem)))]
async fn session(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<SessionId>,
) -> ApiResult<axum::Json<SessionRecord>> {
    Ok(axum::Json(state.custodian.session(&caller, id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewConfirmation {
    person_id: PersonId,
    /// Their answer; "not sure" is `false` (C4).
    willing: bool,
    /// RFC 3339.
    at: String,
    /// When a representative answered for the person.
    representative_id: Option<RepresentativeId>,
    note: Option<String>,
}

/// Record a participant's answer to "are you still willing for this session to be recorded?" (C5).
#[utoipa::path(post, path = "/sessions/{id}/confirmations", tag = "sessions", params(("id" = SessionId, Path)),
    request_body = NewConfirmation,
    responses((status = CREATED, body = Confirmation), (status = UNPROCESSABLE_ENTITY, body = Problem), (status = NOT_FOUND, body = Problem)))]
async fn confirm(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<SessionId>,
    Body(request): Body<NewConfirmation>,
) -> ApiResult<(StatusCode, axum::Json<Confirmation>)> {
    let at = moment("at", &request.at)?;
    let note = optional_note("note", request.note.as_deref())?;
    let confirmation = state
        .custodian
        .confirm_still_willing(
            &caller,
            id,
            request.person_id,
            request.willing,
            at,
            request.representative_id,
            note,
        )
        .await?;
    Ok((StatusCode::CREATED, axum::Json(confirmation)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewStop {
    /// RFC 3339.
    at: String,
    /// `discontinue_and_delete`, `delete_so_far_and_continue`, `pause_and_resume`, `discontinue_and_keep` or `delete_at_end` (C9).
    choice: String,
    /// The participant who asked, if one did.
    requested_by: Option<PersonId>,
    note: Option<String>,
}

/// Record a stop or pause and the choice made (C9).
#[utoipa::path(post, path = "/sessions/{id}/stops", tag = "sessions", params(("id" = SessionId, Path)),
    request_body = NewStop,
    responses((status = CREATED, body = Stop), (status = UNPROCESSABLE_ENTITY, body = Problem), (status = NOT_FOUND, body = Problem)))]
async fn stop(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<SessionId>,
    Body(request): Body<NewStop>,
) -> ApiResult<(StatusCode, axum::Json<Stop>)> {
    let at = moment("at", &request.at)?;
    let choice = StopChoice::parse(&request.choice)?;
    let note = optional_note("note", request.note.as_deref())?;
    let stop = state
        .custodian
        .stop_session(&caller, id, at, choice, request.requested_by, note)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(stop)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttendeesInformed {
    /// RFC 3339.
    at: String,
}

/// Record when a meeting's attendees were told it is recorded (C12, R5).
#[utoipa::path(put, path = "/sessions/{id}/attendees-informed", tag = "sessions", params(("id" = SessionId, Path)),
    request_body = AttendeesInformed,
    responses((status = OK, body = Session), (status = UNPROCESSABLE_ENTITY, body = Problem), (status = NOT_FOUND, body = Problem)))]
async fn attendees_informed(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<SessionId>,
    Body(request): Body<AttendeesInformed>,
) -> ApiResult<axum::Json<Session>> {
    let at = moment("at", &request.at)?;
    Ok(axum::Json(
        state
            .custodian
            .record_attendees_informed(&caller, id, at)
            .await?,
    ))
}
