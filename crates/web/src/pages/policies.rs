//! The organisation's own access policies for administrators (X6): the list, proposing to add
//! or replace one (an invalid one comes back with Cedar's words and the text as typed) or to
//! delete one after confirming; each takes effect when an information-governance lead approves.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use custodian_app::AppError;
use custodian_app::london::london_time;
use custodian_core::ids::StaffId;
use serde::Deserialize;

use super::signed_in::SignedIn;
use super::views::Done;
use super::{FieldError, FormErrors, form_errors, render};
use crate::AppState;
use crate::extract::Path;
use crate::pages::PageResult;
use crate::pages::checked::{Checked, NoFields};

/// A local policy as the list shows it.
pub struct PolicyLine {
    name: String,
    text: String,
    changed: String,
}

/// A policy as typed into the form.
#[derive(Deserialize, Default)]
pub struct PolicyForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    text: String,
}

#[derive(Template)]
#[template(path = "policies.html")]
struct PoliciesPage {
    title: &'static str,
    signed_in_as: Option<super::signed_in::Who>,
    errors: Vec<FieldError>,
    local: Vec<PolicyLine>,
    shipped: Vec<String>,
    form: PolicyForm,
    done: Option<String>,
    /// Changes proposed and not yet approved.
    waiting: usize,
}

form_errors!(PoliciesPage);

#[derive(Template)]
#[template(path = "policy.html")]
struct PolicyPage {
    title: String,
    signed_in_as: Option<super::signed_in::Who>,
    errors: Vec<FieldError>,
    form: PolicyForm,
}

form_errors!(PolicyPage);

#[derive(Template)]
#[template(path = "policy_delete.html")]
struct DeletePage {
    title: String,
    signed_in_as: Option<super::signed_in::Who>,
    name: String,
    text: String,
}

/// The policies in force, and the form to add one.
pub async fn list(
    State(state): State<AppState>,
    staff: SignedIn,
    Query(done): Query<Done>,
) -> PageResult {
    let done = match done.as_str() {
        "saved" => Some("The policy is checked and sent for approval: it takes effect when an information-governance lead approves it.".to_owned()),
        "deleted" => Some("Its removal is sent for approval: the policy stays in force until an information-governance lead approves it.".to_owned()),
        _ => None,
    };
    Ok(list_page(&state, &staff, PolicyForm::default(), Vec::new(), done).await?)
}

/// Adds a policy, or replaces the one of that name.
pub async fn add(
    State(state): State<AppState>,
    staff: SignedIn,
    Checked(form): Checked<PolicyForm>,
) -> PageResult {
    match save(&state, &staff, &form).await {
        Ok(()) => Ok(Redirect::to("/policies?done=saved").into_response()),
        Err(Saved::Problems(errors)) => match list_page(&state, &staff, form, errors, None).await {
            Ok(mut response) => {
                *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
                Ok(response)
            }
            Err(error) => Err(error.into()),
        },
        Err(Saved::Failed(error)) => Err(error.into()),
    }
}

/// One policy, to change.
pub async fn show(
    State(state): State<AppState>,
    staff: SignedIn,
    Path(name): Path<String>,
) -> PageResult {
    let text = stored(&state, &staff, &name).await?;
    Ok(policy_page(
        &staff,
        PolicyForm { name, text },
        Vec::new(),
        StatusCode::OK,
    ))
}

/// Replaces the policy with the text typed.
pub async fn replace(
    State(state): State<AppState>,
    staff: SignedIn,
    Path(name): Path<String>,
    Checked(form): Checked<PolicyForm>,
) -> PageResult {
    let form = PolicyForm {
        name,
        text: form.text,
    };
    match save(&state, &staff, &form).await {
        Ok(()) => Ok(Redirect::to("/policies?done=saved").into_response()),
        Err(Saved::Problems(errors)) => Ok(policy_page(
            &staff,
            form,
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )),
        Err(Saved::Failed(error)) => Err(error.into()),
    }
}

/// Asks before deleting a policy.
pub async fn confirm_delete(
    State(state): State<AppState>,
    staff: SignedIn,
    Path(name): Path<String>,
) -> PageResult {
    match stored(&state, &staff, &name).await {
        Ok(text) => {
            let page = DeletePage {
                title: format!("Delete the policy {name}?"),
                signed_in_as: Some(staff.who()),
                name,
                text,
            };
            Ok(render(StatusCode::OK, &page))
        }
        Err(error) => Err(error.into()),
    }
}

