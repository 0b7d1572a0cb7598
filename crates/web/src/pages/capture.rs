//! Recording into a session: capture with this device's camera or microphone, or upload a file
//! (X5, R3, R4). With scripts, both send the media straight to the vault by resumable upload
//! (tus); without them, the upload form is posted whole and streamed into the vault.

use askama::Template;
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect};
use custodian_access::Action;
use custodian_app::AppError;
use custodian_app::london::london_time;
use custodian_app::media::UploadTarget;
use custodian_app::sessions::SessionRecord;
use custodian_core::DomainError;
use custodian_core::ids::SessionId;
use custodian_core::purpose::{Purpose, PurposeSet};
use custodian_core::recording::{RecordingForm, RecordingKind};
use custodian_core::text::ShortText;

use super::sessions::participants;
use super::signed_in::SignedIn;
use super::{FieldError, FormErrors, form_errors, render};
use crate::AppState;
use crate::extract::{Path, SESSION_COOKIE, audit_forgery, cookie, form_token_matches};
use crate::pages::PageResult;

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

/// What the recording is, as entered (kept when the form comes back with problems).
#[derive(Default)]
pub struct RecordingFields {
    kind: String,
    purposes: Vec<String>,
    device: String,
    location: String,
    /// When it was made, on a UK clock (uploads only; a capture is made now).
    date: String,
    time: String,
}

#[derive(Template)]
#[template(path = "capture.html")]
struct CapturePage {
    title: &'static str,
    signed_in_as: Option<super::signed_in::Who>,
    errors: Vec<FieldError>,
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
    purposes: Vec<(&'static str, String, bool)>,
    form: RecordingFields,
}

form_errors!(CapturePage);

async fn page(
    state: &AppState,
    staff: &SignedIn,
    id: SessionId,
    capture: bool,
    form: RecordingFields,
    errors: Vec<FieldError>,
) -> PageResult {
    let record = state
        .custodian
        .session_to(&staff.caller, Action::RunSession, id)
        .await?;
    let people = participants(state, staff, &record).await?;
    let session = &record.session;
    let subjects: Vec<String> = session.participants.iter().map(|p| p.to_string()).collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = CapturePage {
        title: if capture {
            "Record with this device"
        } else {
            "Upload a recording"
        },
        signed_in_as: Some(staff.who()),
        errors,
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
            .map(|p| {
                let ticked = form.purposes.iter().any(|code| code == p.as_str());
                (p.as_str(), super::sentence(p.label()), ticked)
            })
            .collect(),
        form,
    };
    Ok(render(status, &page))
}

/// The form as first shown: a video, made now.
fn fresh_fields(state: &AppState) -> RecordingFields {
    let (date, time) = super::uk_clock_fields(state.custodian.now());
    RecordingFields {
        kind: RecordingKind::Video.as_str().to_owned(),
        date,
        time,
        ..RecordingFields::default()
    }
}

pub async fn capture(
    State(state): State<AppState>,
    staff: SignedIn,
    Path(id): Path<SessionId>,
) -> PageResult {
    page(&state, &staff, id, true, fresh_fields(&state), Vec::new()).await
}

pub async fn upload(
    State(state): State<AppState>,
    staff: SignedIn,
    Path(id): Path<SessionId>,
) -> PageResult {
    page(&state, &staff, id, false, fresh_fields(&state), Vec::new()).await
}

/// The upload form posted without scripts: the fields first, then the file, streamed into the
/// vault as it arrives. The file's size is not known until its end, so the request's length
/// bounds it; nothing is registered unless every byte arrived and is stored.
pub async fn receive(
    State(state): State<AppState>,
    staff: SignedIn,
    Path(id): Path<SessionId>,
    headers: HeaderMap,
    extensions: axum::http::Extensions,
    mut multipart: Multipart,
) -> PageResult {
    let session = state
        .custodian
        .session_to(&staff.caller, Action::RunSession, id)
        .await?;
    let mut fields = RecordingFields::default();
    // The form's token comes first, before anything is read into the vault.
    let signed_in_with = cookie(&headers, SESSION_COOKIE);
    let genuine = match multipart.next_field().await {
        Ok(Some(field)) if field.name() == Some("csrf") => {
            let sent = bounded_text(field).await.unwrap_or_default();
            signed_in_with
                .as_deref()
                .is_some_and(|cookie| form_token_matches(cookie, &sent))
        }
        _ => false,
    };
    if !genuine {
        if let Some(cookie) = &signed_in_with {
            audit_forgery(
                &state,
                (&headers, &extensions),
                cookie,
                &format!("/sessions/{id}/upload"),
            )
            .await;
        }
        return Err(AppError::Unauthenticated(
                "this form did not come from a Custodian page you have open; reload the page and send it again",
            ).into());
    }
    let mut fields_read = 1;
    let outcome = loop {
        fields_read += 1;
        if fields_read > MOST_FIELDS {
            break Err(vec![FieldError::new(
                "file",
                "The form has more fields than Custodian's upload form sends; reload the page and send it again",
            )]);
        }
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break Err(vec![FieldError::new("file", "Choose the file to upload")]),
            Err(error) => break Err(vec![FieldError::new("file", sentence_of(&error))]),
        };
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            let target = match target(&fields, &session, staff.caller.member.id) {
                Ok(target) => target,
                Err(errors) => break Err(errors),
            };
            let filename = field.file_name().map(str::to_owned);
            let at_most = headers
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| state.custodian.vault_limit());
            break store(&state, &staff, target, filename, at_most, field).await;
        }
        let value = match bounded_text(field).await {
            Ok(value) => value,
            Err(problem) => break Err(vec![FieldError::new(field_for(&name), problem)]),
        };
        match name.as_str() {
            "kind" => fields.kind = value,
            "purposes" => fields.purposes.push(value),
            "device" => fields.device = value,
            "location" => fields.location = value,
            "date" => fields.date = value,
            "time" => fields.time = value,
            _ => {}
        }
    };
    match outcome {
        Ok(recording) => Ok(Redirect::to(&format!("/recordings/{recording}")).into_response()),
        Err(mut errors) => {
            errors.push(FieldError::new(
                "file",
                "Choose the file again: a browser does not send it back",
            ));
            page(&state, &staff, id, false, fields, errors).await
        }
    }
}

