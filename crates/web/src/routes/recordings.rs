//! Recordings (metadata), derived items, and the decision: may this recording be used for this purpose? (X1)

use axum::extract::State;
use axum::http::StatusCode;
use custodian_app::decisions::DecisionReport;
use custodian_app::recordings::RecordingRecord;
use custodian_core::audit::AuditEvent;
use custodian_core::consent::EthicsReference;
use custodian_core::ids::{PersonId, RecordingId, SessionId};
use custodian_core::purpose::Purpose;
use custodian_core::recording::{
    DerivationForm, DerivationKind, Recording, RecordingForm, RecordingKind,
};
use custodian_core::text::{ServiceCode, ShortText};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiResult, Problem};
use crate::extract::{Body, Path, Query, Staff};
use crate::input::{moment, optional_moment, optional_note, purposes};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register_recording))
        .routes(routes!(recording))
        .routes(routes!(derive))
        .routes(routes!(decision))
        .routes(routes!(audit_of))
        .routes(routes!(end_confirmation))
        .routes(routes!(device_copy_deleted))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceCopyDeleted {
    /// Made in the browser, so never kept on the device (the capture page says so itself).
    #[serde(default)]
    captured_in_browser: bool,
}

/// Confirm the copy on the device the recording was made on has been deleted (R8).
#[utoipa::path(post, path = "/recordings/{id}/device-copy-deleted", tag = "recordings", params(("id" = RecordingId, Path)),
    request_body = DeviceCopyDeleted,
    responses((status = NO_CONTENT, description = "Recorded in the recording's history"), (status = NOT_FOUND, body = Problem)))]
async fn device_copy_deleted(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<RecordingId>,
    Body(confirmed): Body<DeviceCopyDeleted>,
) -> ApiResult<StatusCode> {
    state
        .custodian
        .confirm_device_copy_deleted(&caller, id, confirmed.captured_in_browser)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndConfirmation {
    /// Whether the people in it said they are happy with the recording.
    happy: bool,
}

/// Record the end-of-recording confirmation (R4): whether the people in it are happy with it.
#[utoipa::path(post, path = "/recordings/{id}/end-confirmation", tag = "recordings", params(("id" = RecordingId, Path)),
    request_body = EndConfirmation,
    responses((status = NO_CONTENT, description = "Recorded in the recording's history"), (status = NOT_FOUND, body = Problem)))]
async fn end_confirmation(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<RecordingId>,
    Body(answer): Body<EndConfirmation>,
) -> ApiResult<StatusCode> {
    state
        .custodian
        .record_end_confirmation(&caller, id, answer.happy)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRecording {
    /// `photograph`, `audio`, `video` or `other`.
    kind: String,
    /// The service; taken from the session when one is given.
    service: String,
    session_id: Option<SessionId>,
    /// The people who appear in it.
    subjects: Vec<PersonId>,
    /// The purposes it is made for (C1); any other use is a change of use (C6).
    purposes: Vec<String>,
    /// The organisation device it was made on.
    device: String,
    /// RFC 3339.
    made_at: String,
    location: String,
}

/// Register a recording (R1). The media itself arrives with the vault.
#[utoipa::path(post, path = "/recordings", tag = "recordings", request_body = NewRecording,
    responses((status = CREATED, body = Recording), (status = UNPROCESSABLE_ENTITY, body = Problem), (status = NOT_FOUND, body = Problem)))]
async fn register_recording(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Body(request): Body<NewRecording>,
) -> ApiResult<(StatusCode, axum::Json<Recording>)> {
    let form = RecordingForm {
        kind: RecordingKind::parse(&request.kind)?,
        service: ServiceCode::parse(&request.service)?,
        subjects: request.subjects,
        purposes: purposes(&request.purposes)?,
        made_by: caller.member.id,
        device: ShortText::parse("device", &request.device)?,
        made_at: moment("made_at", &request.made_at)?,
        location: ShortText::parse("location", &request.location)?,
    };
    let recording = state
        .custodian
        .register_recording(&caller, form, request.session_id)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(recording)))
}

/// A recording with its derived items.
#[utoipa::path(get, path = "/recordings/{id}", tag = "recordings", params(("id" = RecordingId, Path)),
    responses((status = OK, body = RecordingRecord), (status = NOT_FOUND, body = Problem)))]
