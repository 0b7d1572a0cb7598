//! The member of staff behind a page: signed in by cookie, or sent to sign in and back again.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use custodian_app::{Caller, Secret};

use super::outcome::SignedInSlot;
use crate::AppState;
use crate::extract::{form_token, session_cookie};

/// A signed-in member of staff. Without a valid sign-in (none, expired or ended) the browser is
/// sent to sign in, and returned to this page afterwards.
pub struct SignedIn {
    pub caller: Caller,
    /// The sign-in's anti-forgery token, which its forms carry (ASVS 4.2.2).
    form_token: String,
}

/// Who a page is for: the name in its header, and the token its forms carry.
#[derive(Clone, Debug)]
pub struct Who {
    pub name: String,
    /// The sign-in's anti-forgery token, sent back with every form (ASVS 4.2.2).
    pub csrf: String,
}

impl SignedIn {
    /// The member of staff as the page header and its forms show them.
    pub fn who(&self) -> Who {
        Who {
            name: self.caller.member.display_name.to_string(),
            csrf: self.form_token.clone(),
        }
    }
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let here = parts
            .uri
            .path_and_query()
            .map_or("/", |path| path.as_str())
            .to_owned();
        // Sends the browser to `page`, which brings it back here when done.
        let via = |page: &str| {
            let query =
                serde_urlencoded::to_string([("return_to", here.as_str())]).unwrap_or_default();
            Redirect::to(&format!("{page}?{query}")).into_response()
        };
        let Some(cookie) = session_cookie(parts) else {
            return Err(via("/sign-in"));
        };
        match state
            .custodian
            .authenticate_sign_in(&Secret::from(cookie.clone()))
            .await
        {
            // A one-time password must be replaced before anything else is done.
            Ok(caller) if caller.must_change_password && parts.uri.path() != "/password" => {
                Err(via("/password"))
            }
            // So must an authenticator app where one is required (ASVS 2.7).
            Ok(caller)
                if caller.must_enrol_totp
                    && !caller.must_change_password
                    && !matches!(
                        parts.uri.path(),
                        "/totp" | "/totp/start" | "/sign-out-everywhere"
                    ) =>
            {
                Err(via("/totp"))
            }
            Ok(caller) => {
                tracing::Span::current().record("staff", tracing::field::display(caller.member.id));
                let signed_in = Self {
                    caller,
                    form_token: form_token(&cookie),
                };
                if let Some(slot) = parts.extensions.get::<SignedInSlot>() {
                    slot.fill(signed_in.who());
                }
                Ok(signed_in)
            }
            Err(custodian_app::AppError::Unauthenticated(_)) => Err(via("/sign-in")),
            Err(error) => Err(crate::ApiError::from(error).into_response()),
        }
    }
}
