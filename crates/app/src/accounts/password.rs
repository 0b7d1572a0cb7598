//! Passwords (ASVS 2.1): the rules for a new one, hashing with Argon2id, changing one, and the first administrator.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use custodian_core::audit::Actor;
use custodian_core::ids::StaffId;
use custodian_core::staff::{Role, StaffMember, Username};
use custodian_core::text::ShortText;
use custodian_store::StaffAccount;
use uuid::Uuid;

use super::*;
use crate::audit_trail::Audit;
use crate::error_code::ErrorCode;
use crate::{AppError, AppResult, Custodian};

/// The shortest password accepted (OWASP ASVS 2.1.1).
pub const MIN_PASSWORD_LENGTH: usize = 12;

/// The longest password accepted, so hashing cannot be used to exhaust the server.
pub const MAX_PASSWORD_LENGTH: usize = 128;

/// The first administrator, created on first start.
#[derive(Debug)]
pub struct FirstAdministrator {
    pub username: Username,
    /// The generated one-time password, when none was supplied.
    pub one_time_password: Option<Secret>,
}

pub(crate) fn hash_password(password: &str) -> AppResult<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| AppError::Internal(format!("cannot hash a password: {e}")))
}

pub(super) fn password_matches(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|hash| {
        Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok()
    })
}

/// Checks a new password against the rules.
pub fn check_new_password(password: &str, username: &Username) -> AppResult<()> {
    let length = password.chars().count();
    if length < MIN_PASSWORD_LENGTH {
        return Err(AppError::WeakPassword(format!(
            "the password must have at least {MIN_PASSWORD_LENGTH} characters; a few ordinary words make a good one"
        )));
    }
    if length > MAX_PASSWORD_LENGTH {
        return Err(AppError::WeakPassword(format!(
            "the password must have at most {MAX_PASSWORD_LENGTH} characters"
        )));
    }
    if password.to_lowercase().contains(username.as_str()) {
        return Err(AppError::WeakPassword(
            "the password must not contain the username".to_owned(),
        ));
    }
    if crate::common_passwords::is_common(password) {
        return Err(AppError::WeakPassword(
            "that password is one of the most common ones, which are tried first; a few ordinary words of your own make a better one".to_owned(),
        ));
    }
    // Long is not enough: "aaaaaaaaaaaa" and "123456789012" are long. zxcvbn estimates the
    // guesses a cracker would need, knowing the username too.
    let estimate = zxcvbn::zxcvbn(password, &[username.as_str()]);
    if estimate.score() < STRONG_ENOUGH {
        let mut advice: Vec<String> = Vec::new();
        if let Some(feedback) = estimate.feedback() {
            advice.extend(feedback.warning().map(|warning| warning.to_string()));
            advice.extend(feedback.suggestions().iter().map(ToString::to_string));
        }
        let advice = advice
            .iter()
            .map(|words| words.trim_end_matches('.'))
            .collect::<Vec<_>>()
            .join("; ");
        return Err(AppError::WeakPassword(if advice.is_empty() {
            "that password would be guessed too easily; a few ordinary words of your own make a better one".to_owned()
        } else {
            format!("that password would be guessed too easily: {advice}")
        }));
    }
    Ok(())
}

/// The least zxcvbn score a new password must have: 3, "safely unguessable", which a password
/// cracker with a stolen hash would need some 10^10 guesses to reach.
const STRONG_ENOUGH: zxcvbn::Score = zxcvbn::Score::Three;

/// A hash to check against when an account does not exist, made once at start-up.
pub(crate) fn decoy_hash() -> AppResult<String> {
    hash_password("not a password anyone has")
}

impl Custodian {
    /// On first start, creates the administrator account `admin`: with `password` if given (for
    /// unattended installs), otherwise with a one-time password that must be changed at first
    /// sign-in. Does nothing once an administrator exists (other accounts, such as the demo's,
    /// do not count: someone must be able to manage them).
    #[tracing::instrument(skip_all)]
    pub async fn ensure_administrator(
        &self,
        password: Option<&str>,
    ) -> AppResult<Option<FirstAdministrator>> {
        let mut tx = self.register.write().await?;
        if tx.count_administrators().await? > 0 {
            return Ok(None);
        }
        let username = Username::parse("admin")?;
        if tx.staff_by_username(&username).await?.is_some() {
            return Err(AppError::Rule {
                code: ErrorCode::StaffAdminUsernameTaken,
                message:
                    "no administrator exists, but the username `admin` is taken by another account"
                        .to_owned(),
            });
        }
        let (secret, must_change) = match password {
            Some(chosen) => {
                check_new_password(chosen, &username)?;
                (Secret::from(chosen.to_owned()), false)
            }
            None => (Secret::one_time_password()?, true),
        };
        let now = self.clock.now();
        let account = StaffAccount {
            member: StaffMember {
                id: StaffId::from_uuid(Uuid::now_v7()),
                username: username.clone(),
                display_name: ShortText::parse("display_name", "Administrator")?,
                roles: vec![Role::Administrator],
                services: Vec::new(),
            },
            password_hash: hash_password(secret.expose())?,
            must_change_password: must_change,
            created_at: now,
            disabled_at: None,
            totp_enrolled_at: None,
        };
        tx.insert_staff(&account).await?;
        Audit::change("staff.administrator_created")
            .detail(serde_json::json!({ "username": username, "one_time_password": must_change }))
            .write(&mut tx, Actor::System, now)
            .await?;
        tx.commit().await?;
        Ok(Some(FirstAdministrator {
            username,
            one_time_password: must_change.then_some(secret),
        }))
    }

    /// Changes the caller's password after checking the current one; ends their sign-ins and
    /// revokes their API tokens, which the old password may have let someone else make.
    #[tracing::instrument(skip_all, fields(staff = %caller.member.id))]
    pub async fn change_password(
        &self,
        caller: &Caller,
        current: &str,
        new: &str,
    ) -> AppResult<()> {
        let now = self.clock.now();
        let mut tx = self.register.write().await?;
        let account = tx
            .staff(caller.member.id)
            .await?
            .ok_or_else(|| AppError::not_found("staff member", caller.member.id))?;
        if !password_matches(current, &account.password_hash) {
            return Err(AppError::Rule {
                code: ErrorCode::AuthWrongCurrentPassword,
                message: "the current password is wrong".to_owned(),
            });
        }
        check_new_password(new, &account.member.username)?;
        if new == current {
            return Err(AppError::WeakPassword(
                "the new password must differ from the current one".to_owned(),
            ));
        }
        tx.set_password(caller.member.id, &hash_password(new)?, false)
            .await?;
        tx.revoke_all_sign_ins(caller.member.id, now).await?;
        // A token made while the old password was known to someone else must not outlive it.
        let tokens_revoked = tx.revoke_all_tokens(caller.member.id, now).await?;
        Audit::change("auth.password_changed")
            .detail(serde_json::json!({ "tokens_revoked": tokens_revoked }))
            .write(&mut tx, caller.actor(), now)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_follow_the_rules() {
        let user = Username::parse("a.clinician").unwrap();
        assert!(check_new_password("correct horse battery", &user).is_ok());
        assert!(check_new_password("short", &user).is_err());
        assert!(check_new_password("my name is a.clinician", &user).is_err());
        assert!(check_new_password(&"x".repeat(129), &user).is_err());
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(password_matches("correct horse battery", &hash));
        assert!(!password_matches("correct horse batterz", &hash));
    }
}
