//! Signing in and out, passwords, API tokens and staff accounts.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use custodian_app::Secret;
use custodian_core::staff::{Role, StaffMember, Username};
use custodian_core::text::{ServiceCode, ShortText};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::error::{ApiResult, Problem};
use crate::extract::{Body, Path, Staff, cleared_cookie, session_cookie, sign_in_cookie};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(sign_in))
        .routes(routes!(sign_out))
        .routes(routes!(me))
        .routes(routes!(change_password))
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
        .routes(routes!(list_staff, create_staff))
        .routes(routes!(totp_status))
        .routes(routes!(start_totp_enrolment))
        .routes(routes!(confirm_totp_enrolment))
        .routes(routes!(reset_totp))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInRequest {
    username: String,
    password: String,
    /// The 6-digit code the account's authenticator app shows, if it has one set up.
    #[serde(default)]
    code: Option<String>,
}

/// Who is signed in.
#[derive(Serialize, ToSchema)]
pub struct SignedInView {
    staff: StaffMember,
    /// While true, the account holds a one-time password and may only choose a new one.
    must_change_password: bool,
    /// While true, the account must set up an authenticator app (`/auth/totp/enrol`) before anything else.
    must_enrol_totp: bool,
    #[serde(
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    expires_at: Option<OffsetDateTime>,
}

/// Sign in with a username and password, and the authenticator app's code if the account has
/// one (`auth.code_required` says it is missing); sets the sign-in cookie.
#[utoipa::path(post, path = "/auth/sign-in", tag = "accounts", security(()), request_body = SignInRequest,
    responses((status = OK, body = SignedInView), (status = UNAUTHORIZED, body = Problem),
        (status = TOO_MANY_REQUESTS, body = Problem, description = "Locked for 15 minutes after 5 wrong passwords or codes, or too many attempts from one address in a minute (with `Retry-After`)")))]
async fn sign_in(
    State(state): State<AppState>,
    parts: axum::http::request::Parts,
    Body(request): Body<SignInRequest>,
) -> ApiResult<impl IntoResponse> {
    state
        .sign_in_limit
        .attempt(&parts)
        .map_err(crate::ApiError::too_many_attempts)?;
    let signed_in = state
        .custodian
        .sign_in_at_once(
            &request.username,
            &request.password,
            request.code.as_deref(),
        )
        .await?;
    // The sign-in this client carried before ends with this one (session fixation).
    if let Some(earlier) = crate::extract::session_cookie(&parts) {
        state
            .custodian
            .sign_out(&custodian_app::Secret::from(earlier))
            .await?;
    }
    let mut headers = HeaderMap::new();
    if let Some(value) = sign_in_cookie(signed_in.secret.expose()) {
        headers.insert(header::SET_COOKIE, value);
    }
    Ok((
        headers,
        axum::Json(SignedInView {
            must_change_password: signed_in.caller.must_change_password,
            must_enrol_totp: signed_in.caller.must_enrol_totp,
            staff: signed_in.caller.member,
            expires_at: Some(signed_in.expires_at),
        }),
    ))
}

/// End this sign-in; clears the cookie.
#[utoipa::path(post, path = "/auth/sign-out", tag = "accounts", security(()),
    responses((status = NO_CONTENT, description = "Signed out")))]
async fn sign_out(
    State(state): State<AppState>,
    request: axum::extract::Request,
) -> ApiResult<impl IntoResponse> {
    let (parts, _) = request.into_parts();
    if let Some(cookie) = session_cookie(&parts) {
        state.custodian.sign_out(&Secret::from(cookie)).await?;
    }
    let mut headers = HeaderMap::new();
    headers.insert(header::SET_COOKIE, cleared_cookie());
    Ok((StatusCode::NO_CONTENT, headers))
}

/// The signed-in member of staff.
#[utoipa::path(get, path = "/auth/me", tag = "accounts",
    responses((status = OK, body = SignedInView), (status = UNAUTHORIZED, body = Problem)))]
async fn me(Staff(caller): Staff) -> axum::Json<SignedInView> {
    axum::Json(SignedInView {
        must_change_password: caller.must_change_password,
        must_enrol_totp: caller.must_enrol_totp,
        staff: caller.member,
        expires_at: None,
    })
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    current_password: String,
    new_password: String,
}

