//! Health checks, the only routes open without signing in.

use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "health", security(()), responses((status = OK, body = String)))]
async fn healthz() -> &'static str {
    "ok"
}

/// The process can reach its register.
#[utoipa::path(get, path = "/readyz", tag = "health", security(()),
    responses((status = OK, body = String), (status = SERVICE_UNAVAILABLE, body = String)))]
async fn readyz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    match state.custodian.register().ping().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(error) => {
            tracing::warn!(%error, "not ready");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "the register is unavailable",
            )
        }
    }
}
