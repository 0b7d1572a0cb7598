//! Setting up an authenticator app, which administrators must do before anything else.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use custodian_app::AppError;
use serde::Deserialize;

use super::signed_in::SignedIn;
use super::{FieldError, FormErrors, form_errors, render, safe_return_path};
use crate::AppState;
use crate::pages::PageResult;
use crate::pages::checked::Checked;

#[derive(Template)]
#[template(path = "totp.html")]
struct TotpPage {
    title: &'static str,
    signed_in_as: Option<super::signed_in::Who>,
    errors: Vec<FieldError>,
    return_to: String,
    required: bool,
    /// When the app was set up, in words; none if it is not.
    enrolled_on: Option<String>,
    /// The secret being set up: grouped Base32 and a QR code (inline SVG) of its address.
    setting_up: Option<(String, String)>,
}

form_errors!(TotpPage);

#[derive(Deserialize)]
pub struct ReturnTo {
    #[serde(default)]
    return_to: String,
}

async fn page(
    state: &AppState,
    staff: &SignedIn,
    return_to: String,
    errors: Vec<FieldError>,
) -> Result<TotpPage, AppError> {
    let status = state.custodian.totp_status(&staff.caller).await?;
    let setting_up = match status.enrolled_at {
        Some(_) => None,
        None => state
            .custodian
            .pending_totp_enrolment(&staff.caller)
            .await?
            .map(|enrolment| {
                (
                    enrolment.secret.base32_grouped(),
                    qr_svg(&enrolment.otpauth_url).unwrap_or_default(),
                )
            }),
    };
    Ok(TotpPage {
        title: "Authenticator app",
        signed_in_as: Some(staff.who()),
        errors,
        return_to,
        required: status.required,
        enrolled_on: status
            .enrolled_at
            .map(|at| super::long_date(custodian_app::london::in_london(at).date())),
        setting_up,
    })
}

pub async fn show(
    State(state): State<AppState>,
    staff: SignedIn,
    Query(query): Query<ReturnTo>,
) -> PageResult {
    let return_to = safe_return_path(&query.return_to).to_owned();
    let page = page(&state, &staff, return_to, Vec::new()).await?;
    Ok(render(StatusCode::OK, &page))
}

#[derive(Deserialize)]
pub struct StartForm {
    #[serde(default)]
    return_to: String,
}

/// Makes a new secret for the caller's app and shows it.
pub async fn start(
    State(state): State<AppState>,
    staff: SignedIn,
    Checked(form): Checked<StartForm>,
) -> PageResult {
    state.custodian.start_totp_enrolment(&staff.caller).await?;
    let return_to = safe_return_path(&form.return_to);
    let query = serde_urlencoded::to_string([("return_to", return_to)]).unwrap_or_default();
    Ok(Redirect::to(&format!("/totp?{query}")).into_response())
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    return_to: String,
}

/// Confirms the app with a code it shows, then carries on where the caller was going.
pub async fn confirm(
    State(state): State<AppState>,
    staff: SignedIn,
    Checked(form): Checked<ConfirmForm>,
) -> PageResult {
    let return_to = safe_return_path(&form.return_to).to_owned();
    let errors = if form.code.trim().is_empty() {
        vec![FieldError::new(
            "code",
            "Enter the 6-digit code your authenticator app shows",
        )]
    } else {
        match state
            .custodian
            .confirm_totp_enrolment(&staff.caller, &form.code)
            .await
        {
            Ok(_) => return Ok(Redirect::to(&return_to).into_response()),
            Err(AppError::WrongCode(message)) => {
                vec![FieldError::new("code", super::sentence(&message))]
            }
            Err(error) => return Err(error.into()),
        }
    };
    let page = page(&state, &staff, return_to, errors).await?;
    Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page))
}

/// A QR code of `text` as inline SVG: one path of dark modules, with the quiet zone the standard
/// asks for. Made here from the address alone, so it holds nothing a page could be made to run.
pub fn qr_svg(text: &str) -> Option<String> {
    use qrcodegen::{QrCode, QrCodeEcc};
    let code = QrCode::encode_text(text, QrCodeEcc::Medium).ok()?;
    let border = 4;
    let size = code.size();
    let mut path = String::new();
    for y in 0..size {
        for x in 0..size {
            if code.get_module(x, y) {
                path.push_str(&format!("M{},{}h1v1h-1z", x + border, y + border));
            }
        }
    }
    let full = size + 2 * border;
    Some(format!(
        "<svg class=\"qr\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {full} {full}\" role=\"img\" aria-label=\"QR code to scan with your authenticator app\" shape-rendering=\"crispEdges\"><rect width=\"{full}\" height=\"{full}\" fill=\"#ffffff\"/><path d=\"{path}\" fill=\"#000000\"/></svg>"
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    #[test]
    fn the_qr_code_is_plain_svg_of_squares() {
        let svg = super::qr_svg("otpauth://totp/Custodian:admin?secret=GEZDGNBV&issuer=Custodian")
            .unwrap();
        assert!(svg.starts_with("<svg class=\"qr\""));
        assert!(
            svg.contains("M4,4h1v1h-1z"),
            "the finder pattern's corner is dark"
        );
        assert!(
            !svg.contains("otpauth"),
            "the address is drawn, not written"
        );
    }
}