async fn recording(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<RecordingId>,
) -> ApiResult<axum::Json<RecordingRecord>> {
    Ok(axum::Json(state.custodian.recording(&caller, id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDerivative {
    /// `redaction`, `transcript` or `still`.
    kind: String,
    /// Whether surnames, addresses and other identifying details were removed (C11).
    #[serde(default)]
    de_identified: bool,
    /// People removed entirely, for example a group member who withdrew (C7).
    #[serde(default)]
    removed_persons: Vec<PersonId>,
    method: Option<String>,
    device: String,
    /// RFC 3339.
    made_at: String,
    /// Required: the purpose the item is made for (a purpose code such as `teaching`). Making
    /// it is a use of the original's content, decided like playing it (X1).
    purpose: Option<String>,
    /// For research: the study's ethics approval reference (C10).
    study: Option<String>,
}

/// Register an item derived from this recording; the original is untouched (R6).
#[utoipa::path(post, path = "/recordings/{id}/derivatives", tag = "recordings", params(("id" = RecordingId, Path)),
    request_body = NewDerivative,
    responses((status = CREATED, body = Recording), (status = BAD_REQUEST, body = Problem), (status = FORBIDDEN, body = Problem),
        (status = UNPROCESSABLE_ENTITY, body = Problem), (status = NOT_FOUND, body = Problem)))]
async fn derive(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<RecordingId>,
    Body(request): Body<NewDerivative>,
) -> ApiResult<(StatusCode, axum::Json<Recording>)> {
    let asked = crate::input::use_asked(id, request.purpose.as_deref(), request.study.as_deref())?;
    let form = DerivationForm {
        kind: DerivationKind::parse(&request.kind)?,
        de_identified: request.de_identified,
        removed_persons: request.removed_persons,
        method: optional_note("method", request.method.as_deref())?,
        made_by: caller.member.id,
        device: ShortText::parse("device", &request.device)?,
        made_at: moment("made_at", &request.made_at)?,
    };
    Ok((
        StatusCode::CREATED,
        axum::Json(
            state
                .custodian
                .register_derivative(&caller, &asked, form)
                .await?,
        ),
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DecisionQuery {
    /// The purpose to use the recording for, such as `teaching`.
    purpose: String,
    /// For research: the ethics approval reference of the study (C10).
    study: Option<String>,
    /// The moment to ask about, RFC 3339 (such as `2026-03-02T09:00:00Z`); now when left out.
    /// Answered from the evidence as the register held it then: anything recorded later is
    /// left out, even if dated earlier. Must not be in the future.
    at: Option<String>,
}

/// May this recording be used for this purpose, by you, now (or as at `at`)? Every reason is
/// given, with its rule and what would make the use allowed. Every question is audited.
#[utoipa::path(get, path = "/recordings/{id}/decision", tag = "recordings", params(("id" = RecordingId, Path), DecisionQuery),
    responses((status = OK, body = DecisionReport), (status = UNPROCESSABLE_ENTITY, body = Problem), (status = NOT_FOUND, body = Problem)))]
async fn decision(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<RecordingId>,
    Query(query): Query<DecisionQuery>,
) -> ApiResult<axum::Json<DecisionReport>> {
    let purpose = Purpose::parse(&query.purpose)?;
    let study = match query.study.as_deref().map(str::trim) {
        Some(study) if !study.is_empty() => Some(EthicsReference::parse(study)?),
        _ => None,
    };
    let at = optional_moment("at", query.at.as_deref())?;
    Ok(axum::Json(
        state
            .custodian
            .decide(&caller, id, purpose, study, at)
            .await?,
    ))
}

/// The latest audit events about the recording, newest first.
#[utoipa::path(get, path = "/recordings/{id}/audit", tag = "audit", params(("id" = RecordingId, Path)),
    responses((status = OK, body = Vec<AuditEvent>), (status = NOT_FOUND, body = Problem)))]
async fn audit_of(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<RecordingId>,
) -> ApiResult<axum::Json<Vec<AuditEvent>>> {
    Ok(axum::Json(
        state
            .custodian
            .audit_events_about_recording(&caller, id, 200)
            .await?,
    ))
}
