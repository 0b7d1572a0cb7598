//! Who may do what: staff roles and services, personal connections and emergency access (S3),
//! and the report of refused attempts (S5).

use axum::extract::State;
use axum::http::StatusCode;
use custodian_app::oversight::RefusalReport;
use custodian_core::ids::{PersonId, StaffId};
use custodian_core::staff::{ConnectionKind, Role, StaffMember};
use custodian_core::text::{Note, ServiceCode};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::error::{ApiResult, Problem};
use crate::extract::{Body, Path, Query, Staff};
use crate::routes::accounts::service_codes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(set_staff_access))
        .routes(routes!(assign_service))
        .routes(routes!(declare_connection))
        .routes(routes!(my_connections))
        .routes(routes!(take_emergency_access))
        .routes(routes!(emergency_access_to_review))
        .routes(routes!(review_emergency_access))
        .routes(routes!(refusal_report))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffAccess {
    /// Role codes, as for a new account.
    #[schema(value_type = Vec<String>, example = json!(["practitioner", "team_manager"]))]
    roles: Vec<Role>,
    #[schema(value_type = Vec<String>, example = json!(["CAMHS-NORTH"]))]
    services: Vec<String>,
}

/// Replace a colleague's roles and services (administrators; audited).
#[utoipa::path(put, path = "/staff/{id}/access", tag = "access", params(("id" = StaffId, Path)),
    request_body = StaffAccess,
    responses((status = OK, body = StaffMember), (status = FORBIDDEN, body = Problem),
        (status = CONFLICT, body = Problem, description = "It would leave no administrator"), (status = NOT_FOUND, body = Problem)))]
async fn set_staff_access(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<StaffId>,
    Body(access): Body<StaffAccess>,
) -> ApiResult<axum::Json<StaffMember>> {
    let services = service_codes(&access.services)?;
    Ok(axum::Json(
        state
            .custodian
            .set_staff_access(&caller, id, access.roles, services)
            .await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceAssignment {
    #[schema(example = "CAMHS-NORTH")]
    service: String,
}

/// Add a service to those caring for a person, so its staff can see them.
#[utoipa::path(post, path = "/persons/{id}/services", tag = "access", params(("id" = PersonId, Path)),
    request_body = ServiceAssignment,
    responses((status = NO_CONTENT, description = "Assigned"), (status = FORBIDDEN, body = Problem),
        (status = NOT_FOUND, body = Problem)))]
async fn assign_service(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<PersonId>,
    Body(assignment): Body<ServiceAssignment>,
) -> ApiResult<StatusCode> {
    let service = ServiceCode::parse(&assignment.service)?;
    state.custodian.assign_service(&caller, id, service).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewConnection {
    /// `family`, `friend`, `neighbour`, `partner`, `colleague` or `other`.
    #[schema(value_type = String, example = "neighbour")]
    kind: ConnectionKind,
}

/// Declare that you know this person personally (S3). From then on you are refused their
/// record and recordings everywhere; only your information-governance lead can see why.
#[utoipa::path(post, path = "/persons/{id}/connection", tag = "access", params(("id" = PersonId, Path)),
    request_body = NewConnection,
    responses((status = NO_CONTENT, description = "Declared"), (status = NOT_FOUND, body = Problem)))]
async fn declare_connection(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<PersonId>,
    Body(connection): Body<NewConnection>,
) -> ApiResult<StatusCode> {
    state
        .custodian
        .declare_connection(&caller, id, connection.kind)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A personal connection you declared.
#[derive(Serialize, ToSchema)]
pub struct ConnectionView {
    person_id: PersonId,
    kind: String,
    #[serde(with = "time::serde::rfc3339")]
    declared_at: OffsetDateTime,
}

/// The personal connections you declared.
#[utoipa::path(get, path = "/connections", tag = "access",
    responses((status = OK, body = Vec<ConnectionView>)))]
