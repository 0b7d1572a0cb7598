//! Recording into a session: capture with this device's camera or microphone, or upload a file
//! (X5, R3, R4). Both send the media straight to the vault by resumable upload (tus).

use askama::Template;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use custodian_app::london::london_time;
use custodian_core::ids::SessionId;
use custodian_core::purpose::Purpose;

use super::sessions::participants;
use super::signed_in::SignedIn;
use super::{error_page, render};
use crate::AppState;
use crate::extract::Path;

/// Capture and upload, the only script these pages need.
const MEDIA_SCRIPT: &str = include_str!("../../assets/media.js");

pub async fn media_script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        MEDIA_SCRIPT,
    )
}

#[derive(Template)]
#[template(path = "capture.html")]
struct CapturePage {
    title: &'static str,
    signed_in_as: Option<String>,
    /// Capture with the device, or upload a file.
    capture: bool,
    session_id: String,
    session_title: String,
    service: String,
    /// The participants' ids as a JSON array, for the upload's description.
    subjects: String,
    /// Initials and date of birth of each participant: what the opening statement says (R3).
    introductions: Vec<String>,
    now: String,
    purposes: Vec<(&'static str, String)>,
}

async fn page(state: &AppState, staff: &SignedIn, id: SessionId, capture: bool) -> Response {
    let record = match state.custodian.session(&staff.0, id).await {
        Ok(record) => record,
        Err(error) => return error_page(error, Some(staff.display_name())),
    };
    let people = match participants(state, staff, &record).await {
        Ok(people) => people,
        Err(error) => return error_page(error, Some(staff.display_name())),
    };
    let session = &record.session;
    let subjects: Vec<String> = session.participants.iter().map(|p| p.to_string()).collect();
    let page = CapturePage {
        title: if capture {
            "Record with this device"
        } else {
            "Upload a recording"
        },
        signed_in_as: Some(staff.display_name()),
        capture,
        session_id: session.id.to_string(),
        session_title: session.title.to_string(),
        service: session.service.to_string(),
        subjects: serde_json::to_string(&subjects).unwrap_or_else(|_| "[]".to_owned()),
        introductions: people
            .iter()
            .map(|(person, _)| {
                format!(
                    "{}, born {}",
                    person.name.initials(),
                    super::long_date(person.date_of_birth)
                )
            })
            .collect(),
        now: london_time(state.custodian.now()),
        purposes: Purpose::ALL
            .iter()
            .map(|p| (p.as_str(), super::sentence(p.label())))
            .collect(),
    };
    render(StatusCode::OK, &page)
}

pub async fn capture(
    State(state): State<AppState>,
    staff: SignedIn,
    Path(id): Path<SessionId>,
) -> Response {
    page(&state, &staff, id, true).await
}

pub async fn upload(
    State(state): State<AppState>,
    staff: SignedIn,
    Path(id): Path<SessionId>,
) -> Response {
    page(&state, &staff, id, false).await
}
