//! Signing in and out in the browser.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use custodian_app::{AppError, Secret};
use serde::Deserialize;

use super::signed_in::SignedIn;
use super::{FieldError, FormErrors, form_errors, render, safe_return_path};
use crate::AppState;
use crate::extract::{cleared_cookie, session_cookie, sign_in_cookie};
use crate::pages::checked::{Checked, NoFields};

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    title: &'static str,
    signed_in_as: Option<super::signed_in::Who>,
    errors: Vec<FieldError>,
    username: String,
    return_to: String,
}

form_errors!(SignInPage);

impl SignInPage {
    fn new(username: String, return_to: String, errors: Vec<FieldError>) -> Self {
        Self {
            title: "Sign in",
            signed_in_as: None,
            errors,
            username,
            return_to,
        }
    }
}

#[derive(Deserialize)]
pub struct ReturnTo {
    #[serde(default)]
    return_to: String,
}

pub async fn form(Query(query): Query<ReturnTo>) -> Response {
    let return_to = safe_return_path(&query.return_to).to_owned();
    render(
        StatusCode::OK,
        &SignInPage::new(String::new(), return_to, Vec::new()),
    )
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    return_to: String,
}

// Signing in needs no token: there is no sign-in yet to forge a request with.
pub async fn submit(
    State(state): State<AppState>,
    parts: axum::http::request::Parts,
    Form(form): Form<SignInForm>,
) -> Response {
    let return_to = safe_return_path(&form.return_to).to_owned();
    let mut errors = Vec::new();
    if form.username.trim().is_empty() {
        errors.push(FieldError {
            field: "username",
            message: "Enter your username".to_owned(),
        });
    }
    if form.password.is_empty() {
        errors.push(FieldError {
            field: "password",
            message: "Enter your password".to_owned(),
        });
    }
    if !errors.is_empty() {
        let page = SignInPage::new(form.username, return_to, errors);
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    match state
        .custodian
        .sign_in(form.username.trim(), &form.password)
        .await
    {
        Ok(signed_in) => {
            // Whatever sign-in this browser carried before ends: a cookie planted in it by
            // someone else is worth nothing afterwards (session fixation, ASVS 3.2.1).
            if let Some(earlier) = session_cookie(&parts)
                && let Err(error) = state.custodian.sign_out(&Secret::from(earlier)).await
            {
                tracing::warn!(%error, "an earlier sign-in could not be ended");
            }
            let mut headers = HeaderMap::new();
            if let Some(cookie) = sign_in_cookie(signed_in.secret.expose()) {
                headers.insert(header::SET_COOKIE, cookie);
            }
            (headers, Redirect::to(&return_to)).into_response()
        }
        Err(AppError::Unauthenticated(_)) => {
            // The same words whichever part was wrong, so usernames cannot be discovered.
            let errors = vec![FieldError {
                field: "username",
                message: "Enter a correct username and password".to_owned(),
            }];
            let page = SignInPage::new(form.username, return_to, errors);
            render(StatusCode::UNAUTHORIZED, &page)
        }
        Err(AppError::LockedOut(message)) => {
            let errors = vec![FieldError {
                field: "username",
                message: super::sentence(&message),
            }];
            let page = SignInPage::new(form.username, return_to, errors);
            render(StatusCode::TOO_MANY_REQUESTS, &page)
        }
        Err(error) => crate::ApiError::from(error).into_response(),
    }
}

pub async fn sign_out(
    State(state): State<AppState>,
    parts: axum::http::request::Parts,
    Checked(NoFields {}): Checked<NoFields>,
) -> Response {
    if let Some(cookie) = session_cookie(&parts)
        && let Err(error) = state.custodian.sign_out(&Secret::from(cookie)).await
    {
        return crate::ApiError::from(error).into_response();
    }
    let mut headers = HeaderMap::new();
    headers.insert(header::SET_COOKIE, cleared_cookie());
    (headers, Redirect::to("/sign-in")).into_response()
}

/// Ends every sign-in of the member of staff, here and on every other device.
pub async fn sign_out_everywhere(
    State(state): State<AppState>,
    staff: SignedIn,
    Checked(NoFields {}): Checked<NoFields>,
) -> Response {
    if let Err(error) = state.custodian.sign_out_everywhere(&staff.0).await {
        return super::error_page(error, Some(staff.who()));
    }
    let mut headers = HeaderMap::new();
    headers.insert(header::SET_COOKIE, cleared_cookie());
    (headers, Redirect::to("/sign-in")).into_response()
}
