//! Choosing a new password, which a one-time password requires before anything else.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use custodian_app::{AppError, ErrorCode};
use serde::Deserialize;

use super::signed_in::SignedIn;
use super::{FieldError, FormErrors, form_errors, render, safe_return_path};
use crate::AppState;
use crate::pages::PageResult;
use crate::pages::checked::Checked;

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    title: &'static str,
    signed_in_as: Option<super::signed_in::Who>,
    errors: Vec<FieldError>,
    first_time: bool,
    return_to: String,
}

form_errors!(PasswordPage);

impl PasswordPage {
    /// Each field: its name, label, hint and autocomplete token.
    fn fields(
        &self,
    ) -> [(
        &'static str,
        &'static str,
        Option<&'static str>,
        &'static str,
    ); 3] {
        [
            (
                "current_password",
                "Current password",
                None,
                "current-password",
            ),
            (
                "new_password",
                "New password",
                Some("At least 12 characters. A few unrelated words make a strong one."),
                "new-password",
            ),
            (
                "confirm_password",
                "New password again",
                None,
                "new-password",
            ),
        ]
    }
}

#[derive(Deserialize)]
pub struct ReturnTo {
    #[serde(default)]
    return_to: String,
}

pub async fn form(staff: SignedIn, Query(query): Query<ReturnTo>) -> Response {
    let page = PasswordPage {
        title: "Choose a new password",
        first_time: staff.caller.must_change_password,
        signed_in_as: Some(staff.who()),
        errors: Vec::new(),
        return_to: safe_return_path(&query.return_to).to_owned(),
    };
    render(StatusCode::OK, &page)
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm_password: String,
    #[serde(default)]
    return_to: String,
}

pub async fn submit(
    State(state): State<AppState>,
    staff: SignedIn,
    parts: axum::http::request::Parts,
    Checked(form): Checked<PasswordForm>,
) -> PageResult {
    let return_to = safe_return_path(&form.return_to).to_owned();
    let mut errors = Vec::new();
    if form.current_password.is_empty() {
        errors.push(FieldError::new(
            "current_password",
            "Enter your current password",
        ));
    }
    if form.new_password.is_empty() {
        errors.push(FieldError::new("new_password", "Enter a new password"));
    } else if form.new_password != form.confirm_password {
        errors.push(FieldError::new(
            "confirm_password",
            "Enter the same new password twice",
        ));
    }
    if errors.is_empty() {
        match state
            .custodian
            .change_password(&staff.caller, &form.current_password, &form.new_password)
            .await
        {
            // Changing a password ends every sign-in, this one too; the new password has just
            // been given, so it signs this browser in again rather than asking for it twice.
            Ok(()) => {
                let username = staff.caller.member.username.to_string();
                return Ok(
                    match state.custodian.sign_in(&username, &form.new_password).await {
                        Ok(step) => {
                            super::sign_in::after_password(&state, &parts, step, &return_to).await
                        }
                        Err(_) => Redirect::to("/sign-in").into_response(),
                    },
                );
            }
            Err(AppError::Rule {
                code: ErrorCode::AuthWrongCurrentPassword,
                ..
            }) => errors.push(FieldError::new(
                "current_password",
                "Your current password is not right",
            )),
            Err(AppError::WeakPassword(reason)) => {
                errors.push(FieldError::new("new_password", super::sentence(&reason)))
            }
            Err(error) => return Err(error.into()),
        }
    }
    let page = PasswordPage {
        title: "Choose a new password",
        first_time: staff.caller.must_change_password,
        signed_in_as: Some(staff.who()),
        errors,
        return_to,
    };
    Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page))
}
