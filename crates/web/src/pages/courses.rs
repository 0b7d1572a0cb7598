//! Starting a course of sessions that one consent form covers (C5), then its consent form.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use custodian_access::Action;
use custodian_core::DomainError;
use custodian_core::ids::PersonId;
use custodian_core::person::Person;
use custodian_core::text::{ServiceCode, ShortText};
use serde::Deserialize;

use super::signed_in::SignedIn;
use super::views::PersonSummary;
use super::{FieldError, FormErrors, form_errors, render};
use crate::AppState;
use crate::extract::Path;
use crate::pages::PageResult;
use crate::pages::checked::Checked;

#[derive(Deserialize, Default)]
pub struct CourseFields {
    #[serde(default)]
    title: String,
    #[serde(default)]
    service: String,
}

#[derive(Template)]
#[template(path = "new_course.html")]
struct CoursePage {
    title: &'static str,
    signed_in_as: Option<super::signed_in::Who>,
    errors: Vec<FieldError>,
    person: PersonSummary,
    form: CourseFields,
}

form_errors!(CoursePage);

fn course_page(
    staff: &SignedIn,
    person: &Person,
    form: CourseFields,
    errors: Vec<FieldError>,
) -> CoursePage {
    CoursePage {
        title: "Start a course of sessions",
        signed_in_as: Some(staff.who()),
        errors,
        person: PersonSummary::from(person),
        form,
    }
}

pub async fn new_course(
    State(state): State<AppState>,
    staff: SignedIn,
    Path(person): Path<PersonId>,
) -> PageResult {
    let record = state
        .custodian
        .person_to(&staff.caller, Action::StartSession, person)
        .await?;
    let page = course_page(&staff, &record.person, CourseFields::default(), Vec::new());
    Ok(render(StatusCode::OK, &page))
}

/// Creates the course, then goes to the consent form that covers it.
pub async fn create_course(
    State(state): State<AppState>,
    staff: SignedIn,
    Path(person): Path<PersonId>,
    Checked(fields): Checked<CourseFields>,
) -> PageResult {
    let record = state
        .custodian
        .person_to(&staff.caller, Action::StartSession, person)
        .await?;
    let title = ShortText::parse("title", &fields.title);
    let service = ServiceCode::parse(&fields.service);
    let errors: Vec<FieldError> = [title.as_ref().err(), service.as_ref().err()]
        .into_iter()
        .flatten()
        .map(field_error)
        .collect();
    if let (Ok(title), Ok(service)) = (title, service) {
        let course = state
            .custodian
            .create_course(&staff.caller, service, title)
            .await?;
        let consent_form = format!("/persons/{person}/consents/new?course={}", course.id);
        return Ok(Redirect::to(&consent_form).into_response());
    }
    let page = course_page(&staff, &record.person, fields, errors);
    Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page))
}

fn field_error(error: &DomainError) -> FieldError {
    match error {
        DomainError::Empty { field: "title" } => FieldError::new(
            "title",
            "Enter the course's name, such as Speech therapy, autumn term",
        ),
        DomainError::Empty { field: "service" } => {
            FieldError::new("service", "Enter the service, such as CAMHS-NORTH")
        }
        other => FieldError::new(
            if other.field() == Some("title") {
                "title"
            } else {
                "service"
            },
            super::sentence(&other.to_string().replace('_', " ")),
        ),
    }
}
