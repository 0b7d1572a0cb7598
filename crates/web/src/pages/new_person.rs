//! Registering a person, every problem shown at once beside its field.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use custodian_app::persons::PersonForm;
use custodian_app::{AppError, ErrorCode};
use custodian_core::DomainError;
use custodian_core::nhs_number::NhsNumber;
use custodian_core::person::{Capacity, LocalIdentifier, PersonName};
use custodian_core::text::ServiceCode;
use serde::Deserialize;

use super::signed_in::SignedIn;
use super::{FieldError, FormErrors, form_errors, optional, render};
use crate::AppState;
use crate::pages::PageResult;
use crate::pages::checked::Checked;

/// What was typed, kept when the form comes back with problems.
#[derive(Deserialize, Default)]
pub struct NewPersonForm {
    #[serde(default)]
    given_name: String,
    #[serde(default)]
    family_name: String,
    #[serde(default)]
    day: String,
    #[serde(default)]
    month: String,
    #[serde(default)]
    year: String,
    #[serde(default)]
    nhs_number: String,
    #[serde(default)]
    local_identifier: String,
    #[serde(default)]
    capacity: String,
    /// Which of the member's services will care for them; blank means their only one.
    #[serde(default)]
    service: String,
}

#[derive(Template)]
#[template(path = "new_person.html")]
struct NewPersonPage {
    title: &'static str,
    signed_in_as: Option<super::signed_in::Who>,
    errors: Vec<FieldError>,
    form: NewPersonForm,
}

form_errors!(NewPersonPage);

pub async fn form(State(state): State<AppState>, staff: SignedIn) -> PageResult {
    state
        .custodian
        .may(&staff.caller, custodian_access::Action::RegisterPerson)
        .await?;
    let page = NewPersonPage {
        title: "Register a person",
        signed_in_as: Some(staff.who()),
        errors: Vec::new(),
        form: NewPersonForm::default(),
    };
    Ok(render(StatusCode::OK, &page))
}

pub async fn submit(
    State(state): State<AppState>,
    staff: SignedIn,
    Checked(form): Checked<NewPersonForm>,
) -> PageResult {
    let mut errors = Vec::new();
    if let Some(person) = parse(&form, &mut errors) {
        match state.custodian.register_person(&staff.caller, person).await {
            Ok(person) => {
                return Ok(Redirect::to(&format!("/persons/{}", person.id)).into_response());
            }
            Err(AppError::Invalid(error)) => errors.push(field_error(&error)),
            Err(AppError::Rule {
                code:
                    ErrorCode::PersonNotYourService
                    | ErrorCode::PersonNoService
                    | ErrorCode::PersonServiceRequired,
                message,
            }) => errors.push(FieldError::new("service", super::sentence(&message))),
            Err(
                AppError::Rule { .. }
                | AppError::Store(custodian_store::StoreError::Duplicate { .. }),
            ) => {
                errors.push(FieldError::new(
                    "nhs_number",
                    "Someone with this NHS number or local identifier is already registered: find them instead",
                ));
            }
            Err(error) => return Err(error.into()),
        }
    }
    let page = NewPersonPage {
        title: "Register a person",
        signed_in_as: Some(staff.who()),
        errors,
        form,
    };
    Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page))
}

/// Checks every field, noting each problem; the form only when there are none.
fn parse(form: &NewPersonForm, errors: &mut Vec<FieldError>) -> Option<PersonForm> {
    let mut check = |outcome: Result<(), DomainError>| {
        if let Err(error) = outcome {
            errors.push(field_error(&error));
        }
    };
    // Each name is checked alone, so both can be reported at once.
    check(PersonName::parse(&form.given_name, "-").map(drop));
    check(PersonName::parse("-", &form.family_name).map(drop));
    let date_of_birth = date_of_birth(form);
    let nhs_number = optional(&form.nhs_number, NhsNumber::parse);
    let local_identifier = optional(&form.local_identifier, LocalIdentifier::parse);
    let capacity = if form.capacity.is_empty() {
        Err(DomainError::Empty { field: "capacity" })
    } else {
        Capacity::parse(&form.capacity)
    };
    let service = optional(&form.service, ServiceCode::parse);
    let problems = [
        service.as_ref().err(),
        date_of_birth.as_ref().err(),
        nhs_number.as_ref().err(),
        local_identifier.as_ref().err(),
        capacity.as_ref().err(),
    ];
    errors.extend(problems.into_iter().flatten().map(field_error));
    Some(PersonForm {
        name: PersonName::parse(&form.given_name, &form.family_name).ok()?,
        date_of_birth: date_of_birth.ok()?,
        nhs_number: nhs_number.ok()?,
        local_identifier: local_identifier.ok()?,
        capacity: capacity.ok()?,
        service: service.ok()?,
    })
    .filter(|_| errors.is_empty())
}

fn date_of_birth(form: &NewPersonForm) -> Result<time::Date, DomainError> {
    let field = "date_of_birth";
    let parts = [&form.day, &form.month, &form.year].map(|part| part.trim().parse::<u16>().ok());
    if [&form.day, &form.month, &form.year]
        .iter()
        .all(|part| part.trim().is_empty())
    {
        return Err(DomainError::Empty { field });
    }
    let not_real = || DomainError::BadFormat {
        field,
        expected: "a real date, such as 27 3 2007",
    };
    let [Some(day), Some(month), Some(year)] = parts else {
        return Err(not_real());
    };
    let month = time::Month::try_from(u8::try_from(month).map_err(|_| not_real())?)
        .map_err(|_| not_real())?;
    time::Date::from_calendar_date(
        i32::from(year),
        month,
        u8::try_from(day).map_err(|_| not_real())?,
    )
    .map_err(|_| not_real())
}

/// A domain error as a problem beside its field, in a sentence.
fn field_error(error: &DomainError) -> FieldError {
    let field = match error.field() {
        Some("given_name") => "given_name",
        Some("family_name") => "family_name",
        Some("nhs_number") => "nhs_number",
        Some("local_identifier") => "local_identifier",
        Some("capacity") => "capacity",
        _ => "date_of_birth",
    };
    let message = match error {
        DomainError::Empty {
            field: "given_name",
        } => "Enter their first name".to_owned(),
        DomainError::Empty {
            field: "family_name",
        } => "Enter their last name".to_owned(),
        DomainError::Empty {
            field: "date_of_birth",
        } => "Enter their date of birth".to_owned(),
        DomainError::Empty { field: "capacity" } => {
            "Say whether they can decide about recording for themselves".to_owned()
        }
        other => {
            let words = other
                .to_string()
                .replace("given_name", "first name")
                .replace("family_name", "last name")
                .replace("date_of_birth", "date of birth")
                .replace("local_identifier", "local identifier");
            super::sentence(&words)
        }
    };
    FieldError::new(field, message)
}
