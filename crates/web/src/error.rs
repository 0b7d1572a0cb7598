//! Every error becomes an RFC 9457 problem detail, here and nowhere else.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use custodian_app::uses::{AccessRefusal, UseRefused};
use custodian_app::{AppError, RefusalKind};
use custodian_core::DomainError;
use custodian_core::decision::Explanation;
use custodian_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

/// A problem detail (RFC 9457) with Custodian's stable code and, for a rule, the requirement it enforces.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem: `urn:custodian:problem:` and the code.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    /// What went wrong and, where it helps, what to do instead.
    pub detail: String,
    /// The stable code, such as `withdrawal.before_consent`.
    pub code: String,
    /// The requirement the refusal enforces, such as `C8`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requirement: Option<String>,
    /// The input field at fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// For a refused use of a recording: why access refused it (S2, S3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access: Option<AccessRefusal>,
    /// For a refused use of a recording: the consent decision's reasons (X1), each with its
    /// rule and what would make the use allowed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasons: Option<Vec<Explanation>>,
}

/// An error on its way to becoming a problem response.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: String,
    detail: String,
    requirement: Option<String>,
    field: Option<String>,
    /// A header the status needs, such as `Content-Range` with 416.
    header: Option<Box<(axum::http::HeaderName, String)>>,
    /// A refused use's reasons.
    refusal: Option<Box<UseRefused>>,
}

impl ApiError {
    /// A problem of the caller's making that is not a domain rule (malformed JSON, bad ids).
    pub fn bad_request(code: &str, detail: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: code.to_owned(),
            detail: detail.into(),
            requirement: None,
            field: None,
            header: None,
            refusal: None,
        }
    }

    /// Too many sign-in attempts from one address (ASVS 2.2.1): 429, with `Retry-After`.
    pub fn too_many_attempts(retry_after_seconds: u64) -> Self {
        Self {
            status: StatusCode::TOO_MANY_REQUESTS,
            code: "auth.too_many_attempts".to_owned(),
            detail: format!(
                "too many sign-in attempts have come from your address in the last minute; wait {} and try again",
                crate::limit::wait_words(retry_after_seconds)
            ),
            requirement: None,
            field: None,
            header: Some(Box::new((
                header::RETRY_AFTER,
                retry_after_seconds.to_string(),
            ))),
            refusal: None,
        }
    }

    /// The same problem with another status.
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// The status this problem carries.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// What went wrong, in words fit to show the user (server errors say only that they happened).
    pub fn detail(&self) -> &str {
        &self.detail
    }

    fn with_field(mut self, field: Option<&str>) -> Self {
        self.field = field.map(str::to_owned);
        self
    }

    /// A required input left out: 400, naming the field and what to send.
    pub fn missing(field: &str, code: &str, detail: impl Into<String>) -> Self {
        Self::bad_request(code, detail).with_field(Some(field))
    }
}

impl From<DomainError> for ApiError {
    fn from(error: DomainError) -> Self {
        Self {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: error.code().to_owned(),
            detail: error.to_string(),
            requirement: error.requirement().map(|r| r.to_string()),
            field: error.field().map(str::to_owned),
            header: None,
            refusal: None,
        }
    }
}