async fn my_connections(
    State(state): State<AppState>,
    Staff(caller): Staff,
) -> ApiResult<axum::Json<Vec<ConnectionView>>> {
    let connections = state.custodian.my_connections(&caller).await?;
    Ok(axum::Json(
        connections
            .into_iter()
            .map(|connection| ConnectionView {
                person_id: connection.person_id,
                kind: connection.kind,
                declared_at: connection.declared_at,
            })
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmergencyRequest {
    /// Why you need it now; the information-governance lead reads it. At least 10 characters.
    reason: String,
}

/// A grant of emergency ("break-glass") access.
#[derive(Serialize, ToSchema)]
pub struct EmergencyAccessView {
    id: Uuid,
    staff_id: Uuid,
    person_id: Uuid,
    reason: String,
    /// The member of staff had declared a personal connection to the person.
    connected: bool,
    #[serde(with = "time::serde::rfc3339")]
    started_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    ends_at: OffsetDateTime,
}

impl From<custodian_store::EmergencyAccess> for EmergencyAccessView {
    fn from(grant: custodian_store::EmergencyAccess) -> Self {
        Self {
            id: grant.id,
            staff_id: grant.staff_id,
            person_id: grant.person_id,
            reason: grant.reason,
            connected: grant.connected,
            started_at: grant.started_at,
            ends_at: grant.ends_at,
        }
    }
}

/// Take emergency access to a person for one hour, where a policy allows it (S3). It needs a
/// written reason and alerts the information-governance lead.
#[utoipa::path(post, path = "/persons/{id}/emergency-access", tag = "access",
    params(("id" = PersonId, Path)), request_body = EmergencyRequest,
    responses((status = CREATED, body = EmergencyAccessView), (status = FORBIDDEN, body = Problem),
        (status = CONFLICT, body = Problem, description = "No reason given"), (status = NOT_FOUND, body = Problem)))]
async fn take_emergency_access(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<PersonId>,
    Body(request): Body<EmergencyRequest>,
) -> ApiResult<(StatusCode, axum::Json<EmergencyAccessView>)> {
    let reason = Note::parse("reason", &request.reason)?;
    let grant = state
        .custodian
        .take_emergency_access(&caller, id, reason)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(grant.into())))
}

/// Emergency access waiting for the information-governance lead's review.
#[utoipa::path(get, path = "/emergency-access", tag = "access",
    responses((status = OK, body = Vec<EmergencyAccessView>), (status = FORBIDDEN, body = Problem)))]
async fn emergency_access_to_review(
    State(state): State<AppState>,
    Staff(caller): Staff,
) -> ApiResult<axum::Json<Vec<EmergencyAccessView>>> {
    let grants = state.custodian.emergency_access_to_review(&caller).await?;
    Ok(axum::Json(grants.into_iter().map(Into::into).collect()))
}

/// Mark emergency access as reviewed.
#[utoipa::path(post, path = "/emergency-access/{id}/review", tag = "access",
    params(("id" = Uuid, Path)),
    responses((status = NO_CONTENT, description = "Reviewed"), (status = FORBIDDEN, body = Problem),
        (status = NOT_FOUND, body = Problem)))]
async fn review_emergency_access(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    state.custodian.review_emergency_access(&caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Since {
    /// RFC 3339; 30 days ago when left out.
    since: Option<String>,
}

/// Refused attempts by person, member of staff and rule (S5), for the information-governance lead.
#[utoipa::path(get, path = "/reports/refusals", tag = "access", params(Since),
    responses((status = OK, body = RefusalReport), (status = FORBIDDEN, body = Problem)))]
async fn refusal_report(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Query(query): Query<Since>,
) -> ApiResult<axum::Json<RefusalReport>> {
    let since = match query.since.as_deref() {
        Some(text) => OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
            .map_err(|_| custodian_core::DomainError::BadFormat {
            field: "since",
            expected: "a date and time such as 2026-11-01T00:00:00Z",
        })?,
        None => state.custodian.now() - time::Duration::days(30),
    };
    Ok(axum::Json(
        state.custodian.refusal_report(&caller, since).await?,
    ))
}
