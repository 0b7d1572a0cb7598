//! The signed-in member of staff behind a request, and how they proved who they are.

use custodian_core::audit::Actor;
use custodian_core::staff::StaffMember;
use custodian_store::StaffAccount;
use uuid::Uuid;

use super::*;
use crate::error_code::ErrorCode;
use crate::{AppError, AppResult};

/// How a caller proved who they are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Credential {
    /// A browser sign-in cookie.
    SignIn,
    /// An API token, by its id.
    Token(Uuid),
}

/// A signed-in member of staff making a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub member: StaffMember,
    pub credential: Credential,
    /// Set while the account holds a one-time password: only changing it is allowed.
    pub must_change_password: bool,
    /// Set while the account needs a second factor ([`totp_required`]) but has none: only
    /// setting up an authenticator app is allowed.
    pub must_enrol_totp: bool,
}

impl Caller {
    /// The caller as an audit actor.
    pub fn actor(&self) -> Actor {
        Actor::Staff(self.member.id)
    }

    pub(super) fn new(account: StaffAccount, credential: Credential) -> Self {
        Self {
            must_change_password: account.must_change_password,
            must_enrol_totp: totp_required(&account.member) && account.totp_enrolled_at.is_none(),
            member: account.member,
            credential,
        }
    }

    /// Refuses a caller who still holds a one-time password, or who must set up an
    /// authenticator app and has not.
    pub fn ready(&self) -> AppResult<&Self> {
        self.password_chosen()?;
        if self.must_enrol_totp {
            return Err(AppError::Rule {
                code: ErrorCode::AuthTotpEnrolmentRequired,
                message: "set up an authenticator app first: this account needs a code from one at every sign-in \
                          (open /totp in a browser, or use /api/v1/auth/totp/enrol)"
                    .to_owned(),
            });
        }
        Ok(self)
    }

    /// Refuses a caller who still holds a one-time password.
    pub fn password_chosen(&self) -> AppResult<&Self> {
        if self.must_change_password {
            return Err(AppError::Rule {
                code: ErrorCode::AuthPasswordChangeRequired,
                message: "choose a new password first: the one-time password only allows that"
                    .to_owned(),
            });
        }
        Ok(self)
    }
}