/// The most any text field of the upload form may hold: a device's or a place's name is short,
/// and only the file is streamed rather than read whole (a huge field must not fill memory).
const TEXT_FIELD_BYTES: usize = 4 * 1024;

/// The most parts the upload form may have (its own are fewer than 20, with every purpose).
const MOST_FIELDS: usize = 40;

/// A text field read to its end, refused once it outgrows [`TEXT_FIELD_BYTES`].
async fn bounded_text(mut field: axum::extract::multipart::Field<'_>) -> Result<String, String> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(|error| sentence_of(&error))? {
        if bytes.len() + chunk.len() > TEXT_FIELD_BYTES {
            return Err(format!(
                "This is longer than the {} KiB a field may hold; shorten it and send the form again.",
                TEXT_FIELD_BYTES / 1024
            ));
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes)
        .map_err(|_| "This is not text; type it again and send the form again.".to_owned())
}

/// The form field a problem with the part `name` is shown beside.
fn field_for(name: &str) -> &'static str {
    match name {
        "kind" => "kind",
        "purposes" => "purposes",
        "device" => "device",
        "location" => "location",
        "date" | "time" => "date",
        _ => "file",
    }
}

/// Streams the file into the vault and registers it, or says why not.
async fn store(
    state: &AppState,
    staff: &SignedIn,
    target: UploadTarget,
    filename: Option<String>,
    at_most: u64,
    file: axum::extract::multipart::Field<'_>,
) -> Result<String, Vec<FieldError>> {
    let custodian = &state.custodian;
    let refused = |error: AppError| vec![FieldError::new("file", problem_words(error))];
    let started = custodian
        .start_upload(&staff.caller, at_most, target, filename)
        .await
        .map_err(refused)?;
    let appended = custodian
        .append_upload(&staff.caller, started.id, 0, Box::pin(file))
        .await;
    if let Err(error) = appended {
        let _ = custodian.cancel_upload(&staff.caller, started.id).await;
        return Err(refused(error));
    }
    custodian
        .complete_upload(&staff.caller, started.id)
        .await
        .map(|recording| recording.id.to_string())
        .map_err(refused)
}

/// Checks every field, naming each problem; what the file will become when there are none.
fn target(
    fields: &RecordingFields,
    session: &SessionRecord,
    made_by: custodian_core::ids::StaffId,
) -> Result<UploadTarget, Vec<FieldError>> {
    let session = &session.session;
    let kind = RecordingKind::parse(&fields.kind);
    let purposes = if fields.purposes.is_empty() {
        Err(DomainError::NoPurposes)
    } else {
        PurposeSet::parse(fields.purposes.iter().map(String::as_str))
    };
    let device = ShortText::parse("device", &fields.device);
    let location = ShortText::parse("location", &fields.location);
    let made_at = super::uk_clock_moment(
        "made_at",
        "the date and time it was made, such as 2026-11-20 and 14:30",
        &fields.date,
        &fields.time,
    );
    let errors: Vec<FieldError> = [
        kind.as_ref().err().map(|e| ("kind", e)),
        purposes.as_ref().err().map(|e| ("purposes", e)),
        device.as_ref().err().map(|e| ("device", e)),
        location.as_ref().err().map(|e| ("location", e)),
        made_at.as_ref().err().map(|e| ("date", e)),
    ]
    .into_iter()
    .flatten()
    .map(|(field, error)| field_error(field, error))
    .collect();
    match (kind, purposes, device, location, made_at) {
        (Ok(kind), Ok(purposes), Ok(device), Ok(location), Ok(made_at)) if errors.is_empty() => {
            Ok(UploadTarget::Recording {
                form: RecordingForm {
                    kind,
                    service: session.service.clone(),
                    subjects: session.participants.clone(),
                    purposes,
                    made_by,
                    device,
                    made_at,
                    location,
                },
                session: Some(session.id),
            })
        }
        _ => Err(errors),
    }
}

fn field_error(field: &'static str, error: &DomainError) -> FieldError {
    let message = match error {
        DomainError::NoPurposes => "Choose what it is for".to_owned(),
        DomainError::Empty { field: "device" } => {
            "Enter the organisation device it was made on".to_owned()
        }
        DomainError::Empty { field: "location" } => "Enter where it was made".to_owned(),
        other => super::sentence(&other.to_string().replace('_', " ")),
    };
    FieldError::new(field, message)
}

fn problem_words(error: AppError) -> String {
    let problem = crate::ApiError::from(error);
    super::sentence(problem.detail())
}

fn sentence_of(error: &impl std::fmt::Display) -> String {
    super::sentence(&format!(
        "the form did not arrive whole ({error}); send it again"
    ))
}
