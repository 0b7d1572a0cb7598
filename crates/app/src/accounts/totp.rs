//! Authenticator apps (ASVS 2.7, 2.8): who must have one, setting one up, and resetting it.

use custodian_core::audit::AuditOutcome;
use custodian_core::ids::StaffId;
use custodian_core::staff::StaffMember;
use custodian_core::totp::{SECRET_BYTES, TotpSecret};
use time::OffsetDateTime;

use super::*;
use crate::audit_trail::Audit;
use crate::error_code::ErrorCode;
use crate::{AppError, AppResult, Custodian};

/// Whether `member` must prove a second factor (an authenticator app's code) at every sign-in
/// (ASVS 2.7, 2.8): the one place that decides it. Anyone else may choose to.
pub fn totp_required(member: &StaffMember) -> bool {
    member.is_administrator()
        || member.has_role(custodian_core::staff::Role::InformationGovernanceLead)
}

/// Whether an account has an authenticator app, and whether it must.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TotpStatus {
    pub enrolled_at: Option<OffsetDateTime>,
    pub required: bool,
}

/// An authenticator app being set up: the secret to give it, as text and as an `otpauth://`
/// address for a QR code. Shown once; confirmed by a code from the app.
#[derive(Debug)]
pub struct TotpEnrolment {
    pub secret: TotpSecret,
    pub otpauth_url: String,
}

impl Custodian {
    pub(super) fn open_totp_secret(&self, sealed: &[u8]) -> AppResult<TotpSecret> {
        TotpSecret::from_bytes(self.vault.open_sealed(sealed)?).ok_or_else(|| {
            AppError::Internal("a stored authenticator secret is too short".to_owned())
        })
    }

    /// Whether the caller has an authenticator app, and whether they must.
    pub async fn totp_status(&self, caller: &Caller) -> AppResult<TotpStatus> {
        let mut tx = self.register.read().await?;
        let account = tx
            .staff(caller.member.id)
            .await?
            .ok_or_else(|| AppError::not_found("staff member", caller.member.id))?;
        Ok(TotpStatus {
            enrolled_at: account.totp_enrolled_at,
            required: totp_required(&account.member),
        })
    }

    /// The authenticator app the caller has started to set up but not confirmed, to show again.
    pub async fn pending_totp_enrolment(
        &self,
        caller: &Caller,
    ) -> AppResult<Option<TotpEnrolment>> {
        caller.password_chosen()?;
        let (account, sealed) = {
            let mut tx = self.register.read().await?;
            (
                tx.staff(caller.member.id).await?,
                tx.totp_secret(caller.member.id).await?,
            )
        };
        if account.and_then(|a| a.totp_enrolled_at).is_some() {
            return Ok(None);
        }
        let Some(sealed) = sealed else {
            return Ok(None);
        };
        let secret = self.open_totp_secret(&sealed)?;
        let otpauth_url = secret
            .otpauth_url(caller.member.username.as_str())
            .ok_or_else(|| AppError::Internal("no otpauth address for this account".to_owned()))?;
        Ok(Some(TotpEnrolment {
            secret,
            otpauth_url,
        }))
    }

