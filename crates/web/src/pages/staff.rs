//! Staff accounts for administrators (S2): who has which roles and services, changing them,
//! resetting a lost authenticator app, and linking single sign-on.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use custodian_app::access_views::AccountView;
use custodian_app::london::london_time;
use custodian_app::{AppError, ErrorCode, RefusalKind};
use custodian_core::ids::StaffId;
use custodian_core::staff::Role;
use custodian_core::text::ServiceCode;
use serde::Deserialize;

use super::signed_in::SignedIn;
use super::{FieldError, FormErrors, form_errors, render};
use crate::AppState;
use crate::extract::Path;
use crate::pages::PageResult;
use crate::pages::checked::{Checked, NoFields};

/// A member of staff as a row of the list.
pub struct StaffLine {
    id: String,
    name: String,
    username: String,
    roles: String,
    services: String,
}

#[derive(Template)]
#[template(path = "staff_list.html")]
struct StaffListPage {
    title: &'static str,
    signed_in_as: Option<super::signed_in::Who>,
    members: Vec<StaffLine>,
}

/// What the access form holds, as typed.
#[derive(Deserialize, Default)]
pub struct AccessForm {
    #[serde(default)]
    roles: Vec<String>,
    /// Service codes separated by commas, spaces or new lines.
    #[serde(default)]
    services: String,
}

#[derive(Deserialize, Default)]
pub struct SsoForm {
    #[serde(default)]
    subject: String,
    /// Present when the "Unlink" button sent the form.
    #[serde(default)]
    unlink: String,
}

/// What was just done, to confirm at the top of the page.
#[derive(Deserialize, Default)]
pub struct Done {
    #[serde(default)]
    done: String,
}

