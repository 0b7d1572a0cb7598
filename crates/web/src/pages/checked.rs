//! Forms that change something: accepted only with the sign-in's anti-forgery token (ASVS 4.2.2).

use axum::body::Body;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use super::render;
use crate::AppState;
use crate::extract::{audit_forgery, form_token_matches, session_cookie};

/// The largest form accepted: forms carry words, never files (uploads stream elsewhere).
const MAX_FORM_BYTES: usize = 256 * 1024;

/// A form's fields, read only if the form carries the token of the sign-in sending it: a form on
/// another site, sent by a signed-in browser, is refused.
pub struct Checked<T>(pub T);

/// A form with nothing but its token.
#[derive(serde::Deserialize)]
pub struct NoFields {}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for Checked<T> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let (parts, body) = request.into_parts();
        let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
            .await
            .map_err(|_| {
                refused(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "This form is too long to send.",
                )
            })?;
        let fields: Vec<(String, String)> =
            serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
        let sent = fields
            .iter()
            .find(|(name, _)| name == "csrf")
            .map_or("", |(_, value)| value.as_str());
        let cookie = session_cookie(&parts);
        let genuine = cookie
            .as_deref()
            .is_some_and(|cookie| form_token_matches(cookie, sent));
        if !genuine {
            tracing::warn!(path = %parts.uri.path(), "a form without its sign-in's token was refused");
            if let Some(cookie) = cookie {
                audit_forgery(
                    state,
                    (&parts.headers, &parts.extensions),
                    &cookie,
                    parts.uri.path(),
                )
                .await;
            }
            return Err(refused(
                StatusCode::FORBIDDEN,
                "This form did not come from a Custodian page you have open, or your sign-in has \
                 changed since it was shown. Go back, reload the page and send it again.",
            ));
        }
        let request = Request::from_parts(parts, Body::from(bytes));
        axum_extra::extract::Form::<T>::from_request(request, state)
            .await
            .map(|axum_extra::extract::Form(value)| Self(value))
            .map_err(|rejection| {
                refused(
                    StatusCode::BAD_REQUEST,
                    &format!("This form could not be read: {rejection}"),
                )
            })
    }
}

#[derive(askama::Template)]
#[template(path = "error.html")]
struct RefusedPage {
    title: &'static str,
    signed_in_as: Option<super::signed_in::Who>,
    detail: String,
}

fn refused(status: StatusCode, detail: &str) -> Response {
    let page = RefusedPage {
        title: "This form could not be accepted",
        signed_in_as: None,
        detail: detail.to_owned(),
    };
    render(status, &page).into_response()
}
