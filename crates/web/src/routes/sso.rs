//! Linking staff accounts to the single sign-on provider's subjects (administrators only).

use axum::extract::State;
use axum::http::StatusCode;
use custodian_core::ids::StaffId;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::error::{ApiResult, Problem};
use crate::extract::{Body, Path, Staff};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(link))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SsoLink {
    /// The provider's subject identifier (`sub`) for this member of staff; `null` unlinks.
    subject: Option<String>,
}

/// Link a staff account to its single sign-on subject at the configured provider, or unlink it
/// (administrators only). Only a linked account can sign in with single sign-on.
#[utoipa::path(put, path = "/staff/{id}/sso", tag = "accounts", params(("id" = Uuid, Path)), request_body = SsoLink,
    responses((status = NO_CONTENT, description = "Linked or unlinked"), (status = FORBIDDEN, body = Problem),
        (status = NOT_FOUND, body = Problem),
        (status = CONFLICT, body = Problem, description = "Single sign-on is not configured, or the subject is linked to another account"),
        (status = UNPROCESSABLE_ENTITY, body = Problem)))]
async fn link(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<Uuid>,
    Body(request): Body<SsoLink>,
) -> ApiResult<StatusCode> {
    state
        .custodian
        .link_sso(&caller, StaffId::from_uuid(id), request.subject.as_deref())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
