//! Signing in with single sign-on: off to the OpenID provider, and back with a sign-in.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use custodian_app::sso::SsoReturn;
use custodian_app::{AppError, Secret};
use serde::Deserialize;

use super::{render, safe_return_path};
use crate::AppState;
use crate::extract::{cookie, session_cookie, sign_in_cookie};

/// The cookie naming the sign-in this browser began at the provider. `SameSite=Lax`, because
/// the browser comes back from the provider's site with a top-level `GET`, which a `Strict`
/// cookie would not accompany; it holds only a random value, and is good for one return.
const SSO_COOKIE: &str = "custodian_sso";

#[derive(Template)]
#[template(path = "sso_refused.html")]
struct RefusedPage {
    title: &'static str,
    signed_in_as: Option<super::signed_in::Who>,
    detail: String,
}

/// Sent after a successful return: the next page is asked for from this site itself, so the
/// browser sends the new `SameSite=Strict` sign-in cookie with it (a redirect straight from
/// the provider's navigation would not).
#[derive(Template)]
#[template(path = "sso_signed_in.html")]
struct SignedInPage {
    title: &'static str,
    signed_in_as: Option<super::signed_in::Who>,
    return_to: String,
}

fn sso_cookie(value: &str, max_age: i64) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!(
        "{SSO_COOKIE}={value}; Path=/sign-in/sso; HttpOnly; Secure; SameSite=Lax; Max-Age={max_age}"
    ))
    .ok()
}

fn refused(status: StatusCode, detail: String) -> Response {
    let page = RefusedPage {
        title: "Single sign-on did not sign you in",
        signed_in_as: None,
        detail: super::sentence(&detail),
    };
    render(status, &page)
}

#[derive(Deserialize)]
pub struct Start {
    #[serde(default)]
    return_to: String,
}

/// Sends the browser to the provider, remembering the sign-in it began.
pub async fn start(
    State(state): State<AppState>,
    request: HeaderMap,
    Query(query): Query<Start>,
) -> Response {
    let return_to = safe_return_path(&query.return_to);
    match state.custodian.begin_sso(return_to).await {
        Ok(started) => {
            let mut headers = HeaderMap::new();
            let lifetime = custodian_app::sso::SSO_LOGIN_LIFETIME.whole_seconds();
            if let Some(value) = sso_cookie(started.browser.expose(), lifetime) {
                headers.insert(header::SET_COOKIE, value);
            }
            (headers, Redirect::to(&started.authorize_url)).into_response()
        }
        Err(error @ AppError::NotFound { .. }) => super::error_page(error, None),
        Err(error) => failed(&request, error),
    }
}

#[derive(Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    iss: Option<String>,
}

/// Finishes the sign-in the provider sent the browser back from.
pub async fn callback(
    State(state): State<AppState>,
    parts: axum::http::request::Parts,
    Query(query): Query<Callback>,
) -> Response {
    let browser = cookie(&parts.headers, SSO_COOKIE).map(Secret::from);
    let back = SsoReturn {
        state: query.state,
        code: query.code,
        error: query.error,
        iss: query.iss,
    };
    let mut headers = HeaderMap::new();
    if let Some(cleared) = sso_cookie("", 0) {
        headers.append(header::SET_COOKIE, cleared);
    }
    match state.custodian.finish_sso(browser.as_ref(), back).await {
        Ok((signed_in, return_to)) => {
            // Whatever sign-in this browser carried before ends (session fixation, ASVS 3.2.1).
            if let Some(earlier) = session_cookie(&parts)
                && let Err(error) = state.custodian.sign_out(&Secret::from(earlier)).await
            {
                tracing::warn!(%error, "an earlier sign-in could not be ended");
            }
            if let Some(value) = sign_in_cookie(signed_in.secret.expose()) {
                headers.append(header::SET_COOKIE, value);
            }
            let page = SignedInPage {
                title: "Signed in",
                signed_in_as: None,
                return_to: safe_return_path(&return_to).to_owned(),
            };
            (headers, render(StatusCode::OK, &page)).into_response()
        }
        Err(error) => (headers, failed(&parts.headers, error)).into_response(),
    }
}

/// A refusal or a provider's failure as the status the error type gives it (403, 502…): a page
/// in plain English for a browser, a problem detail (RFC 9457) for anything else.
fn failed(request: &HeaderMap, error: AppError) -> Response {
    let problem = crate::ApiError::from(error);
    let browser = request
        .get(header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    if browser {
        refused(problem.status(), problem.detail().to_owned())
    } else {
        problem.into_response()
    }
}
