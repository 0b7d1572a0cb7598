//! Checking the audit trail (S2, X3).

use axum::extract::State;
use custodian_app::AppError;
use custodian_core::audit::ChainHead;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiResult, Problem};
use crate::extract::Staff;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(verify))
}

/// The result of checking the whole audit trail.
#[derive(Serialize, ToSchema)]
pub struct Verification {
    /// Whether every event matches its hash and follows the one before it.
    intact: bool,
    /// How many events were checked (when intact).
    events: Option<u64>,
    /// The end of the chain (when intact): note it down to notice later truncation.
    head: Option<ChainHead>,
    /// The sequence number of the first bad event (when broken).
    first_bad_event: Option<u64>,
    /// What is wrong there (when broken).
    problem: Option<String>,
}

/// Check every event of the audit trail (auditors and the information-governance lead); names the first bad event.
#[utoipa::path(get, path = "/audit/verify", tag = "audit",
    responses((status = OK, body = Verification), (status = FORBIDDEN, body = Problem)))]
async fn verify(
    State(state): State<AppState>,
    Staff(caller): Staff,
) -> ApiResult<axum::Json<Verification>> {
    let verification = match state.custodian.verify_audit_trail_as(&caller).await {
        Ok(trail) => Verification {
            intact: true,
            events: Some(trail.events),
            head: Some(trail.head),
            first_bad_event: None,
            problem: None,
        },
        Err(AppError::AuditBroken(broken)) => Verification {
            intact: false,
            events: None,
            head: None,
            first_bad_event: Some(broken.seq),
            problem: Some(broken.problem.to_string()),
        },
        Err(other) => return Err(other.into()),
    };
    Ok(axum::Json(verification))
}
