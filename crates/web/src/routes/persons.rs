//! Persons, their capacity and representatives, and what is recorded about them.

use axum::extract::State;
use axum::http::StatusCode;
use custodian_app::persons::{PersonForm, PersonRecord};
use custodian_app::reads::{Look, Read};
use custodian_core::audit::AuditEvent;
use custodian_core::ids::PersonId;
use custodian_core::nhs_number::NhsNumber;
use custodian_core::person::{
    Capacity, LocalIdentifier, Person, PersonName, Representative, RepresentativeKind,
};
use custodian_core::recording::Recording;
use custodian_core::session::Session;
use custodian_core::text::{ServiceCode, ShortText};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiResult, Problem};
use crate::extract::{Body, Path, Query, Staff};
use crate::input::{date, optional_short};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(find_persons, register_person))
        .routes(routes!(person))
        .routes(routes!(record_capacity))
        .routes(routes!(add_representative))
        .routes(routes!(sessions_of))
        .routes(routes!(recordings_of))
        .routes(routes!(audit_of))
        .routes(routes!(accesses_of))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPerson {
    given_name: String,
    family_name: String,
    /// `YYYY-MM-DD`.
    #[schema(example = "1980-02-29")]
    date_of_birth: String,
    /// Ten digits, spaces allowed; checked by modulus 11.
    #[schema(example = "999 000 0018")]
    nhs_number: Option<String>,
    /// A hospital or council number, where there is no NHS number.
    local_identifier: Option<String>,
    /// `has_capacity` or `lacks_capacity`.
    capacity: String,
    /// The service that will care for them: one of yours. Needed only if you work in several.
    #[schema(example = "CAMHS-NORTH")]
    service: Option<String>,
}

impl NewPerson {
    fn parse(self) -> Result<PersonForm, custodian_core::DomainError> {
        Ok(PersonForm {
            name: PersonName::parse(&self.given_name, &self.family_name)?,
            date_of_birth: date("date_of_birth", &self.date_of_birth)?,
            nhs_number: match self.nhs_number.as_deref().map(str::trim) {
                Some(text) if !text.is_empty() => Some(NhsNumber::parse(text)?),
                _ => None,
            },
            local_identifier: match self.local_identifier.as_deref().map(str::trim) {
                Some(text) if !text.is_empty() => Some(LocalIdentifier::parse(text)?),
                _ => None,
            },
            capacity: Capacity::parse(&self.capacity)?,
            service: match self.service.as_deref().map(str::trim) {
                Some(text) if !text.is_empty() => Some(ServiceCode::parse(text)?),
                _ => None,
            },
        })
    }
}

/// Register a person.
#[utoipa::path(post, path = "/persons", tag = "persons", request_body = NewPerson,
    responses((status = CREATED, body = Person), (status = UNPROCESSABLE_ENTITY, body = Problem), (status = CONFLICT, body = Problem)))]
async fn register_person(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Body(request): Body<NewPerson>,
) -> ApiResult<(StatusCode, axum::Json<Person>)> {
    let person = state
        .custodian
        .register_person(&caller, request.parse()?)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(person)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Search {
    /// An NHS number, a local identifier, or the start of a name ("alex bro").
    q: String,
    /// At most this many (default 20, at most 200).
    limit: Option<u32>,
}

/// Find people by NHS number, local identifier or name.
#[utoipa::path(get, path = "/persons", tag = "persons", params(Search), responses((status = OK, body = Vec<Person>)))]
async fn find_persons(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Query(search): Query<Search>,
) -> ApiResult<axum::Json<Vec<Person>>> {
    let found = state
        .custodian
        .find_persons(&caller, &search.q, search.limit.unwrap_or(20))
        .await?;
    Ok(axum::Json(found))
}

/// A person and their representatives.
#[utoipa::path(get, path = "/persons/{id}", tag = "persons", params(("id" = PersonId, Path)),
    responses((status = OK, body = PersonRecord), (status = NOT_FOUND, body = Problem)))]
