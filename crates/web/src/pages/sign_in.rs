//! Signing in and out in the browser.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use custodian_app::{AppError, Secret, SignInStep};
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

/// The refusal page for a browser that has tried to sign in too often (ASVS 2.2.1): 429 with
/// `Retry-After`, in words that say how long to wait.
pub fn too_many_attempts(seconds: u64) -> Response {
    let page = TooManyAttempts {
        title: "Too many attempts to sign in",
        signed_in_as: None,
        detail: format!(
            "Too many attempts to sign in have come from your network in the last minute. Wait {}, then sign in again.",
            crate::limit::wait_words(seconds)
        ),
    };
    let mut response = render(StatusCode::TOO_MANY_REQUESTS, &page);
    if let Ok(value) = axum::http::HeaderValue::from_str(&seconds.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

#[derive(Template)]
#[template(path = "error.html")]
struct TooManyAttempts {
    title: &'static str,
    signed_in_as: Option<super::signed_in::Who>,
    detail: String,
}

/// The cookie of a half sign-in: sent back only to `/sign-in`, so it opens no other page.
pub const PENDING_COOKIE: &str = "custodian_pending_sign_in";

/// Where a right password leads: signed in, or on to the code step with a half sign-in's cookie.
/// Whatever sign-in this browser carried before ends once the sign-in is complete.
pub(super) async fn after_password(
    state: &AppState,
    parts: &axum::http::request::Parts,
    step: SignInStep,
    return_to: &str,
) -> Response {
    match step {
        SignInStep::Complete(signed_in) => {
            signed_in_response(state, parts, signed_in.secret.expose(), return_to).await
        }
        SignInStep::CodeNeeded(pending) => {
            let mut headers = HeaderMap::new();
            if let Ok(cookie) = axum::http::HeaderValue::from_str(&format!(
                "{PENDING_COOKIE}={}; Path=/sign-in; HttpOnly; Secure; SameSite=Strict; Max-Age={}",
                pending.secret.expose(),
                custodian_app::accounts::PENDING_SIGN_IN_LIFETIME.whole_seconds()
            )) {
                headers.insert(header::SET_COOKIE, cookie);
            }
            let query = serde_urlencoded::to_string([("return_to", return_to)]).unwrap_or_default();
            (headers, Redirect::to(&format!("/sign-in/code?{query}"))).into_response()
        }
    }
}

/// Signs the browser in with `secret`, ending the sign-in it carried before (session fixation,
/// ASVS 3.2.1) and any half sign-in's cookie.
async fn signed_in_response(
    state: &AppState,
    parts: &axum::http::request::Parts,
    secret: &str,
    return_to: &str,
) -> Response {
    if let Some(earlier) = session_cookie(parts)
        && let Err(error) = state.custodian.sign_out(&Secret::from(earlier)).await
    {
        tracing::warn!(%error, "an earlier sign-in could not be ended");
    }
    let mut headers = HeaderMap::new();
    if let Some(cookie) = sign_in_cookie(secret) {
        headers.append(header::SET_COOKIE, cookie);
    }
    headers.append(
        header::SET_COOKIE,
        axum::http::HeaderValue::from_static(
            "custodian_pending_sign_in=; Path=/sign-in; HttpOnly; Secure; SameSite=Strict; Max-Age=0",
        ),
    );
    (headers, Redirect::to(return_to)).into_response()
}

// Signing in needs no token: there is no sign-in yet to forge a request with.
pub async fn submit(
    State(state): State<AppState>,
    parts: axum::http::request::Parts,
    Form(form): Form<SignInForm>,
) -> Response {
    if let Err(seconds) = state.sign_in_limit.attempt(&parts) {
        return too_many_attempts(seconds);
    }
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
        // Whatever sign-in this browser carried before ends: a cookie planted in it by
        // someone else is worth nothing afterwards (session fixation, ASVS 3.2.1).
        Ok(step) => after_password(&state, &parts, step, &return_to).await,
        Err(AppError::Unauthenticated(_)) => {
            // The same words whichever part was wrong, so usernames cannot be discovered.
            let errors = vec![FieldError {
                field: "username",
                message: "Enter a correct username and password".to_owned(),
            }];
            let page = SignInPage::new(form.username, return_to, errors);
            show(&state, StatusCode::UNAUTHORIZED, page)
        }
        Err(AppError::LockedOut { message, .. }) => {
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

#[derive(Template)]
#[template(path = "sign_in_code.html")]
struct CodePage {
    title: &'static str,
    signed_in_as: Option<super::signed_in::Who>,
    errors: Vec<FieldError>,
    return_to: String,
    /// The anti-forgery token of the half sign-in's cookie.
    csrf: String,
    /// Whether the half sign-in has ended, so only signing in again helps.
    ended: bool,
}

form_errors!(CodePage);

impl CodePage {
    fn new(pending: &str, return_to: String, errors: Vec<FieldError>, ended: bool) -> Self {
        Self {
            title: "Enter the code from your authenticator app",
            signed_in_as: None,
            errors,
            return_to,
            csrf: form_token(pending),
            ended,
        }
    }
}

/// The code step of signing in: only for a browser holding a half sign-in that has not ended.
pub async fn code_form(
    State(state): State<AppState>,
    parts: axum::http::request::Parts,
    Query(query): Query<ReturnTo>,
) -> Response {
    let return_to = safe_return_path(&query.return_to).to_owned();
    let pending = cookie(&parts.headers, PENDING_COOKIE);
    let open = match &pending {
        Some(pending) => state
            .custodian
            .pending_sign_in_open(&Secret::from(pending.clone()))
            .await
            .unwrap_or(false),
        None => false,
    };
    match pending {
        Some(pending) if open => render(
            StatusCode::OK,
            &CodePage::new(&pending, return_to, Vec::new(), false),
        ),
        _ => {
            let query = serde_urlencoded::to_string([("return_to", return_to.as_str())])
                .unwrap_or_default();
            Redirect::to(&format!("/sign-in?{query}")).into_response()
        }
    }
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    return_to: String,
    #[serde(default)]
    csrf: String,
}

/// Completes signing in with the authenticator app's code.
pub async fn code_submit(
    State(state): State<AppState>,
    parts: axum::http::request::Parts,
    Form(form): Form<CodeForm>,
) -> Response {
    if let Err(seconds) = state.sign_in_limit.attempt(&parts) {
        return too_many_attempts(seconds);
    }
    let return_to = safe_return_path(&form.return_to).to_owned();
    let Some(pending) = cookie(&parts.headers, PENDING_COOKIE)
        .filter(|pending| form_token_matches(pending, &form.csrf))
    else {
        let query =
            serde_urlencoded::to_string([("return_to", return_to.as_str())]).unwrap_or_default();
        return Redirect::to(&format!("/sign-in?{query}")).into_response();
    };
    if form.code.trim().is_empty() {
        let errors = vec![FieldError::new(
            "code",
            "Enter the 6-digit code your authenticator app shows",
        )];
        let page = CodePage::new(&pending, return_to, errors, false);
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    let secret = Secret::from(pending.clone());
    match state.custodian.complete_sign_in(&secret, &form.code).await {
        Ok(signed_in) => {
            signed_in_response(&state, &parts, signed_in.secret.expose(), &return_to).await
        }
        Err(AppError::Unauthenticated(message)) => {
            let ended = !state
                .custodian
                .pending_sign_in_open(&secret)
                .await
                .unwrap_or(false);
            let errors = vec![FieldError::new("code", super::sentence(message))];
            let page = CodePage::new(&pending, return_to, errors, ended);
            render(StatusCode::UNAUTHORIZED, &page)
        }
        Err(AppError::LockedOut { message, .. }) => {
            let errors = vec![FieldError::new("code", super::sentence(&message))];
            let page = CodePage::new(&pending, return_to, errors, true);
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
    if let Err(error) = state.custodian.sign_out_everywhere(&staff.caller).await {
        return super::error_page(error, Some(staff.who()));
    }
    let mut headers = HeaderMap::new();
    headers.insert(header::SET_COOKIE, cleared_cookie());
    (headers, Redirect::to("/sign-in")).into_response()
}