pub async fn delete(
    State(state): State<AppState>,
    staff: SignedIn,
    Path(name): Path<String>,
    Checked(NoFields {}): Checked<NoFields>,
) -> PageResult {
    state
        .custodian
        .delete_local_policy(&staff.caller, &name)
        .await?;
    Ok(Redirect::to("/policies?done=deleted").into_response())
}

/// Why a policy was not saved.
enum Saved {
    /// Problems with what was typed, to show beside the fields.
    Problems(Vec<FieldError>),
    Failed(AppError),
}

/// Checks and saves the policy typed; Cedar's validator has the last word on the text.
async fn save(state: &AppState, staff: &SignedIn, form: &PolicyForm) -> Result<(), Saved> {
    // Only those who may change policies hear what is wrong with one.
    state
        .custodian
        .may(&staff.caller, custodian_access::Action::ManagePolicies)
        .await
        .map_err(Saved::Failed)?;
    let name = form.name.trim();
    let mut errors = Vec::new();
    if name.is_empty() {
        errors.push(FieldError::new(
            "name",
            "Enter a name for the policy, such as no-break-glass",
        ));
    }
    if form.text.trim().is_empty() {
        errors.push(FieldError::new("text", "Enter the policy, in Cedar"));
    }
    if !errors.is_empty() {
        return Err(Saved::Problems(errors));
    }
    match state
        .custodian
        .put_local_policy(&staff.caller, name, &form.text)
        .await
    {
        Ok(_) => Ok(()),
        Err(AppError::InvalidPolicy(message)) => {
            // The access crate checks the name first, then Cedar the text.
            let field = if message.starts_with("a local policy's name") {
                "name"
            } else {
                "text"
            };
            let words = if field == "text" {
                format!("Cedar's validator refused the policy: {message}")
            } else {
                super::sentence(&message)
            };
            Err(Saved::Problems(vec![FieldError::new(field, words)]))
        }
        Err(error) => Err(Saved::Failed(error)),
    }
}

/// The stored text of the local policy `name`.
async fn stored(state: &AppState, staff: &SignedIn, name: &str) -> Result<String, AppError> {
    state
        .custodian
        .local_policies(&staff.caller)
        .await?
        .into_iter()
        .find(|policy| policy.name == name)
        .map(|policy| policy.text)
        .ok_or_else(|| AppError::NotFound {
            what: "local policy",
            id: name.to_owned(),
        })
}

async fn list_page(
    state: &AppState,
    staff: &SignedIn,
    form: PolicyForm,
    errors: Vec<FieldError>,
    done: Option<String>,
) -> Result<Response, AppError> {
    let custodian = &state.custodian;
    let local = custodian.local_policies(&staff.caller).await?;
    let waiting = custodian.policy_proposals(&staff.caller).await?.len();
    // Who changed each, named for those who may list accounts (administrators); someone a
    // local policy lets change policies without managing accounts sees no names.
    let members = if custodian
        .offers_to_organisation(&staff.caller, custodian_access::Action::ManageAccounts)
        .await?
    {
        custodian.staff_members(&staff.caller).await?
    } else {
        Vec::new()
    };
    let name_of = |id: uuid::Uuid| {
        members
            .iter()
            .find(|member| member.id == StaffId::from_uuid(id))
            .map_or_else(
                || "a member of staff".to_owned(),
                |member| member.display_name.to_string(),
            )
    };
    let page = PoliciesPage {
        title: "Local access policies",
        signed_in_as: Some(staff.who()),
        errors,
        local: local
            .into_iter()
            .map(|policy| PolicyLine {
                changed: format!(
                    "{}, by {}",
                    london_time(policy.changed_at),
                    name_of(policy.changed_by)
                ),
                name: policy.name,
                text: policy.text,
            })
            .collect(),
        shipped: custodian_access::AccessPolicies::shipped()
            .map(|policies| policies.policy_ids())
            .unwrap_or_default(),
        form,
        done,
        waiting,
    };
    Ok(render(StatusCode::OK, &page))
}

fn policy_page(
    staff: &SignedIn,
    form: PolicyForm,
    errors: Vec<FieldError>,
    status: StatusCode,
) -> Response {
    let page = PolicyPage {
        title: format!("Change the policy {}", form.name),
        signed_in_as: Some(staff.who()),
        errors,
        form,
    };
    render(status, &page)
}