/// Vault outcomes a client can act on, with their statuses; the rest are server failures.
fn vault_status(error: &custodian_vault::VaultError) -> Option<(StatusCode, Option<&'static str>)> {
    use custodian_vault::VaultError as V;
    Some(match error {
        V::Empty => (StatusCode::UNPROCESSABLE_ENTITY, None),
        V::LongerThanDeclared { .. } | V::ShorterThanDeclared { .. } => {
            (StatusCode::BAD_REQUEST, None)
        }
        V::NotMedia { .. } => (StatusCode::UNSUPPORTED_MEDIA_TYPE, Some("S1")),
        V::BadCertificate { .. } => (StatusCode::UNPROCESSABLE_ENTITY, Some("D9")),
        // Not the client's fault, but they must be told plainly that nothing was served (R6).
        V::Corrupt { .. } | V::Missing { .. } => (StatusCode::INTERNAL_SERVER_ERROR, Some("R6")),
        _ => return None,
    })
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        let code = error.code();
        if let AppError::Vault(vault) = &error
            && let Some((status, requirement)) = vault_status(vault)
        {
            let detail = if status.is_server_error() {
                tracing::error!(%vault, "stored media failed its check; nothing was served");
                format!(
                    "{vault}; nothing was served, and the failure is recorded in the audit trail"
                )
            } else {
                vault.to_string()
            };
            return Self {
                status,
                code,
                detail,
                requirement: requirement.map(str::to_owned),
                field: None,
                header: None,
                refusal: None,
            };
        }
        let status = match &error {
            AppError::Invalid(domain) => return Self::from(domain.clone()),
            AppError::NotFound { .. } => StatusCode::NOT_FOUND,
            AppError::Rule { code, .. } => rule_status(code.kind()),
            AppError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            AppError::LockedOut { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::CodeRequired(_) => StatusCode::UNAUTHORIZED,
            AppError::WrongCode(_) => {
                return Self {
                    status: StatusCode::UNPROCESSABLE_ENTITY,
                    code,
                    detail: error.to_string(),
                    requirement: None,
                    field: None,
                    header: None,
                    refusal: None,
                }
                .with_field(Some("code"));
            }
            AppError::SignInRefused { .. } => StatusCode::FORBIDDEN,
            AppError::UseRefused(refused) => {
                return Self {
                    status: StatusCode::FORBIDDEN,
                    code,
                    detail: refused.summary(),
                    requirement: Some(refused.requirement().to_owned()),
                    field: None,
                    header: None,
                    refusal: Some(refused.clone()),
                };
            }
            AppError::Grant(_) => {
                return Self {
                    status: StatusCode::FORBIDDEN,
                    code,
                    detail: error.to_string(),
                    requirement: Some("X1".to_owned()),
                    field: Some("grant".to_owned()),
                    header: None,
                    refusal: None,
                };
            }
            AppError::Provider(_) => StatusCode::BAD_GATEWAY,
            AppError::Refused(refusal) => {
                return Self {
                    status: StatusCode::FORBIDDEN,
                    code,
                    detail: error.to_string(),
                    requirement: Some(refusal.requirement.clone()),
                    field: None,
                    header: None,
                    refusal: None,
                };
            }
            AppError::InvalidPolicy(_) => {
                return Self {
                    status: StatusCode::UNPROCESSABLE_ENTITY,
                    code,
                    detail: error.to_string(),
                    requirement: Some("X6".to_owned()),
                    field: Some("text".to_owned()),
                    header: None,
                    refusal: None,
                };
            }
            AppError::WeakPassword(_) => {
                return Self {
                    status: StatusCode::UNPROCESSABLE_ENTITY,
                    code,
                    detail: error.to_string(),
                    requirement: None,
                    field: None,
                    header: None,
                    refusal: None,
                }
                .with_field(Some("new_password"));
            }
            AppError::Store(StoreError::Duplicate { .. }) => StatusCode::CONFLICT,
            AppError::Store(StoreError::MissingReference { .. }) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            AppError::Store(StoreError::Unavailable(_)) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Vault(custodian_vault::VaultError::Remote { .. }) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            AppError::RangeNotSatisfiable { .. } => StatusCode::RANGE_NOT_SATISFIABLE,
            AppError::Vault(_) | AppError::Startup(_) => StatusCode::INTERNAL_SERVER_ERROR,
            AppError::AuditBroken(_) | AppError::Store(_) | AppError::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        // A server with no room is a 507, but the client can act on it: it is told in full.
        let no_room =
            matches!(&error, AppError::Rule { code, .. } if code.kind() == RefusalKind::NoRoom);
        let detail = if status.is_server_error() && !no_room {
            // The cause goes to the log with the request id; the client learns only that it happened.
            tracing::error!(error = %error, ?error, "request failed");
            match status {
                StatusCode::SERVICE_UNAVAILABLE => {
                    "the register is unavailable; please try again shortly".to_owned()
                }
                StatusCode::BAD_GATEWAY => {
                    "the single sign-on provider did not answer as expected; please try again, or sign in with your password".to_owned()
                }
                _ => "something went wrong on our side; it has been logged".to_owned(),
            }
        } else {
            error.to_string()
        };
        // A refused range says what is available, as RFC 9110 asks; a wait says how long.
        let (field, header) = match &error {
            AppError::RangeNotSatisfiable { size } => (
                Some("Range".to_owned()),
                Some(Box::new((
                    axum::http::header::CONTENT_RANGE,
                    format!("bytes */{size}"),
                ))),
            ),
            AppError::LockedOut {
                retry_after_seconds,
                ..
            } => (
                None,
                Some(Box::new((
                    header::RETRY_AFTER,
                    (*retry_after_seconds).max(1).to_string(),
                ))),
            ),
            AppError::Rule { code, .. }
                if matches!(
                    code.kind(),
                    RefusalKind::TooMuchUnderWay | RefusalKind::NoRoom
                ) =>
            {
                (None, Some(Box::new((header::RETRY_AFTER, "60".to_owned()))))
            }
            _ => (None, None),
        };
        let requirement = match &error {
            AppError::Rule { code, .. } => code.requirement().map(str::to_owned),
            _ => None,
        };
        Self {
            requirement,
            status,
            code,
            detail,
            field,
            header,
            refusal: None,
        }
    }
}

/// The status of each kind of refusal.
const fn rule_status(kind: RefusalKind) -> StatusCode {
    match kind {
        RefusalKind::Conflict => StatusCode::CONFLICT,
        RefusalKind::Gone => StatusCode::GONE,
        RefusalKind::Forbidden => StatusCode::FORBIDDEN,
        RefusalKind::TooMuchUnderWay => StatusCode::TOO_MANY_REQUESTS,
        RefusalKind::NoRoom => StatusCode::INSUFFICIENT_STORAGE,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = Problem {
            kind: format!("urn:custodian:problem:{}", self.code),
            title: self.status.canonical_reason().unwrap_or("Error").to_owned(),
            status: self.status.as_u16(),
            detail: self.detail,
            code: self.code,
            requirement: self.requirement,
            field: self.field,
            access: self.refusal.as_ref().and_then(|r| r.access.clone()),
            reasons: self.refusal.map(|r| r.reasons),
        };
        let status = self.status;
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (status, body).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(header) = self.header
            && let (name, value) = *header
            && let Ok(value) = HeaderValue::from_str(&value)
        {
            response.headers_mut().insert(name, value);
        }
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"custodian\""),
            );
        }
        response
    }
}

/// The result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;
