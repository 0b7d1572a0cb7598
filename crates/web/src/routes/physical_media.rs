//! Physical media (D9): registering tapes, discs, USB sticks and prints that hold recordings, and recording their destruction.

use axum::extract::State;
use axum::http::StatusCode;
use custodian_app::retention::{MediumDestructionRequest, MediumRequest};
use custodian_core::ids::{PhysicalMediumId, RecordingId, StaffId};
use custodian_core::retention::{DestructionMethod, MediumDestruction, MediumKind, PhysicalMedium};
use custodian_core::text::ShortText;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiResult, Problem};
use crate::extract::{Body, Path, Query, Staff};
use crate::input::optional_moment;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, register))
        .routes(routes!(destroy))
}

/// A physical medium as the API shows it.
#[derive(Serialize, ToSchema)]
pub struct Medium {
    id: PhysicalMediumId,
    kind: MediumKind,
    /// The kind in words.
    kind_label: &'static str,
    description: Option<ShortText>,
    /// The label written on it, or its serial number.
    label: ShortText,
    /// Where it is kept.
    location: ShortText,
    recordings: Vec<RecordingId>,
    registered_by: StaffId,
    #[serde(with = "time::serde::rfc3339")]
    registered_at: time::OffsetDateTime,
    /// `method`, `carried_out_by`, `witness`, `at`, `certificate`, `recorded_by` and
    /// `recorded_at`, once destroyed.
    #[schema(value_type = Option<Object>)]
    destruction: Option<MediumDestruction>,
}

impl From<PhysicalMedium> for Medium {
    fn from(medium: PhysicalMedium) -> Self {
        Self {
            id: medium.id,
            kind: medium.kind,
            kind_label: medium.kind.label(),
            description: medium.description,
            label: medium.label,
            location: medium.location,
            recordings: medium.recordings,
            registered_by: medium.registered_by,
            registered_at: medium.registered_at,
            destruction: medium.destruction,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Holding {
    /// Only the media holding this recording.
    recording: Option<RecordingId>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMedium {
    /// `tape`, `dvd` (a DVD or CD), `usb_stick`, `print` or `other`.
    #[serde(default)]
    kind: String,
    /// What it is in words; required for `other`.
    description: Option<String>,
    /// The label written on it, or its serial number.
    #[serde(default)]
    label: String,
    /// Where it is kept.
    #[serde(default)]
    location: String,
    /// The registered recordings copied onto it.
    #[serde(default)]
    recordings: Vec<RecordingId>,
    /// RFC 3339; now when left out.
    registered_at: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDestruction {
    /// `wiped`, `degaussed`, `shredded`, `crushed` or `incinerated`, as fits the kind: a DVD or
    /// a print cannot be wiped, and only tape can be degaussed.
    #[serde(default)]
    method: String,
    /// Who destroyed it, by name (a member of staff or a contractor); you when left out.
    carried_out_by: Option<String>,
    /// Who saw it done, if anyone did.
    witness: Option<String>,
    /// RFC 3339; now when left out. Not in the future.
    destroyed_at: Option<String>,
    /// A contractor's certificate of destruction, or your own reference.
    certificate: Option<String>,
}

/// The physical media in the register (D9), those not yet destroyed first; with `recording`,
/// only those holding it.
#[utoipa::path(get, path = "/physical-media", tag = "retention", params(Holding),
    responses((status = OK, body = Vec<Medium>), (status = FORBIDDEN, body = Problem),
        (status = NOT_FOUND, body = Problem)))]
async fn list(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Query(holding): Query<Holding>,
) -> ApiResult<axum::Json<Vec<Medium>>> {
    let media = match holding.recording {
        Some(recording) => {
            state
                .custodian
                .physical_media_of(&caller, recording)
                .await?
        }
        None => state.custodian.physical_media(&caller).await?,
    };
    Ok(axum::Json(media.into_iter().map(Medium::from).collect()))
}

/// Register a physical medium and the recordings on it (D9): records managers and
/// administrators; audited in each recording's history.
#[utoipa::path(post, path = "/physical-media", tag = "retention", request_body = NewMedium,
    responses((status = CREATED, body = Medium), (status = FORBIDDEN, body = Problem),
        (status = NOT_FOUND, body = Problem), (status = UNPROCESSABLE_ENTITY, body = Problem)))]
async fn register(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Body(request): Body<NewMedium>,
) -> ApiResult<(StatusCode, axum::Json<Medium>)> {
    let medium = state
        .custodian
        .register_physical_medium(
            &caller,
            MediumRequest {
                kind: MediumKind::parse(&request.kind)?,
                description: request.description,
                label: request.label,
                location: request.location,
                recordings: request.recordings,
                registered_at: optional_moment("registered_at", request.registered_at.as_deref())?,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, axum::Json(Medium::from(medium))))
}

/// Record a physical medium's destruction (D9): how, by whom, who saw it, the certificate.
/// Records managers only; refused while a legal hold stands over a recording on it (D7), for a
/// method that does not fit the kind, or a second time.
#[utoipa::path(post, path = "/physical-media/{id}/destruction", tag = "retention",
    params(("id" = PhysicalMediumId, Path)), request_body = NewDestruction,
    responses((status = CREATED, body = Medium), (status = FORBIDDEN, body = Problem),
        (status = NOT_FOUND, body = Problem), (status = CONFLICT, body = Problem),
        (status = UNPROCESSABLE_ENTITY, body = Problem)))]
async fn destroy(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<PhysicalMediumId>,
    Body(request): Body<NewDestruction>,
) -> ApiResult<(StatusCode, axum::Json<Medium>)> {
    let medium = state
        .custodian
        .record_medium_destruction(
            &caller,
            id,
            MediumDestructionRequest {
                method: DestructionMethod::parse(&request.method)?,
                carried_out_by: request.carried_out_by,
                witness: request.witness,
                at: optional_moment("destroyed_at", request.destroyed_at.as_deref())?,
                certificate: request.certificate,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, axum::Json(Medium::from(medium))))
}