#[derive(Template)]
#[template(path = "staff_member.html")]
struct MemberPage {
    title: String,
    signed_in_as: Option<super::signed_in::Who>,
    errors: Vec<FieldError>,
    id: String,
    username: String,
    /// Each role: its code, its words, and whether it is ticked.
    roles: Vec<(&'static str, String, bool)>,
    services: String,
    status: Vec<(&'static str, String)>,
    totp_enrolled: bool,
    /// Whether their role needs an authenticator app.
    needs_totp: bool,
    /// Whether single sign-on is configured, and the subject linked or typed.
    sso_configured: bool,
    sso_subject: Option<String>,
    subject: String,
    done: Option<&'static str>,
}

form_errors!(MemberPage);

/// The list of every account.
pub async fn list(State(state): State<AppState>, staff: SignedIn) -> PageResult {
    let members = state.custodian.staff_members(&staff.caller).await?;
    let page = StaffListPage {
        title: "Staff",
        signed_in_as: Some(staff.who()),
        members: members
            .iter()
            .map(|member| StaffLine {
                id: member.id.to_string(),
                name: member.display_name.to_string(),
                username: member.username.to_string(),
                roles: role_words(&member.roles),
                services: if member.services.is_empty() {
                    "None".to_owned()
                } else {
                    services_text(&member.services)
                },
            })
            .collect(),
    };
    Ok(render(StatusCode::OK, &page))
}

/// One account, with its forms.
pub async fn show(
    State(state): State<AppState>,
    staff: SignedIn,
    Path(id): Path<StaffId>,
    Query(done): Query<Done>,
) -> PageResult {
    let done = match done.done.as_str() {
        "access" => {
            Some("Their roles and services are changed. They take effect at their next request.")
        }
        "totp" => Some(
            "Their authenticator app is removed. They set up a new one when they next sign in, if their role needs one.",
        ),
        "sso-linked" => Some("Their account is linked to single sign-on."),
        "sso-unlinked" => Some(
            "Their account is no longer linked to single sign-on: they sign in with their password.",
        ),
        _ => None,
    };
    Ok(member_page(&state, &staff, id, Typed::Stored, Vec::new(), done).await?)
}

/// Replaces the member's roles and services.
pub async fn set_access(
    State(state): State<AppState>,
    staff: SignedIn,
    Path(id): Path<StaffId>,
    Checked(form): Checked<AccessForm>,
) -> PageResult {
    let mut errors = Vec::new();
    let roles: Vec<Role> = form
        .roles
        .iter()
        .filter_map(|code| match Role::parse(code) {
            Ok(role) => Some(role),
            Err(_) => {
                errors.push(FieldError::new(
                    "roles",
                    format!("There is no role `{code}`"),
                ));
                None
            }
        })
        .collect();
    let services: Vec<ServiceCode> = form
        .services
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|code| !code.is_empty())
        .filter_map(|code| match ServiceCode::parse(code) {
            Ok(service) => Some(service),
            Err(error) => {
                errors.push(FieldError::new(
                    "services",
                    super::sentence(&format!("`{code}`: {error}")),
                ));
                None
            }
        })
        .collect();
    if roles.is_empty() && errors.is_empty() {
        errors.push(FieldError::new("roles", "Choose at least one role"));
    }
    if errors.is_empty() {
        match state
            .custodian
            .set_staff_access(&staff.caller, id, roles, services)
            .await
        {
            Ok(_) => return Ok(Redirect::to(&format!("/staff/{id}?done=access")).into_response()),
            Err(AppError::Rule { code, message }) if code.kind() == RefusalKind::Conflict => {
                let field = if code == ErrorCode::StaffServiceRequired {
                    "services"
                } else {
                    "roles"
                };
                errors.push(FieldError::new(field, super::sentence(&message)));
            }
            Err(error) => return Err(error.into()),
        }
    }
    again(&state, &staff, id, Typed::Access(form), errors).await
}

/// Removes the member's authenticator app, when they have lost it.
pub async fn reset_totp(
    State(state): State<AppState>,
    staff: SignedIn,
    Path(id): Path<StaffId>,
    Checked(NoFields {}): Checked<NoFields>,
) -> PageResult {
    state.custodian.reset_totp(&staff.caller, id).await?;
    Ok(Redirect::to(&format!("/staff/{id}?done=totp")).into_response())
}

/// Links the member's account to a single sign-on subject, or unlinks it.
pub async fn link_sso(
    State(state): State<AppState>,
    staff: SignedIn,
    Path(id): Path<StaffId>,
    Checked(form): Checked<SsoForm>,
) -> PageResult {
    let unlink = !form.unlink.is_empty();
    let subject = (!unlink).then(|| form.subject.trim());
    match state.custodian.link_sso(&staff.caller, id, subject).await {
        Ok(()) => {
            let done = if unlink { "sso-unlinked" } else { "sso-linked" };
            Ok(Redirect::to(&format!("/staff/{id}?done={done}")).into_response())
        }
        Err(AppError::Rule { code, message }) if code.kind() == RefusalKind::Conflict => {
            let errors = vec![FieldError::new("subject", super::sentence(&message))];
            again(&state, &staff, id, Typed::Sso(form.subject), errors).await
        }
        Err(AppError::Invalid(error)) => {
            let errors = vec![FieldError::new(
                "subject",
                super::sentence(&error.to_string()),
            )];
            again(&state, &staff, id, Typed::Sso(form.subject), errors).await
        }
        Err(error) => Err(error.into()),
    }
}

/// What the forms show: the account as stored, or what was typed into one of them.
enum Typed {
    Stored,
    Access(AccessForm),
    Sso(String),
}

/// The page again, with what was typed and its problems.
async fn again(
    state: &AppState,
    staff: &SignedIn,
    id: StaffId,
    typed: Typed,
    errors: Vec<FieldError>,
) -> PageResult {
    let mut response = member_page(state, staff, id, typed, errors, None).await?;
    *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(response)
}

async fn member_page(
    state: &AppState,
    staff: &SignedIn,
    id: StaffId,
    typed: Typed,
    errors: Vec<FieldError>,
    done: Option<&'static str>,
) -> Result<Response, AppError> {
    let account: AccountView = state.custodian.staff_account(&staff.caller, id).await?;
    let member = &account.member;
    let (ticked, services, subject) = match typed {
        Typed::Stored => (
            member.roles.iter().map(|r| r.as_str().to_owned()).collect(),
            services_text(&member.services),
            account.sso_subject.clone().unwrap_or_default(),
        ),
        Typed::Access(form) => (
            form.roles,
            form.services,
            account.sso_subject.clone().unwrap_or_default(),
        ),
        Typed::Sso(subject) => (
            member
                .roles
                .iter()
                .map(|r| r.as_str().to_owned())
                .collect::<Vec<_>>(),
            services_text(&member.services),
            subject,
        ),
    };
    let mut status = vec![(
        "Password",
        if account.must_change_password {
            "A one-time password: they choose their own at first sign-in".to_owned()
        } else {
            "Chosen by them".to_owned()
        },
    )];
    status.push((
        "Authenticator app",
        match account.totp_enrolled_at {
            Some(at) => format!("Set up {}", london_time(at)),
            None => "Not set up".to_owned(),
        },
    ));
    if let Some(at) = account.disabled_at {
        status.push(("Disabled", london_time(at)));
    }
    let page = MemberPage {
        title: member.display_name.to_string(),
        signed_in_as: Some(staff.who()),
        errors,
        id: member.id.to_string(),
        username: member.username.to_string(),
        roles: Role::ALL
            .iter()
            .map(|role| {
                (
                    role.as_str(),
                    super::sentence(role.label()),
                    ticked.iter().any(|code| code == role.as_str()),
                )
            })
            .collect(),
        services,
        status,
        totp_enrolled: account.totp_enrolled_at.is_some(),
        needs_totp: custodian_app::accounts::totp_required(member),
        sso_configured: state.custodian.sso().is_some(),
        sso_subject: account.sso_subject,
        subject,
        done,
    };
    Ok(render(StatusCode::OK, &page))
}

fn role_words(roles: &[Role]) -> String {
    let words: Vec<String> = roles.iter().map(|r| super::sentence(r.label())).collect();
    words.join(", ")
}

fn services_text(services: &[ServiceCode]) -> String {
    let codes: Vec<&str> = services.iter().map(ServiceCode::as_str).collect();
    codes.join(", ")
}
