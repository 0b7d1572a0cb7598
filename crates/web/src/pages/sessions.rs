//! Sessions: starting one with its participants, "still willing today?" (C5), and stop or pause (C9).

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use custodian_app::AppError;
use custodian_app::london::london_time;
use custodian_app::sessions::{SessionRecord, SessionRequest};
use custodian_core::DomainError;
use custodian_core::ids::{PersonId, SessionId};
use custodian_core::person::Person;
use custodian_core::session::{Course, SessionKind, StopChoice};
use custodian_core::text::{Note, ServiceCode, ShortText};
use serde::Deserialize;

use super::persons::PersonSummary;
use super::signed_in::SignedIn;
use super::{FieldError, error_page, first_error_for, optional, render};
use crate::AppState;
use crate::extract::Path;

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
    signed_in_as: Option<String>,
    errors: Vec<FieldError>,
    person: PersonSummary,
    kinds: Vec<(&'static str, String)>,
    /// The person's courses: id and title.
    courses: Vec<(String, String)>,
    form: SessionFields,
}

impl NewSessionPage {
    fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    fn error_for(&self, field: &str) -> Option<&str> {
        first_error_for(&self.errors, field)
    }
}

fn new_session_page(
    staff: &SignedIn,
    person: &Person,
    courses: &[Course],
    form: SessionFields,
    errors: Vec<FieldError>,
) -> NewSessionPage {
    NewSessionPage {
        title: "Start a session",
        signed_in_as: Some(staff.display_name()),
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
    let record = state.custodian.person(&staff.0, person).await?;
    let courses = state.custodian.courses_of(&staff.0, person).await?;
    Ok((record.person, courses))
}

pub async fn new_session(
    State(state): State<AppState>,
    staff: SignedIn,
    Path(person): Path<PersonId>,
) -> Response {
    match person_and_courses(&state, &staff, person).await {
        Ok((found, courses)) => render(
            StatusCode::OK,
            &new_session_page(
                &staff,
                &found,
                &courses,
                SessionFields::default(),
                Vec::new(),
            ),
        ),
        Err(error) => error_page(error, Some(staff.display_name())),
    }
}

pub async fn start_session(
    State(state): State<AppState>,
    staff: SignedIn,
    Path(person): Path<PersonId>,
    Form(fields): Form<SessionFields>,
) -> Response {
    let (found, courses) = match person_and_courses(&state, &staff, person).await {
        Ok(found) => found,
        Err(error) => return error_page(error, Some(staff.display_name())),
    };
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
            Err(error) => return error_page(error, Some(staff.display_name())),
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
        match state.custodian.start_session(&staff.0, request).await {
            Ok(session) => {
                return Redirect::to(&format!("/sessions/{}", session.id)).into_response();
            }
            Err(AppError::Invalid(error)) => errors.push(field_error(&error)),
            Err(error) => return error_page(error, Some(staff.display_name())),
        }
    }
    let page = new_session_page(&staff, &found, &courses, fields, errors);
    render(StatusCode::UNPROCESSABLE_ENTITY, &page)
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
        .find_persons(&staff.0, identifier, 20)
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

/// A participant as the session page shows them.
pub struct Participant {
    id: String,
    name: String,
    /// What the opening statement says of them (R3): never the full name.
    initials: String,
    date_of_birth: String,
    /// The latest answer to "still willing today?", in words, and whether it was yes.
    still_willing: Option<(String, bool)>,
}

#[derive(Template)]
#[template(path = "session.html")]
struct SessionPage {
    title: String,
    signed_in_as: Option<String>,
    errors: Vec<FieldError>,
    id: String,
    facts: Vec<(&'static str, String)>,
    participants: Vec<Participant>,
    stops: Vec<String>,
    stop_choices: Vec<(&'static str, String)>,
    recordings: Vec<(String, String)>,
}

impl SessionPage {
    fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    fn error_for(&self, field: &str) -> Option<&str> {
        first_error_for(&self.errors, field)
    }
}

/// The participants with their records, for the session and capture pages.
pub async fn participants(
    state: &AppState,
    staff: &SignedIn,
    record: &SessionRecord,
) -> Result<Vec<(Person, Participant)>, AppError> {
    let mut found = Vec::with_capacity(record.session.participants.len());
    for id in &record.session.participants {
        let person = state.custodian.person(&staff.0, *id).await?.person;
        let still_willing = record
            .confirmations
            .iter()
            .filter(|c| c.person_id == *id)
            .max_by_key(|c| c.at)
            .map(|c| {
                let answer = if c.willing { "Yes" } else { "No" };
                (format!("{answer}, {}", london_time(c.at)), c.willing)
            });
        let participant = Participant {
            id: id.to_string(),
            name: person.name.full(),
            initials: person.name.initials(),
            date_of_birth: super::long_date(person.date_of_birth),
            still_willing,
        };
        found.push((person, participant));
    }
    Ok(found)
}

async fn session_page(
    state: &AppState,
    staff: &SignedIn,
    id: SessionId,
    errors: Vec<FieldError>,
) -> Result<SessionPage, AppError> {
    let record = state.custodian.session(&staff.0, id).await?;
    let participants = participants(state, staff, &record).await?;
    let session = &record.session;
    let name_of = |person: PersonId| {
        participants
            .iter()
            .find(|(p, _)| p.id == person)
            .map_or_else(|| "a participant".to_owned(), |(p, _)| p.name.full())
    };
    let stops = record
        .stops
        .iter()
        .map(|stop| {
            let asked = stop
                .requested_by
                .map(|p| format!(", asked for by {}", name_of(p)))
                .unwrap_or_default();
            format!(
                "{}: {}{asked}",
                london_time(stop.at),
                super::sentence(stop.choice.label())
            )
        })
        .collect();
    Ok(SessionPage {
        title: session.title.to_string(),
        signed_in_as: Some(staff.display_name()),
        errors,
        id: session.id.to_string(),
        facts: vec![
            ("Kind", super::sentence(session.kind.label())),
            ("Service", session.service.to_string()),
            ("Started", london_time(session.starts_at)),
            (
                "Part of a course",
                if session.course_id.is_some() {
                    "Yes"
                } else {
                    "No"
                }
                .to_owned(),
            ),
        ],
        participants: participants.into_iter().map(|(_, p)| p).collect(),
        stops,
        stop_choices: StopChoice::ALL
            .iter()
            .map(|c| (c.as_str(), super::sentence(c.label())))
            .collect(),
        recordings: record
            .recordings
            .iter()
            .map(|r| {
                let words = format!(
                    "{}, {}",
                    super::sentence(r.kind.label()),
                    london_time(r.made_at)
                );
                (r.id.to_string(), words)
            })
            .collect(),
    })
}

pub async fn show(
    State(state): State<AppState>,
    staff: SignedIn,
    Path(id): Path<SessionId>,
) -> Response {
    match session_page(&state, &staff, id, Vec::new()).await {
        Ok(page) => render(StatusCode::OK, &page),
        Err(error) => error_page(error, Some(staff.display_name())),
    }
}

#[derive(Deserialize)]
pub struct ConfirmationFields {
    person: String,
    willing: String,
}

/// Records one participant's "still willing today?" answer (C5).
pub async fn confirm(
    State(state): State<AppState>,
    staff: SignedIn,
    Path(id): Path<SessionId>,
    Form(fields): Form<ConfirmationFields>,
) -> Response {
    let person = fields.person.parse().map(PersonId::from_uuid);
    let outcome = match person {
        Ok(person) => {
            state
                .custodian
                .confirm_still_willing(
                    &staff.0,
                    id,
                    person,
                    fields.willing == "yes",
                    state.custodian.now(),
                    None,
                    None,
                )
                .await
        }
        Err(_) => Err(AppError::NotFound {
            what: "person",
            id: fields.person.clone(),
        }),
    };
    match outcome {
        Ok(_) => Redirect::to(&format!("/sessions/{id}#participants")).into_response(),
        Err(error) => error_page(error, Some(staff.display_name())),
    }
}

#[derive(Deserialize, Default)]
pub struct StopFields {
    #[serde(default)]
    choice: String,
    #[serde(default)]
    requested_by: String,
    #[serde(default)]
    note: String,
}

/// Records a stop or pause with the choice made (C9).
pub async fn stop(
    State(state): State<AppState>,
    staff: SignedIn,
    Path(id): Path<SessionId>,
    Form(fields): Form<StopFields>,
) -> Response {
    let choice = match fields.choice.as_str() {
        "" => Err(DomainError::Empty { field: "choice" }),
        choice => StopChoice::parse(choice),
    };
    let requested_by = fields.requested_by.parse().ok().map(PersonId::from_uuid);
    let note = optional(&fields.note, |text| Note::parse("note", text));
    let error = match (choice, note) {
        (Ok(choice), Ok(note)) => {
            match state
                .custodian
                .stop_session(
                    &staff.0,
                    id,
                    state.custodian.now(),
                    choice,
                    requested_by,
                    note,
                )
                .await
            {
                Ok(_) => return Redirect::to(&format!("/sessions/{id}#stops")).into_response(),
                Err(AppError::Invalid(error)) => error,
                Err(error) => return error_page(error, Some(staff.display_name())),
            }
        }
        (Err(error), _) | (_, Err(error)) => error,
    };
    let problem = match error {
        DomainError::Empty { field: "choice" } => {
            FieldError::new("choice", "Choose what happens to the recording")
        }
        other => FieldError::new(
            "choice",
            super::sentence(&other.to_string().replace('_', " ")),
        ),
    };
    match session_page(&state, &staff, id, vec![problem]).await {
        Ok(page) => render(StatusCode::UNPROCESSABLE_ENTITY, &page),
        Err(error) => error_page(error, Some(staff.display_name())),
    }
}
