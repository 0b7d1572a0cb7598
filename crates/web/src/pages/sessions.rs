//! The session page: who takes part, "still willing today?" (C5), recordings, and stop or pause (C9).

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use custodian_app::AppError;
use custodian_app::london::london_time;
use custodian_app::sessions::SessionRecord;
use custodian_core::DomainError;
use custodian_core::ids::{PersonId, SessionId};
use custodian_core::person::Person;
use custodian_core::session::StopChoice;
use custodian_core::text::Note;
use serde::Deserialize;

use super::signed_in::SignedIn;
use super::{FieldError, FormErrors, form_errors, optional, render};
use crate::AppState;
use crate::extract::Path;
use crate::pages::PageResult;
use crate::pages::checked::Checked;

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
    signed_in_as: Option<super::signed_in::Who>,
    errors: Vec<FieldError>,
    id: String,
    facts: Vec<(&'static str, String)>,
    participants: Vec<Participant>,
    stops: Vec<String>,
    stop_choices: Vec<(&'static str, String)>,
    recordings: Vec<(String, String)>,
}

form_errors!(SessionPage);

/// The participants with their records, for the session and capture pages.
pub async fn participants(
    state: &AppState,
    staff: &SignedIn,
    record: &SessionRecord,
) -> Result<Vec<(Person, Participant)>, AppError> {
    let mut found = Vec::with_capacity(record.session.participants.len());
    for id in &record.session.participants {
        let person = state.custodian.person(&staff.caller, *id).await?.person;
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
    let record = state.custodian.session(&staff.caller, id).await?;
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
        signed_in_as: Some(staff.who()),
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
        recordings: super::views::recording_links(&record.recordings),
    })
}

pub async fn show(
    State(state): State<AppState>,
    staff: SignedIn,
    Path(id): Path<SessionId>,
) -> PageResult {
    let page = session_page(&state, &staff, id, Vec::new()).await?;
    Ok(render(StatusCode::OK, &page))
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
    Checked(fields): Checked<ConfirmationFields>,
) -> PageResult {
    let person = fields.person.parse().map(PersonId::from_uuid);
    let outcome = match person {
        Ok(person) => {
            state
                .custodian
                .confirm_still_willing(
                    &staff.caller,
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
    outcome?;
    Ok(Redirect::to(&format!("/sessions/{id}#participants")).into_response())
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
    Checked(fields): Checked<StopFields>,
) -> PageResult {
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
                    &staff.caller,
                    id,
                    state.custodian.now(),
                    choice,
                    requested_by,
                    note,
                )
                .await
            {
                Ok(_) => return Ok(Redirect::to(&format!("/sessions/{id}#stops")).into_response()),
                Err(AppError::Invalid(error)) => error,
                Err(error) => return Err(error.into()),
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
    let page = session_page(&state, &staff, id, vec![problem]).await?;
    Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page))
}
