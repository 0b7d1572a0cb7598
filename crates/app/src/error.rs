//! The one error type of the application layer; the web layer maps each variant to a status once.

use custodian_core::DomainError;
use custodian_core::audit::ChainBreak;
use custodian_store::StoreError;

use crate::error_code::ErrorCode;

/// Why a use case did not happen. Nothing was written when one of these is returned.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The input or the act breaks a rule of the domain.
    #[error(transparent)]
    Invalid(DomainError),

    /// The input names something that does not exist.
    #[error("there is no {what} with id `{id}`")]
    NotFound { what: &'static str, id: String },

    /// A rule of the application refuses the act: the code says which, and what kind of
    /// refusal it is (a conflict with what is recorded, something gone, too much under way…).
    #[error("{message}")]
    Rule { code: ErrorCode, message: String },

    /// The caller is not signed in, or their credentials are wrong or expired.
    #[error("{0}")]
    Unauthenticated(&'static str),

    /// The password was right, but the account's authenticator code is needed too.
    #[error("{0}")]
    CodeRequired(&'static str),

    /// A code from an authenticator app that is not right (while setting it up).
    #[error("{0}")]
    WrongCode(String),

    /// Too many wrong passwords in a row: the account refuses to sign in until `message` says,
    /// `retry_after_seconds` from now.
    #[error("{message}")]
    LockedOut {
        message: String,
        retry_after_seconds: u64,
    },

    /// A single sign-on came back but does not sign anyone in: a forged or stale return, a token
    /// that fails its checks, or a subject linked to no account.
    #[error("{message}")]
    SignInRefused { code: &'static str, message: String },

    /// The OpenID provider failed or answered with something unusable.
    #[error("{0}")]
    Provider(String),

    /// The access policies refuse this member of staff this act (S2, S3); audited.
    #[error("{}", refused_message(.0))]
    Refused(custodian_access::Refusal),

    /// A use of a recording's content refused by access, consent or both, with every reason (X1).
    #[error("{}", .0.summary())]
    UseRefused(Box<crate::uses::UseRefused>),

    /// A request under a grant that the grant does not admit (X1).
    #[error(transparent)]
    Grant(#[from] custodian_core::grant::GrantRefusal),

    /// An organisation's access policy does not parse or fit the schema (X6): Cedar's words.
    #[error("{0}")]
    InvalidPolicy(String),

    /// A new password does not meet the password rules.
    #[error("{0}")]
    WeakPassword(String),

    /// The vault refused or failed: media that is not media, a broken length, a failed check.
    #[error(transparent)]
    Vault(#[from] custodian_vault::VaultError),

    /// An upload is larger than allowed.
    #[error("the file is larger than the {max} bytes allowed")]
    TooLarge { max: u64 },

    /// A range outside the recording.
    #[error("the range asked for is outside the recording's {size} bytes")]
    RangeNotSatisfiable { size: u64 },

    /// The application cannot start as configured.
    #[error("{0}")]
    Startup(String),

    /// The audit trail does not verify.
    #[error(transparent)]
    AuditBroken(#[from] ChainBreak),

    /// The database failed, or holds something it should not.
    #[error(transparent)]
    Store(#[from] StoreError),

    /// Something that should be impossible happened (for example, the system has no randomness).
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    pub(crate) fn not_found(what: &'static str, id: impl std::fmt::Display) -> Self {
        Self::NotFound {
            what,
            id: id.to_string(),
        }
    }

    /// A stable, machine-readable code for clients.
    pub fn code(&self) -> String {
        match self {
            Self::Invalid(error) => error.code().to_owned(),
            Self::NotFound { what, .. } => format!("{}.not_found", what.replace(' ', "_")),
            Self::Rule { code, .. } => code.as_str().to_owned(),
            Self::SignInRefused { code, .. } => (*code).to_owned(),
            Self::Vault(error) => error.code().to_owned(),
            Self::TooLarge { .. } => "media.too_large".to_owned(),
            Self::RangeNotSatisfiable { .. } => "media.range_not_satisfiable".to_owned(),
            Self::Startup(_) => "startup".to_owned(),
            Self::Provider(_) => "sso.provider_failed".to_owned(),
            Self::Unauthenticated(_) => "auth.unauthenticated".to_owned(),
            Self::LockedOut { .. } => "auth.locked_out".to_owned(),
            Self::CodeRequired(_) => "auth.code_required".to_owned(),
            Self::WrongCode(_) => "auth.wrong_code".to_owned(),
            Self::WeakPassword(_) => "auth.weak_password".to_owned(),
            Self::Refused(_) => "access.refused".to_owned(),
            // Refused by access, it is an access refusal like any other; by consent, a use refusal.
            Self::UseRefused(refused) if refused.access.is_some() => "access.refused".to_owned(),
            Self::UseRefused(_) => "use.refused".to_owned(),
            Self::Grant(refusal) => refusal.code().to_owned(),
            Self::InvalidPolicy(_) => "access.invalid_policy".to_owned(),
            Self::AuditBroken(_) => "audit.broken".to_owned(),
            Self::Store(StoreError::Duplicate { .. }) => "register.duplicate".to_owned(),
            Self::Store(StoreError::MissingReference { .. }) => {
                "register.missing_reference".to_owned()
            }
            Self::Store(StoreError::Unavailable(_)) => "register.unavailable".to_owned(),
            Self::Store(_) | Self::Internal(_) => "internal".to_owned(),
        }
    }
}

fn refused_message(refusal: &custodian_access::Refusal) -> String {
    format!(
        "not allowed ({}): {}; {}",
        refusal.requirement, refusal.reason, refusal.remedy
    )
}

impl From<DomainError> for AppError {
    /// A domain refusal; a legal hold is the one refusal of its rule (D7) wherever it is found.
    fn from(error: DomainError) -> Self {
        match error {
            DomainError::UnderLegalHold(_) | DomainError::MediumUnderLegalHold { .. } => {
                Self::Rule {
                    code: ErrorCode::UnderLegalHold,
                    message: error.to_string(),
                }
            }
            other => Self::Invalid(other),
        }
    }
}

impl From<custodian_access::AccessError> for AppError {
    fn from(error: custodian_access::AccessError) -> Self {
        match error {
            custodian_access::AccessError::InvalidPolicy(message) => Self::InvalidPolicy(message),
            other => Self::Internal(other.to_string()),
        }
    }
}

/// The result of a use case.
pub type AppResult<T> = Result<T, AppError>;
