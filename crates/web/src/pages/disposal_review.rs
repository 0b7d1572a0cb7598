//! Reviewing one recording that came due (D2): approve its disposal, or keep it longer to a
//! later date with a reason. The use case refuses a held recording (D7) and one not yet due.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use custodian_app::retention::ReviewRequest;
use custodian_app::{AppError, RefusalKind};
use custodian_core::ids::RecordingId;
use custodian_core::text::Note;
use serde::Deserialize;

use super::disposals::{QueueLine, line};
use super::signed_in::SignedIn;
use super::{FieldError, FormErrors, form_errors, render};
use crate::AppState;
use crate::extract::Path;
use crate::pages::PageResult;
use crate::pages::checked::Checked;

/// The review form, as typed.
#[derive(Deserialize, Default)]
pub struct ReviewForm {
    /// `approve` or `extend`.
    #[serde(default)]
    outcome: String,
    /// For an extension: the date to keep it until, as 2027-06-30.
    #[serde(default)]
    until: String,
    #[serde(default)]
    reason: String,
}

#[derive(Template)]
#[template(path = "disposal_review.html")]
struct ReviewPage {
    title: &'static str,
    signed_in_as: Option<super::signed_in::Who>,
    errors: Vec<FieldError>,
    line: QueueLine,
    form: ReviewForm,
}

form_errors!(ReviewPage);

pub async fn form(
    State(state): State<AppState>,
    staff: SignedIn,
    Path(id): Path<RecordingId>,
) -> PageResult {
    page(&state, &staff, id, ReviewForm::default(), Vec::new()).await
}

pub async fn submit(
    State(state): State<AppState>,
    staff: SignedIn,
    Path(id): Path<RecordingId>,
    Checked(form): Checked<ReviewForm>,
) -> PageResult {
    let request = match request(&form) {
        Ok(request) => request,
        Err(errors) => return page(&state, &staff, id, form, errors).await,
    };
    let done = match request {
        ReviewRequest::Approve => "approved",
        ReviewRequest::Extend { .. } => "extended",
    };
    match state
        .custodian
        .review_disposal(&staff.caller, id, request)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/disposals?done={done}")).into_response()),
        Err(AppError::Invalid(error)) => {
            let field = match error.field() {
                Some("until") => "until",
                Some("reason") => "reason",
                _ => "outcome",
            };
            let errors = vec![FieldError::new(field, super::sentence(&error.to_string()))];
            page(&state, &staff, id, form, errors).await
        }
        // A legal hold stands: the records manager is told beside their choice, as for any rule.
        Err(AppError::Rule { code, message }) if code.kind() == RefusalKind::Conflict => {
            let errors = vec![FieldError::new("outcome", super::sentence(&message))];
            page(&state, &staff, id, form, errors).await
        }
        Err(error) => Err(error.into()),
    }
}

/// The review asked for, or what is wrong with the form.
fn request(form: &ReviewForm) -> Result<ReviewRequest, Vec<FieldError>> {
    match form.outcome.as_str() {
        "approve" => Ok(ReviewRequest::Approve),
        "extend" => {
            let mut errors = Vec::new();
            let until = match crate::input::date("until", &form.until) {
                Ok(until) => Some(until),
                Err(_) if form.until.trim().is_empty() => {
                    errors.push(FieldError::new(
                        "until",
                        "Enter the date to keep it until, such as 2027-06-30",
                    ));
                    None
                }
                Err(_) => {
                    errors.push(FieldError::new(
                        "until",
                        "Enter the date as year, month and day, such as 2027-06-30",
                    ));
                    None
                }
            };
            let reason = if form.reason.trim().is_empty() {
                errors.push(FieldError::new(
                    "reason",
                    "Give the reason for keeping it longer: it is kept in the recording's history",
                ));
                None
            } else {
                match Note::parse("reason", &form.reason) {
                    Ok(reason) => Some(reason),
                    Err(error) => {
                        errors.push(FieldError::new(
                            "reason",
                            super::sentence(&error.to_string()),
                        ));
                        None
                    }
                }
            };
            match (until, reason) {
                (Some(until), Some(reason)) => Ok(ReviewRequest::Extend { until, reason }),
                _ => Err(errors),
            }
        }
        _ => Err(vec![FieldError::new(
            "outcome",
            "Choose whether to approve its disposal or keep it longer",
        )]),
    }
}

/// The page, with what was typed and its problems (422 when there are any). Reading the
/// recording's place in the queue checks the records manager's role first.
async fn page(
    state: &AppState,
    staff: &SignedIn,
    id: RecordingId,
    form: ReviewForm,
    errors: Vec<FieldError>,
) -> PageResult {
    let entry = state.custodian.queued_disposal(&staff.caller, id).await?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = ReviewPage {
        title: "Review a disposal",
        signed_in_as: Some(staff.who()),
        errors,
        line: line(&entry),
        form,
    };
    Ok(render(status, &page))
}