/// Choose a new password (required after signing in with a one-time password). Ends every sign-in.
#[utoipa::path(post, path = "/auth/password", tag = "accounts", request_body = PasswordChange,
    responses((status = NO_CONTENT, description = "Changed; sign in again"), (status = FORBIDDEN, body = Problem),
        (status = UNPROCESSABLE_ENTITY, body = Problem)))]
async fn change_password(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Body(change): Body<PasswordChange>,
) -> ApiResult<StatusCode> {
    state
        .custodian
        .change_password(&caller, &change.current_password, &change.new_password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An API token, without its secret.
#[derive(Serialize, ToSchema)]
pub struct TokenView {
    id: Uuid,
    name: String,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    expires_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    last_used_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    revoked_at: Option<OffsetDateTime>,
}

impl From<custodian_store::ApiToken> for TokenView {
    fn from(token: custodian_store::ApiToken) -> Self {
        Self {
            id: token.id,
            name: token.name.as_str().to_owned(),
            created_at: token.created_at,
            expires_at: token.expires_at,
            last_used_at: token.last_used_at,
            revoked_at: token.revoked_at,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// What the token is for, such as "reporting script".
    name: String,
    /// Days until it expires; none means it lasts until revoked.
    expires_in_days: Option<u32>,
}

/// A new token with its secret, shown this once.
#[derive(Serialize, ToSchema)]
pub struct CreatedToken {
    token: TokenView,
    /// Send as `Authorization: Bearer <secret>`. It is not stored and cannot be shown again.
    secret: String,
}

/// Your API tokens.
#[utoipa::path(get, path = "/tokens", tag = "accounts", responses((status = OK, body = Vec<TokenView>)))]
async fn list_tokens(
    State(state): State<AppState>,
    Staff(caller): Staff,
) -> ApiResult<axum::Json<Vec<TokenView>>> {
    let tokens = state.custodian.tokens(&caller).await?;
    Ok(axum::Json(
        tokens.into_iter().map(TokenView::from).collect(),
    ))
}

/// Create an API token for yourself.
#[utoipa::path(post, path = "/tokens", tag = "accounts", request_body = NewToken,
    responses((status = CREATED, body = CreatedToken), (status = UNPROCESSABLE_ENTITY, body = Problem)))]
async fn create_token(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Body(request): Body<NewToken>,
) -> ApiResult<(StatusCode, axum::Json<CreatedToken>)> {
    let name = ShortText::parse("name", &request.name)?;
    let lifetime = request
        .expires_in_days
        .map(|days| time::Duration::days(i64::from(days.clamp(1, 3660))));
    let (token, secret) = state
        .custodian
        .create_token(&caller, name, lifetime)
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(CreatedToken {
            token: token.into(),
            secret: secret.expose().to_owned(),
        }),
    ))
}

/// Revoke one of your API tokens.
#[utoipa::path(delete, path = "/tokens/{id}", tag = "accounts", params(("id" = Uuid, Path)),
    responses((status = NO_CONTENT, description = "Revoked"), (status = NOT_FOUND, body = Problem)))]