    /// Starts setting up an authenticator app for the caller: a new secret, sealed with the
    /// vault's key-encryption key and kept until a code confirms it. Starting again replaces a
    /// secret not yet confirmed; a confirmed one stays until an administrator resets it.
    #[tracing::instrument(skip_all, fields(staff = %caller.member.id))]
    pub async fn start_totp_enrolment(&self, caller: &Caller) -> AppResult<TotpEnrolment> {
        caller.password_chosen()?;
        let now = self.clock.now();
        let mut bytes = vec![0u8; SECRET_BYTES];
        getrandom::fill(&mut bytes)
            .map_err(|e| AppError::Internal(format!("no randomness: {e}")))?;
        let secret = TotpSecret::from_bytes(bytes)
            .ok_or_else(|| AppError::Internal("an authenticator secret is too short".to_owned()))?;
        let otpauth_url = secret
            .otpauth_url(caller.member.username.as_str())
            .ok_or_else(|| AppError::Internal("no otpauth address for this account".to_owned()))?;
        let sealed = self.vault.seal(secret.as_bytes())?;
        let mut tx = self.register.write().await?;
        let enrolled = tx
            .staff(caller.member.id)
            .await?
            .and_then(|account| account.totp_enrolled_at);
        if enrolled.is_some() {
            return Err(AppError::Rule {
                code: ErrorCode::AuthTotpAlreadyEnrolled,
                message: "this account already has an authenticator app; if it is lost, ask an administrator to reset it, then set up the new one".to_owned(),
            });
        }
        tx.put_totp_secret(caller.member.id, &sealed, now).await?;
        Audit::change("auth.totp_enrolment_started")
            .write(&mut tx, caller.actor(), now)
            .await?;
        tx.commit().await?;
        Ok(TotpEnrolment {
            secret,
            otpauth_url,
        })
    }

    /// Confirms the caller's authenticator app with a code it shows; from then on every sign-in
    /// asks for one. A wrong code is audited and changes nothing.
    #[tracing::instrument(skip_all, fields(staff = %caller.member.id))]
    pub async fn confirm_totp_enrolment(
        &self,
        caller: &Caller,
        code: &str,
    ) -> AppResult<OffsetDateTime> {
        caller.password_chosen()?;
        let now = self.clock.now();
        let (account, sealed) = {
            let mut tx = self.register.read().await?;
            (
                tx.staff(caller.member.id).await?,
                tx.totp_secret(caller.member.id).await?,
            )
        };
        if account.and_then(|a| a.totp_enrolled_at).is_some() {
            return Err(AppError::Rule {
                code: ErrorCode::AuthTotpAlreadyEnrolled,
                message: "this account's authenticator app is set up already".to_owned(),
            });
        }
        let Some(sealed) = sealed else {
            return Err(AppError::Rule {
                code: ErrorCode::AuthTotpNotStarted,
                message:
                    "start setting up an authenticator app first, then enter the code it shows"
                        .to_owned(),
            });
        };
        let secret = self.open_totp_secret(&sealed)?;
        if let Some(step) = secret.verify(code, now) {
            let mut tx = self.register.write().await?;
            if tx.use_totp_step(caller.member.id, step.0, now).await? {
                tx.set_totp_enrolled(caller.member.id, Some(now)).await?;
                Audit::change("auth.totp_enrolled")
                    .write(&mut tx, caller.actor(), now)
                    .await?;
                tx.commit().await?;
                return Ok(now);
            }
        }
        let mut tx = self.register.write().await?;
        Audit::change("auth.totp_code_refused")
            .outcome(AuditOutcome::Refused)
            .detail(serde_json::json!({ "step": "enrolment" }))
            .write(&mut tx, caller.actor(), now)
            .await?;
        tx.commit().await?;
        Err(AppError::WrongCode(
            "the code is not right: check the app shows Custodian for this account and enter the 6-digit code it shows now".to_owned(),
        ))
    }

    /// Removes a member of staff's authenticator app (administrators only), when it is lost:
    /// they set up a new one at their next sign-in. Audited.
    #[tracing::instrument(skip(self, caller), fields(staff = %caller.member.id))]
    pub async fn reset_totp(&self, caller: &Caller, staff: StaffId) -> AppResult<()> {
        self.authorize(
            caller,
            custodian_access::Action::ManageAccounts,
            crate::access::Target::Organisation,
        )
        .await?;
        let now = self.clock.now();
        let mut tx = self.register.write().await?;
        let account = tx
            .staff(staff)
            .await?
            .ok_or_else(|| AppError::not_found("staff member", staff))?;
        tx.delete_totp(staff).await?;
        tx.set_totp_enrolled(staff, None).await?;
        Audit::change("auth.totp_reset")
            .detail(serde_json::json!({
                "staff_id": staff,
                "username": account.member.username,
                "was_enrolled": account.totp_enrolled_at.is_some(),
            }))
            .write(&mut tx, caller.actor(), now)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