async fn person(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<PersonId>,
) -> ApiResult<axum::Json<PersonRecord>> {
    let record = state.custodian.person(&caller, id).await?;
    state
        .custodian
        .note_read(&caller, Read::PersonOpened(id))
        .await?;
    Ok(axum::Json(record))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CapacityDecisionRequest {
    /// `has_capacity` or `lacks_capacity`.
    capacity: String,
}

/// Record a new capacity decision (C3).
#[utoipa::path(put, path = "/persons/{id}/capacity", tag = "persons", params(("id" = PersonId, Path)),
    request_body = CapacityDecisionRequest, responses((status = OK, body = Person), (status = NOT_FOUND, body = Problem)))]
async fn record_capacity(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<PersonId>,
    Body(request): Body<CapacityDecisionRequest>,
) -> ApiResult<axum::Json<Person>> {
    let capacity = Capacity::parse(&request.capacity)?;
    Ok(axum::Json(
        state
            .custodian
            .record_capacity(&caller, id, capacity)
            .await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRepresentative {
    name: String,
    /// `next_of_kin`, `lasting_power_of_attorney`, `delegated_person` or `parental_responsibility`.
    kind: String,
    contact: Option<String>,
}

/// Add someone who may act for the person (C3).
#[utoipa::path(post, path = "/persons/{id}/representatives", tag = "persons", params(("id" = PersonId, Path)),
    request_body = NewRepresentative, responses((status = CREATED, body = Representative), (status = NOT_FOUND, body = Problem)))]
async fn add_representative(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<PersonId>,
    Body(request): Body<NewRepresentative>,
) -> ApiResult<(StatusCode, axum::Json<Representative>)> {
    let name = ShortText::parse("name", &request.name)?;
    let kind = RepresentativeKind::parse(&request.kind)?;
    let contact = optional_short("contact", request.contact.as_deref())?;
    let representative = state
        .custodian
        .add_representative(&caller, id, name, kind, contact)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(representative)))
}

/// The sessions the person takes part in, latest first.
#[utoipa::path(get, path = "/persons/{id}/sessions", tag = "persons", params(("id" = PersonId, Path)),
    responses((status = OK, body = Vec<Session>), (status = NOT_FOUND, body = Problem)))]
async fn sessions_of(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<PersonId>,
) -> ApiResult<axum::Json<Vec<Session>>> {
    Ok(axum::Json(state.custodian.sessions_of(&caller, id).await?))
}

/// The recordings the person appears in, latest first.
#[utoipa::path(get, path = "/persons/{id}/recordings", tag = "persons", params(("id" = PersonId, Path)),
    responses((status = OK, body = Vec<Recording>), (status = NOT_FOUND, body = Problem)))]
async fn recordings_of(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<PersonId>,
) -> ApiResult<axum::Json<Vec<Recording>>> {
    Ok(axum::Json(
        state.custodian.recordings_of(&caller, id).await?,
    ))
}

/// The latest audit events about the person, newest first.
#[utoipa::path(get, path = "/persons/{id}/audit", tag = "audit", params(("id" = PersonId, Path)),
    responses((status = OK, body = Vec<AuditEvent>), (status = NOT_FOUND, body = Problem)))]
async fn audit_of(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<PersonId>,
) -> ApiResult<axum::Json<Vec<AuditEvent>>> {
    Ok(axum::Json(
        state
            .custodian
            .audit_events_about_person(&caller, id, 200)
            .await?,
    ))
}

/// Who looked at a person's record or used their recordings, latest first (S2): for the
/// information-governance lead.
#[utoipa::path(get, path = "/persons/{id}/accesses", tag = "audit", params(("id" = PersonId, Path)),
    responses((status = OK, body = Vec<Look>), (status = FORBIDDEN, body = Problem), (status = NOT_FOUND, body = Problem)))]
async fn accesses_of(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<PersonId>,
) -> ApiResult<axum::Json<Vec<Look>>> {
    Ok(axum::Json(
        state.custodian.who_looked(&caller, id, 500).await?,
    ))
}
