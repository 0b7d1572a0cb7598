//! Disposal tasks (C8, D10): the open ones, and marking one done once it has been carried out.

use axum::extract::State;
use custodian_app::retention::DisposalTaskView;
use custodian_core::ids::RecordingId;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiResult, Problem};
use crate::extract::{Path, Staff};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(open_tasks))
        .routes(routes!(mark_done))
}

/// The disposal tasks not yet done, oldest first: a withdrawal's choice to carry out (C8), a
/// recording to take down from online publication (D10). Records managers only.
#[utoipa::path(get, path = "/disposal-tasks", tag = "retention",
    responses((status = OK, body = Vec<DisposalTaskView>), (status = FORBIDDEN, body = Problem)))]
async fn open_tasks(
    State(state): State<AppState>,
    Staff(caller): Staff,
) -> ApiResult<axum::Json<Vec<DisposalTaskView>>> {
    Ok(axum::Json(
        state.custodian.open_disposal_tasks(&caller).await?,
    ))
}

/// Mark a recording's task (`withdrawal` or `take_down`) done, once it has been carried out by
/// hand: audited; a task already done is refused (409 `disposal_task.already_done`) saying when
/// and by whom. Records managers only.
#[utoipa::path(post, path = "/disposals/{recording}/tasks/{task}/done", tag = "retention",
    params(("recording" = RecordingId, Path), ("task" = String, Path)),
    responses((status = OK, body = DisposalTaskView), (status = FORBIDDEN, body = Problem),
        (status = NOT_FOUND, body = Problem), (status = CONFLICT, body = Problem),
        (status = UNPROCESSABLE_ENTITY, body = Problem)))]
async fn mark_done(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path((recording, task)): Path<(RecordingId, String)>,
) -> ApiResult<axum::Json<DisposalTaskView>> {
    Ok(axum::Json(
        state
            .custodian
            .mark_disposal_task_done(&caller, recording, &task)
            .await?,
    ))
}
