//! Extractors: who is calling, and request bodies and queries whose rejections are problem details.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use custodian_app::{Caller, Secret};
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::error::ApiError;

/// The name of the sign-in cookie.
pub const SESSION_COOKIE: &str = "custodian_session";

/// The member of staff making the request, from a bearer token or the sign-in cookie.
pub struct Staff(pub Caller);

impl FromRequestParts<AppState> for Staff {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = if let Some(token) = bearer_token(parts) {
            state
                .custodian
                .authenticate_token(&Secret::from(token))
                .await?
        } else if let Some(cookie) = session_cookie(parts) {
            // A script on a page of this site sends the token; a form on another site cannot.
            if !parts.method.is_safe() {
                let sent = parts
                    .headers
                    .get(FORM_TOKEN_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                if !form_token_matches(&cookie, sent) {
                    audit_forgery(
                        state,
                        (&parts.headers, &parts.extensions),
                        &cookie,
                        parts.uri.path(),
                    )
                    .await;
                    return Err(ApiError::bad_request(
                        "auth.form_token",
                        format!("send the page's `{FORM_TOKEN_HEADER}` header with requests made with the sign-in cookie, or use an API token"),
                    )
                    .with_status(axum::http::StatusCode::FORBIDDEN));
                }
            }
            state
                .custodian
                .authenticate_sign_in(&Secret::from(cookie))
                .await?
        } else {
            return Err(custodian_app::AppError::Unauthenticated(
                "sign in first, or send an API token as `Authorization: Bearer <token>`",
            )
            .into());
        };
        tracing::Span::current().record("staff", tracing::field::display(caller.member.id));
        Ok(Self(caller))
    }
}

fn bearer_token(parts: &Parts) -> Option<String> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

/// The header a script sends with a state-changing API request made with the sign-in cookie.
pub const FORM_TOKEN_HEADER: &str = "x-csrf-token";

/// The anti-forgery token of a sign-in: derived from its cookie, which another site can neither
/// read nor guess, so a form or request carrying it came from a page of this site (ASVS 4.2.2).
pub fn form_token(cookie: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    let digest = sha2::Sha256::new()
        .chain_update(b"custodian form token\0")
        .chain_update(cookie.as_bytes())
        .finalize();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
}

/// Whether `sent` is the form token of `cookie`, compared in constant time.
pub fn form_token_matches(cookie: &str, sent: &str) -> bool {
    let expected = form_token(cookie);
    expected.len() == sent.len()
        && expected
            .bytes()
            .zip(sent.bytes())
            .fold(0u8, |differ, (a, b)| differ | (a ^ b))
            == 0
}

/// The `Set-Cookie` header that signs a browser in: never readable by scripts, never sent to
/// other sites, only over HTTPS.
pub fn sign_in_cookie(secret: &str) -> Option<axum::http::HeaderValue> {
    axum::http::HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={secret}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age={}",
        custodian_app::accounts::SIGN_IN_LIFETIME.whole_seconds()
    ))
    .ok()
}

/// The `Set-Cookie` header that signs a browser out.
pub fn cleared_cookie() -> axum::http::HeaderValue {
    axum::http::HeaderValue::from_static(
        "custodian_session=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0",
    )
}

/// The value of the cookie `name` among `headers`, if the request carries it.
pub fn cookie(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .find_map(|pair| {
            let (found, value) = pair.trim().split_once('=')?;
            (found == name && !value.is_empty()).then(|| value.to_owned())
        })
}

/// The sign-in cookie's value, if the request carries one.
pub fn session_cookie(parts: &Parts) -> Option<String> {
    cookie(&parts.headers, SESSION_COOKIE)
}

/// Writes down a request sent with the sign-in `cookie` to `path` but without its anti-forgery
/// token: it was refused, and the attempt is evidence (S5) when the cookie is a live sign-in's.
/// Beyond a few a minute from one address nothing is even looked up, and cookies that are no
/// one's are only counted and logged, sampled, so a flood costs the register nothing.
pub async fn audit_forgery(
    state: &AppState,
    request: (&axum::http::HeaderMap, &axum::http::Extensions),
    cookie: &str,
    path: &str,
) {
    let (headers, extensions) = request;
    if state
        .forgery_limit
        .attempt_from(headers, extensions)
        .is_err()
    {
        return;
    }
    let secret = Secret::from(cookie.to_owned());
    match state.custodian.record_forged_request(&secret, path).await {
        Ok(true) => {}
        Ok(false) => tracing::debug!(
            path,
            "a forged request with no live sign-in's cookie was refused"
        ),
        Err(error) => tracing::error!(%error, path, "a refused request could not be audited"),
    }
}

/// A JSON body; malformed JSON becomes a problem detail naming what is wrong.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::bad_request(
                "input.not_json",
                "send the body as JSON with `Content-Type: application/json`",
            )),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ApiError::bad_request(
                    "input.too_large",
                    format!(
                        "the body is larger than the {} KiB a JSON request may be; media goes by upload (`/api/v1/uploads`)",
                        crate::MAX_BODY_BYTES / 1024
                    ),
                )
                .with_status(StatusCode::PAYLOAD_TOO_LARGE))
            }
            Err(rejection) => Err(ApiError::bad_request(
                "input.malformed",
                rejection.body_text(),
            )),
        }
    }
}

/// A query string; a malformed one becomes a problem detail.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| Self(value))
            .map_err(|rejection: QueryRejection| {
                ApiError::bad_request("input.malformed_query", rejection.body_text())
            })
    }
}

/// Path parameters; an id that is not a UUID becomes a problem detail.
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| Self(value))
            .map_err(|rejection: PathRejection| {
                ApiError::bad_request(
                    "input.bad_id",
                    format!("{}; ids are UUIDs", rejection.body_text()),
                )
            })
    }
}
