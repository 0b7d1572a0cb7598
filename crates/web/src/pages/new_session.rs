//! Starting a session from a person's page: its kind, title, service or course, and who takes part.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use custodian_access::Action;
use custodian_app::AppError;
use custodian_app::sessions::SessionRequest;
use custodian_core::DomainError;
use custodian_core::ids::PersonId;
use custodian_core::person::Person;
use custodian_core::session::{Course, SessionKind};
use custodian_core::text::{ServiceCode, ShortText};
use serde::Deserialize;

use super::signed_in::SignedIn;
use super::views::PersonSummary;
use super::{FieldError, FormErrors, form_errors, render};
use crate::AppState;
use crate::extract::Path;
use crate::pages::PageResult;
use crate::pages::checked::Checked;

/// The kinds of session started from a person's page; meetings of staff are started through the API.
const KINDS: [SessionKind; 4] = [
    SessionKind::Individual,
    SessionKind::Family,
    SessionKind::Group,
    SessionKind::CaseConference,
];

#[derive(Deserialize, Default)]
pub struct SessionFields {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    service: String,
    /// NHS numbers or local identifiers of the others taking part, one per line.
    #[serde(default)]
    others: String,
    /// The course the session belongs to, if any (C5).
    #[serde(default)]
    course: String,
}

#[derive(Template)]
#[template(path = "new_session.html")]
struct NewSessionPage {
    title: &'static str,
    signed_in_as: Option<super::signed_in::Who>,
    errors: Vec<FieldError>,
    person: PersonSummary,
    kinds: Vec<(&'static str, String)>,
    /// The person's courses: id and title.
    courses: Vec<(String, String)>,
    form: SessionFields,
}

form_errors!(NewSessionPage);

fn new_session_page(
    staff: &SignedIn,
    person: &Person,
    courses: &[Course],
    form: SessionFields,
    errors: Vec<FieldError>,
) -> NewSessionPage {
    NewSessionPage {
        title: "Start a session",
        signed_in_as: Some(staff.who()),
        errors,
        person: PersonSummary::from(person),
        kinds: KINDS
            .iter()
            .map(|k| (k.as_str(), super::sentence(k.label())))
            .collect(),
        courses: courses
            .iter()
            .map(|c| (c.id.to_string(), format!("{} ({})", c.title, c.service)))
            .collect(),
        form,
    }
}

/// The person and the courses they answered a consent form for.
async fn person_and_courses(
    state: &AppState,
    staff: &SignedIn,
    person: PersonId,
) -> Result<(Person, Vec<Course>), AppError> {
    let record = state
        .custodian
        .person_to(&staff.caller, Action::StartSession, person)
        .await?;
    let courses = state.custodian.courses_of(&staff.caller, person).await?;
    Ok((record.person, courses))
}

pub async fn new_session(
    State(state): State<AppState>,
    staff: SignedIn,
    Path(person): Path<PersonId>,
) -> PageResult {
    let (found, courses) = person_and_courses(&state, &staff, person).await?;
    Ok(render(
        StatusCode::OK,
        &new_session_page(
            &staff,
            &found,
            &courses,
            SessionFields::default(),
            Vec::new(),
        ),
    ))
}

pub async fn start_session(
    State(state): State<AppState>,
    staff: SignedIn,
    Path(person): Path<PersonId>,
    Checked(fields): Checked<SessionFields>,
) -> PageResult {
    let (found, courses) = person_and_courses(&state, &staff, person).await?;
    let mut errors = Vec::new();
    let course = match fields.course.as_str() {
        "" => None,
        chosen => {
            let known = courses.iter().find(|c| c.id.to_string() == chosen);
            if known.is_none() {
                errors.push(FieldError::new(
                    "course",
                    "Choose one of the courses they consented to",
                ));
            }
            known
        }
    };
    let kind = match fields.kind.as_str() {
        "" => Err(DomainError::Empty { field: "kind" }),
        kind => SessionKind::parse(kind),
    };
    let title = ShortText::parse("title", &fields.title);
    // A session in a course takes the course's service.
    let service = match course {
        Some(course) => Ok(course.service.clone()),
        None => ServiceCode::parse(&fields.service),
    };
    for error in [
        kind.as_ref().err(),
        title.as_ref().err(),
        service.as_ref().err(),
    ]
    .into_iter()
    .flatten()
    {
        errors.push(field_error(error));
    }
    let mut participants = vec![person];
    for line in fields
        .others
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
    {
        match find_exactly(&state, &staff, line).await {
            Ok(Some(found)) => participants.push(found),
            Ok(None) => errors.push(FieldError::new(
                "others",
                format!("Nobody is registered with the NHS number or local identifier {line}"),
            )),
            Err(error) => return Err(error.into()),
        }
    }
    if let (Ok(kind), Ok(title), Ok(service), true) = (kind, title, service, errors.is_empty()) {
        let request = SessionRequest {
            kind,
            personal_meeting_kind: None,
            service,
            course: course.map(|c| c.id),
            title,
            starts_at: state.custodian.now(),
            participants,
            attendees_informed_at: None,
        };
        match state.custodian.start_session(&staff.caller, request).await {
            Ok(session) => {
                return Ok(Redirect::to(&format!("/sessions/{}", session.id)).into_response());
            }
            Err(AppError::Invalid(error)) => errors.push(field_error(&error)),
            Err(error) => return Err(error.into()),
        }
    }
    let page = new_session_page(&staff, &found, &courses, fields, errors);
    Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page))
}

/// The one person with exactly this NHS number or local identifier.
async fn find_exactly(
    state: &AppState,
    staff: &SignedIn,
    identifier: &str,
) -> Result<Option<PersonId>, AppError> {
    let compact: String = identifier.chars().filter(|c| !c.is_whitespace()).collect();
    let found = state
        .custodian
        .find_persons(&staff.caller, identifier, 20)
        .await?;
    Ok(found
        .iter()
        .find(|p| {
            p.nhs_number
                .as_ref()
                .is_some_and(|n| n.to_string().replace(' ', "") == compact)
                || p.local_identifier
                    .as_ref()
                    .is_some_and(|l| l.as_str() == identifier)
        })
        .map(|p| p.id))
}

fn field_error(error: &DomainError) -> FieldError {
    let field = match error.field() {
        Some("kind") => "kind",
        Some("title") => "title",
        Some("service") => "service",
        _ => "others",
    };
    let message = match error {
        DomainError::Empty { field: "kind" } => "Choose what kind of session it is".to_owned(),
        DomainError::Empty { field: "title" } => {
            "Enter a title, such as Speech therapy, week 3".to_owned()
        }
        DomainError::Empty { field: "service" } => {
            "Enter the service, such as CAMHS-NORTH".to_owned()
        }
        other => super::sentence(&other.to_string().replace('_', " ")),
    };
    FieldError::new(field, message)
}
