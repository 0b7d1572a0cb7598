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
use crate::extract::{
    cleared_cookie, cookie, form_token, form_token_matches, session_cookie, sign_in_cookie,
};
use crate::pages::checked::{Checked, NoFields};

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    title: &'static str,
    signed_in_as: Option<super::signed_in::Who>,
    errors: Vec<FieldError>,
    username: String,
    return_to: String,
    /// The anti-forgery token of this page's own cookie (there is no sign-in yet to tie it to).
    csrf: String,
    /// The single sign-on button's words, when single sign-on is configured.
    sso_label: Option<String>,
}

form_errors!(SignInPage);

/// The cookie that holds the sign-in page's random value, sent back only to `/sign-in`.
const SIGN_IN_FORM_COOKIE: &str = "custodian_sign_in_form";

/// Shows the sign-in page with a fresh random value in its own cookie, whose token the form
/// carries: another site cannot sign a browser in to an account of its choosing (login CSRF).
fn show(state: &AppState, status: StatusCode, mut page: SignInPage) -> Response {
    page.sso_label = state.custodian.sso().map(|sso| sso.label().to_owned());
    let nonce = match custodian_app::accounts::form_nonce() {
        Ok(nonce) => nonce,
        Err(error) => return crate::ApiError::from(error).into_response(),
    };
    page.csrf = form_token(nonce.expose());
    let mut response = render(status, &page);
    if let Ok(cookie) = axum::http::HeaderValue::from_str(&format!(
        "{SIGN_IN_FORM_COOKIE}={}; Path=/sign-in; HttpOnly; Secure; SameSite=Strict; Max-Age=3600",
        nonce.expose()
    )) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// Whether the sign-in form carries the token of the page's own cookie.
fn genuine(parts: &axum::http::request::Parts, sent: &str) -> bool {
    cookie(&parts.headers, SIGN_IN_FORM_COOKIE)
        .is_some_and(|nonce| form_token_matches(&nonce, sent))
}

impl SignInPage {
    fn new(username: String, return_to: String, errors: Vec<FieldError>) -> Self {
        Self {
            title: "Sign in",
            signed_in_as: None,
            errors,
            username,
            return_to,
            csrf: String::new(),
            sso_label: None,
        }
    }
}

#[derive(Deserialize)]
pub struct ReturnTo {
    #[serde(default)]
    return_to: String,
}

pub async fn form(State(state): State<AppState>, Query(query): Query<ReturnTo>) -> Response {
    let return_to = safe_return_path(&query.return_to).to_owned();
    show(
        &state,
        StatusCode::OK,
        SignInPage::new(String::new(), return_to, Vec::new()),
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
    #[serde(default)]
    csrf: String,
}

// Signing in needs no token: there is no sign-in yet to forge a request with.
pub async fn submit(
    State(state): State<AppState>,
    parts: axum::http::request::Parts,
    Form(form): Form<SignInForm>,
) -> Response {
    let return_to = safe_return_path(&form.return_to).to_owned();
    if !genuine(&parts, &form.csrf) {
        let errors = vec![FieldError {
            field: "username",
            message: "This sign-in page had expired or did not come from Custodian: sign in again"
                .to_owned(),
        }];
        return show(
            &state,
            StatusCode::FORBIDDEN,
            SignInPage::new(form.username, return_to, errors),
        );
    }
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
        return show(&state, StatusCode::UNPROCESSABLE_ENTITY, page);
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
            show(&state, StatusCode::UNAUTHORIZED, page)
        }
        Err(AppError::LockedOut(message)) => {
            let errors = vec![FieldError {
                field: "username",
                message: super::sentence(&message),
            }];
            let page = SignInPage::new(form.username, return_to, errors);
            show(&state, StatusCode::TOO_MANY_REQUESTS, page)
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
