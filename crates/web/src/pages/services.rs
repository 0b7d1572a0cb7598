//! Adding a person to another service's care (S2), from their page: a team manager's act.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use custodian_access::Action;
use custodian_app::AppError;
use custodian_core::ids::PersonId;
use custodian_core::text::ServiceCode;
use serde::Deserialize;

use super::signed_in::SignedIn;
use super::{FieldError, FormErrors, form_errors, render};
use crate::AppState;
use crate::extract::Path;
use crate::pages::PageResult;
use crate::pages::checked::Checked;

#[derive(Template)]
#[template(path = "assign_service.html")]
struct AssignServicePage {
    title: String,
    signed_in_as: Option<super::signed_in::Who>,
    errors: Vec<FieldError>,
    person_id: String,
    name: String,
    /// The services caring for them already.
    services: Vec<String>,
    service: String,
}

form_errors!(AssignServicePage);

#[derive(Deserialize, Default)]
pub struct AssignServiceForm {
    #[serde(default)]
    service: String,
}

pub async fn form(
    State(state): State<AppState>,
    staff: SignedIn,
    Path(id): Path<PersonId>,
) -> PageResult {
    page(
        &state,
        &staff,
        id,
        String::new(),
        Vec::new(),
        StatusCode::OK,
    )
    .await
}

pub async fn submit(
    State(state): State<AppState>,
    staff: SignedIn,
    Path(id): Path<PersonId>,
    Checked(form): Checked<AssignServiceForm>,
) -> PageResult {
    let problem = match ServiceCode::parse(&form.service) {
        Ok(service) => match state
            .custodian
            .assign_service(&staff.caller, id, service)
            .await
        {
            Ok(()) => return Ok(Redirect::to(&format!("/persons/{id}#services")).into_response()),
            Err(AppError::Invalid(error)) => error.to_string(),
            Err(error) => return Err(error.into()),
        },
        Err(_) if form.service.trim().is_empty() => {
            "enter the code of the service to add, such as ADULT-MH-EAST".to_owned()
        }
        Err(error) => error.to_string(),
    };
    let errors = vec![FieldError::new("service", super::sentence(&problem))];
    page(
        &state,
        &staff,
        id,
        form.service,
        errors,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

/// The form, for those who may add a service to this person's care.
async fn page(
    state: &AppState,
    staff: &SignedIn,
    id: PersonId,
    service: String,
    errors: Vec<FieldError>,
    status: StatusCode,
) -> PageResult {
    let custodian = &state.custodian;
    let record = custodian
        .person_to(&staff.caller, Action::AssignService, id)
        .await?;
    let services = match custodian.access_to_person(&staff.caller, id).await {
        Ok(access) => access.services.iter().map(ToString::to_string).collect(),
        Err(error) => return Err(error.into()),
    };
    let name = record.person.name.full();
    let page = AssignServicePage {
        title: format!("Add {name} to another service"),
        signed_in_as: Some(staff.who()),
        errors,
        person_id: id.to_string(),
        name,
        services,
        service,
    };
    Ok(render(status, &page))
}