async fn revoke_token(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    state.custodian.revoke_token(&caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Staff accounts.
#[utoipa::path(get, path = "/staff", tag = "accounts", responses((status = OK, body = Vec<StaffMember>)))]
async fn list_staff(
    State(state): State<AppState>,
    Staff(caller): Staff,
) -> ApiResult<axum::Json<Vec<StaffMember>>> {
    Ok(axum::Json(state.custodian.staff_members(&caller).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewStaff {
    username: String,
    display_name: String,
    /// Role codes: `practitioner`, `team_manager`, `records_manager`,
    /// `information_governance_lead`, `communications`, `auditor`, `administrator`.
    #[schema(value_type = Vec<String>, example = json!(["practitioner"]))]
    roles: Vec<Role>,
    /// The service codes they work in; a practitioner or team manager needs at least one.
    #[serde(default)]
    #[schema(value_type = Vec<String>, example = json!(["CAMHS-NORTH"]))]
    services: Vec<String>,
}

/// Parses service codes, naming the first that is not one.
pub(crate) fn service_codes(
    codes: &[String],
) -> Result<Vec<ServiceCode>, custodian_core::DomainError> {
    codes.iter().map(|code| ServiceCode::parse(code)).collect()
}

/// A new account with its one-time password, shown this once.
#[derive(Serialize, ToSchema)]
pub struct CreatedStaff {
    staff: StaffMember,
    /// Give this to the colleague; they must choose their own password when they first sign in.
    one_time_password: String,
}

/// Create an account for a colleague (administrators only).
#[utoipa::path(post, path = "/staff", tag = "accounts", request_body = NewStaff,
    responses((status = CREATED, body = CreatedStaff), (status = FORBIDDEN, body = Problem), (status = CONFLICT, body = Problem)))]
async fn create_staff(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Body(request): Body<NewStaff>,
) -> ApiResult<(StatusCode, axum::Json<CreatedStaff>)> {
    let new = custodian_app::staff::NewStaff {
        username: Username::parse(&request.username)?,
        display_name: ShortText::parse("display_name", &request.display_name)?,
        roles: request.roles,
        services: service_codes(&request.services)?,
    };
    let (staff, password) = state.custodian.create_staff(&caller, new).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(CreatedStaff {
            staff,
            one_time_password: password.expose().to_owned(),
        }),
    ))
}

/// Whether your account has an authenticator app for signing in, and whether it must.
#[derive(Serialize, ToSchema)]
pub struct TotpStatusView {
    enrolled: bool,
    #[serde(with = "time::serde::rfc3339::option")]
    enrolled_at: Option<OffsetDateTime>,
    /// Whether this account must have one (administrators must).
    required: bool,
}

impl From<custodian_app::accounts::TotpStatus> for TotpStatusView {
    fn from(status: custodian_app::accounts::TotpStatus) -> Self {
        Self {
            enrolled: status.enrolled_at.is_some(),
            enrolled_at: status.enrolled_at,
            required: status.required,
        }
    }
}

/// Your authenticator app: set up or not, and required or not.
#[utoipa::path(get, path = "/auth/totp", tag = "accounts", responses((status = OK, body = TotpStatusView)))]
async fn totp_status(
    State(state): State<AppState>,
    Staff(caller): Staff,
) -> ApiResult<axum::Json<TotpStatusView>> {
    Ok(axum::Json(
        state.custodian.totp_status(&caller).await?.into(),
    ))
}

/// A new authenticator secret, shown this once: give it to the app, then confirm with a code.
#[derive(Serialize, ToSchema)]
pub struct TotpEnrolmentView {
    /// The secret in Base32, to type into an authenticator app.
    secret: String,
    /// The same as an `otpauth://` address, for a QR code.
    otpauth_url: String,
}

/// Start setting up an authenticator app (time-based codes, RFC 6238). Replaces a secret not yet confirmed.
#[utoipa::path(post, path = "/auth/totp/enrol", tag = "accounts",
    responses((status = CREATED, body = TotpEnrolmentView), (status = CONFLICT, body = Problem, description = "Already set up")))]
async fn start_totp_enrolment(
    State(state): State<AppState>,
    Staff(caller): Staff,
) -> ApiResult<(StatusCode, axum::Json<TotpEnrolmentView>)> {
    let enrolment = state.custodian.start_totp_enrolment(&caller).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(TotpEnrolmentView {
            secret: enrolment.secret.base32(),
            otpauth_url: enrolment.otpauth_url,
        }),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpCode {
    /// The 6-digit code the authenticator app shows now.
    code: String,
}

/// Confirm the authenticator app with a code it shows; from then on every sign-in asks for one.
#[utoipa::path(post, path = "/auth/totp/confirm", tag = "accounts", request_body = TotpCode,
    responses((status = OK, body = TotpStatusView), (status = UNPROCESSABLE_ENTITY, body = Problem, description = "The code is not right"),
        (status = CONFLICT, body = Problem, description = "Not started, or already set up")))]
async fn confirm_totp_enrolment(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Body(request): Body<TotpCode>,
) -> ApiResult<axum::Json<TotpStatusView>> {
    state
        .custodian
        .confirm_totp_enrolment(&caller, &request.code)
        .await?;
    Ok(axum::Json(
        state.custodian.totp_status(&caller).await?.into(),
    ))
}

/// Remove a member of staff's authenticator app, when it is lost (administrators only); they set up a new one.
#[utoipa::path(delete, path = "/staff/{id}/totp", tag = "accounts", params(("id" = Uuid, Path)),
    responses((status = NO_CONTENT, description = "Removed"), (status = NOT_FOUND, body = Problem)))]
async fn reset_totp(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    state
        .custodian
        .reset_totp(&caller, custodian_core::ids::StaffId::from_uuid(id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
