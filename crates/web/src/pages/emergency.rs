//! Emergency ("break-glass") access from the page that refused a person's record (S3): the
//! rule and what to do, and, where a policy allows it, a written reason that opens the record
//! for an hour and tells the information-governance lead.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use custodian_access::Action;
use custodian_app::{AppError, RefusalKind};
use custodian_core::ids::PersonId;
use custodian_core::text::Note;
use serde::Deserialize;

use super::signed_in::SignedIn;
use super::{FieldError, FormErrors, form_errors, render};
use crate::AppState;
use crate::extract::Path;
use crate::pages::PageResult;
use crate::pages::checked::Checked;

#[derive(Template)]
#[template(path = "person_refused.html")]
struct RefusedPage {
    title: &'static str,
    signed_in_as: Option<super::signed_in::Who>,
    errors: Vec<FieldError>,
    person_id: String,
    /// Why the record was refused, naming the rule, and what to do; none when the page comes
    /// back from the emergency access form with a problem.
    refusal: Option<RefusalWords>,
    /// Whether a policy lets the member take emergency access to this person.
    offer_emergency: bool,
    reason: String,
}

form_errors!(RefusedPage);

/// A refusal as the page words it.
struct RefusalWords {
    requirement: String,
    policy: Option<String>,
    reason: String,
    remedy: String,
}

#[derive(Deserialize, Default)]
pub struct EmergencyForm {
    #[serde(default)]
    reason: String,
}

/// The answer to a person's page that the app refused: for a refusal of the access policies, the
/// rule and what to do, with the emergency access form where a policy lets the member take it
/// (never to someone they have a connection to); for anything else, the error page.
pub async fn refused_person(
    state: &AppState,
    staff: &SignedIn,
    id: PersonId,
    error: AppError,
) -> PageResult {
    let AppError::Refused(refusal) = &error else {
        return Err(error.into());
    };
    let offer_emergency = match state
        .custodian
        .offers(&staff.caller, Action::BreakGlass, id)
        .await
    {
        Ok(offered) => offered,
        Err(other) => return Err(other.into()),
    };
    let page = RefusedPage {
        title: "You cannot see this person's record",
        signed_in_as: Some(staff.who()),
        errors: Vec::new(),
        person_id: id.to_string(),
        refusal: Some(RefusalWords {
            requirement: refusal.requirement.clone(),
            policy: refusal.policy.clone(),
            reason: super::sentence(refusal.reason.trim_end_matches('.')),
            remedy: super::sentence(refusal.remedy.trim_end_matches('.')),
        }),
        offer_emergency,
        reason: String::new(),
    };
    Ok(render(StatusCode::FORBIDDEN, &page))
}

/// Takes emergency access with the reason written, then opens the person's page.
pub async fn take(
    State(state): State<AppState>,
    staff: SignedIn,
    Path(id): Path<PersonId>,
    Checked(form): Checked<EmergencyForm>,
) -> PageResult {
    let problem = match Note::parse("reason", &form.reason) {
        Ok(reason) => match state
            .custodian
            .take_emergency_access(&staff.caller, id, reason)
            .await
        {
            Ok(_) => return Ok(Redirect::to(&format!("/persons/{id}")).into_response()),
            Err(AppError::Rule { code, message }) if code.kind() == RefusalKind::Conflict => {
                message
            }
            Err(AppError::Invalid(error)) => error.to_string(),
            Err(error) => return Err(error.into()),
        },
        Err(_) if form.reason.trim().is_empty() => {
            "write why you need emergency access: the information-governance lead reads it"
                .to_owned()
        }
        Err(error) => error.to_string(),
    };
    let page = RefusedPage {
        title: "Take emergency access",
        signed_in_as: Some(staff.who()),
        errors: vec![FieldError::new("reason", super::sentence(&problem))],
        person_id: id.to_string(),
        refusal: None,
        offer_emergency: true,
        reason: form.reason,
    };
    Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page))
}
