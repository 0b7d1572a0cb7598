//! Staff accounts: the first administrator, sign-in and sign-out, API tokens, passwords.

use std::fmt;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use custodian_core::audit::{Actor, AuditOutcome};
use custodian_core::ids::StaffId;
use custodian_core::staff::{StaffMember, Username};
use custodian_core::text::ShortText;
use custodian_store::{ApiToken, StaffAccount};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::audit_trail::Audit;
use crate::{AppError, AppResult, Custodian};

/// How long a sign-in lasts at most, however busy (ASVS 3.3.2).
pub const SIGN_IN_LIFETIME: Duration = Duration::hours(12);
/// How long a sign-in lasts unused: a screen left signed in on a ward ends by itself (ASVS 3.3.2).
pub const SIGN_IN_IDLE_LIMIT: Duration = Duration::minutes(30);
/// How often a sign-in's last use is written down: use within a minute counts as one.
const SIGN_IN_TOUCH_EVERY: Duration = Duration::minutes(1);

/// Wrong passwords in a row that lock an account (ASVS 2.2.1)…
pub const LOCKOUT_AFTER: u64 = 5;
/// …for this long after the last of them; it is counted over the same span.
pub const LOCKOUT_FOR: Duration = Duration::minutes(15);

/// The shortest password accepted (OWASP ASVS 2.1.1).
pub const MIN_PASSWORD_LENGTH: usize = 12;

/// The longest password accepted, so hashing cannot be used to exhaust the server.
pub const MAX_PASSWORD_LENGTH: usize = 128;

/// A secret shown once: a sign-in cookie, an API token or a one-time password. Its `Debug`
/// hides the value, so it never reaches a log by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The secret itself, to hand to its owner.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub(crate) fn random(prefix: &str) -> AppResult<Self> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)
            .map_err(|e| AppError::Internal(format!("no randomness: {e}")))?;
        Ok(Self(format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))))
    }

    /// A password to read aloud or type: 20 characters without look-alikes, in groups of five.
    fn one_time_password() -> AppResult<Self> {
        const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
        let mut bytes = [0u8; 20];
        getrandom::fill(&mut bytes)
            .map_err(|e| AppError::Internal(format!("no randomness: {e}")))?;
        let characters: Vec<char> = bytes
            .iter()
            .map(|b| {
                char::from(
                    ALPHABET
                        .get(usize::from(*b) % ALPHABET.len())
                        .copied()
                        .unwrap_or(b'a'),
                )
            })
            .collect();
        let groups: Vec<String> = characters
            .chunks(5)
            .map(|group| group.iter().collect())
            .collect();
        Ok(Self(groups.join("-")))
    }

    pub(crate) fn digest(&self) -> [u8; 32] {
        Sha256::digest(self.0.as_bytes()).into()
    }
}

/// A fresh random value for a form shown before anyone signs in, kept in a cookie of its own,
/// so the sign-in form can carry an anti-forgery token too (login CSRF).
pub fn form_nonce() -> AppResult<Secret> {
    Secret::random("")
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

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
}

impl Caller {
    /// The caller as an audit actor.
    pub fn actor(&self) -> Actor {
        Actor::Staff(self.member.id)
    }

    /// Refuses a caller who still holds a one-time password.
    pub fn ready(&self) -> AppResult<&Self> {
        if self.must_change_password {
            return Err(AppError::Forbidden {
                code: "auth.password_change_required",
                message: "choose a new password first: the one-time password only allows that"
                    .to_owned(),
            });
        }
        Ok(self)
    }

    /// Refuses a caller who is not an administrator.
    pub fn administrator(&self) -> AppResult<&Self> {
        self.ready()?;
        if !self.member.is_administrator {
            return Err(AppError::Forbidden {
                code: "auth.administrator_only",
                message: "only an administrator may manage staff accounts".to_owned(),
            });
        }
        Ok(self)
    }
}

/// The first administrator, created on first start.
#[derive(Debug)]
pub struct FirstAdministrator {
    pub username: Username,
    /// The generated one-time password, when none was supplied.
    pub one_time_password: Option<Secret>,
}

/// A successful sign-in.
#[derive(Debug)]
pub struct SignedIn {
    pub caller: Caller,
    /// The cookie value; only its hash is stored.
    pub secret: Secret,
    pub expires_at: OffsetDateTime,
}

pub(crate) fn hash_password(password: &str) -> AppResult<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| AppError::Internal(format!("cannot hash a password: {e}")))
}

fn password_matches(password: &str, stored: &str) -> bool {
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
    Ok(())
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
            return Err(AppError::Conflict {
                code: "staff.admin_username_taken",
                message:
                    "no administrator exists, but the username `admin` is taken by another account"
                        .to_owned(),
            });
        }
        let (secret, must_change) = match password {
            Some(chosen) => {
                check_new_password(chosen, &username)?;
                (Secret(chosen.to_owned()), false)
            }
            None => (Secret::one_time_password()?, true),
        };
        let now = self.clock.now();
        let account = StaffAccount {
            member: StaffMember {
                id: StaffId::from_uuid(Uuid::now_v7()),
                username: username.clone(),
                display_name: ShortText::parse("display_name", "Administrator")?,
                is_administrator: true,
            },
            password_hash: hash_password(secret.expose())?,
            must_change_password: must_change,
            created_at: now,
            disabled_at: None,
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

    /// Signs in with a username and password. Failures say the same thing whether the account
    /// exists or not, take as long either way, and are audited (S5).
    #[tracing::instrument(skip(self, password))]
    pub async fn sign_in(&self, username: &str, password: &str) -> AppResult<SignedIn> {
        let refused = AppError::Unauthenticated("the username or password is wrong");
        let account = match Username::parse(username) {
            Ok(name) => {
                let mut tx = self.register.read().await?;
                tx.staff_by_username(&name).await?
            }
            Err(_) => None,
        };
        let now = self.clock.now();
        let Some(account) = account.filter(|a| a.disabled_at.is_none()) else {
            // Spend the time a real check would, so response times do not reveal which accounts exist.
            password_matches(password, &self.decoy_hash);
            self.audit_refused_sign_in(None, now, "no such account")
                .await?;
            return Err(refused);
        };
        if let Some(until) = self.locked_until(account.member.id).await? {
            self.audit_refused_sign_in(Some(account.member.id), now, "locked out")
                .await?;
            let until = crate::london::london_time(until);
            return Err(AppError::LockedOut(format!(
                "after {LOCKOUT_AFTER} wrong passwords this account is locked until {until}; an administrator can set a one-time password if it cannot wait"
            )));
        }
        if password.chars().count() > MAX_PASSWORD_LENGTH
            || !password_matches(password, &account.password_hash)
        {
            self.audit_refused_sign_in(Some(account.member.id), now, "wrong password")
                .await?;
            return Err(refused);
        }
        let must_change = account.must_change_password;
        self.open_sign_in(account, must_change, serde_json::Value::Null)
            .await
    }

    /// When the account's lockout after wrong passwords ends, if it is locked now.
    pub(crate) async fn locked_until(&self, staff: StaffId) -> AppResult<Option<OffsetDateTime>> {
        let now = self.clock.now();
        let (failures, last) = {
            let mut tx = self.register.read().await?;
            tx.sign_in_failures_since(staff, now - LOCKOUT_FOR).await?
        };
        Ok(match (failures >= LOCKOUT_AFTER, last) {
            (true, Some(last)) => Some(last + LOCKOUT_FOR + Duration::MINUTE),
            _ => None,
        })
    }

    /// Starts a sign-in for an account whose owner has proved who they are, however they did:
    /// a fresh secret (so an earlier one is worth nothing), the same lifetime, audited with
    /// `detail` (how they signed in, when not by password).
    pub(crate) async fn open_sign_in(
        &self,
        account: StaffAccount,
        must_change_password: bool,
        detail: serde_json::Value,
    ) -> AppResult<SignedIn> {
        let now = self.clock.now();
        let secret = Secret::random("")?;
        let expires_at = now + SIGN_IN_LIFETIME;
        let mut tx = self.register.write().await?;
        tx.clear_sign_in_failures(account.member.id).await?;
        tx.insert_sign_in(&secret.digest(), account.member.id, now, expires_at)
            .await?;
        let mut audit = Audit::change("auth.signed_in");
        if !detail.is_null() {
            audit = audit.detail(detail);
        }
        audit
            .write(&mut tx, Actor::Staff(account.member.id), now)
            .await?;
        tx.commit().await?;
        Ok(SignedIn {
            caller: Caller {
                must_change_password,
                member: account.member,
                credential: Credential::SignIn,
            },
            secret,
            expires_at,
        })
    }

    async fn audit_refused_sign_in(
        &self,
        staff: Option<StaffId>,
        at: OffsetDateTime,
        reason: &str,
    ) -> AppResult<()> {
        let mut tx = self.register.write().await?;
        let actor = match staff {
            Some(id) => {
                if reason == "wrong password" {
                    tx.insert_sign_in_failure(id, at).await?;
                }
                Actor::Staff(id)
            }
            None => Actor::System,
        };
        let detail = serde_json::json!({ "reason": reason });
        Audit::change("auth.sign_in_refused")
            .outcome(AuditOutcome::Refused)
            .detail(detail)
            .write(&mut tx, actor, at)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The caller signed in with this cookie value.
    pub async fn authenticate_sign_in(&self, secret: &Secret) -> AppResult<Caller> {
        let now = self.clock.now();
        let digest = secret.digest();
        let (account, seen) = {
            let mut tx = self.register.read().await?;
            tx.staff_for_sign_in(&digest, now, now - SIGN_IN_IDLE_LIMIT)
                .await?
                .ok_or(AppError::Unauthenticated(
                    "your sign-in has ended; please sign in again",
                ))?
        };
        if now - seen >= SIGN_IN_TOUCH_EVERY {
            let mut tx = self.register.write().await?;
            tx.touch_sign_in(&digest, now).await?;
            tx.commit().await?;
        }
        Ok(Caller {
            must_change_password: account.must_change_password,
            member: account.member,
            credential: Credential::SignIn,
        })
    }

    /// Records that a request sent with this sign-in's cookie lacked its anti-forgery token and
    /// was refused (S5): who it was sent as, and where, are evidence of an attempt.
    pub async fn record_forged_request(&self, secret: &Secret, path: &str) -> AppResult<()> {
        let now = self.clock.now();
        let staff = {
            let mut tx = self.register.read().await?;
            tx.staff_for_sign_in(&secret.digest(), now, now - SIGN_IN_IDLE_LIMIT)
                .await?
                .map(|(account, _)| account.member.id)
        };
        let path: String = path.chars().take(200).collect();
        let mut tx = self.register.write().await?;
        Audit::change("auth.forged_request_refused")
            .outcome(AuditOutcome::Refused)
            .detail(serde_json::json!({ "path": path, "rule": "ASVS 4.2.2" }))
            .write(&mut tx, staff.map_or(Actor::System, Actor::Staff), now)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Ends every sign-in of the caller, on every computer and tablet (ASVS 3.3.4).
    pub async fn sign_out_everywhere(&self, caller: &Caller) -> AppResult<()> {
        let now = self.clock.now();
        let mut tx = self.register.write().await?;
        tx.revoke_all_sign_ins(caller.member.id, now).await?;
        Audit::change("auth.signed_out_everywhere")
            .write(&mut tx, caller.actor(), now)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Ends the sign-in with this cookie value.
    pub async fn sign_out(&self, secret: &Secret) -> AppResult<()> {
        let now = self.clock.now();
        let mut tx = self.register.write().await?;
        let Some((account, _)) = tx
            .staff_for_sign_in(&secret.digest(), now, now - SIGN_IN_IDLE_LIMIT)
            .await?
        else {
            return Ok(());
        };
        tx.revoke_sign_in(&secret.digest(), now).await?;
        Audit::change("auth.signed_out")
            .write(&mut tx, Actor::Staff(account.member.id), now)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The caller presenting this API token.
    pub async fn authenticate_token(&self, secret: &Secret) -> AppResult<Caller> {
        let now = self.clock.now();
        let mut tx = self.register.write().await?;
        let (account, token) =
            tx.staff_for_token(&secret.digest(), now)
                .await?
                .ok_or(AppError::Unauthenticated(
                    "the API token is not valid: it is unknown, expired or revoked",
                ))?;
        tx.touch_token(token, now).await?;
        tx.commit().await?;
        Ok(Caller {
            must_change_password: account.must_change_password,
            member: account.member,
            credential: Credential::Token(token),
        })
    }

    /// Creates an API token for the caller; the secret is returned once and never stored.
    #[tracing::instrument(skip(self, caller), fields(staff = %caller.member.id))]
    pub async fn create_token(
        &self,
        caller: &Caller,
        name: ShortText,
        lifetime: Option<Duration>,
    ) -> AppResult<(ApiToken, Secret)> {
        caller.ready()?;
        let now = self.clock.now();
        let secret = Secret::random("cst_")?;
        let token = ApiToken {
            id: Uuid::now_v7(),
            staff_id: caller.member.id,
            name,
            created_at: now,
            expires_at: lifetime.map(|l| now + l),
            last_used_at: None,
            revoked_at: None,
        };
        let mut tx = self.register.write().await?;
        tx.insert_token(&token, &secret.digest()).await?;
        Audit::change("auth.token_created")
            .detail(serde_json::json!({ "token_id": token.id, "name": token.name }))
            .write(&mut tx, caller.actor(), now)
            .await?;
        tx.commit().await?;
        Ok((token, secret))
    }

    /// The caller's API tokens.
    pub async fn tokens(&self, caller: &Caller) -> AppResult<Vec<ApiToken>> {
        caller.ready()?;
        let mut tx = self.register.read().await?;
        Ok(tx.tokens_of(caller.member.id).await?)
    }

    /// Revokes one of the caller's API tokens.
    pub async fn revoke_token(&self, caller: &Caller, id: Uuid) -> AppResult<()> {
        caller.ready()?;
        let now = self.clock.now();
        let mut tx = self.register.write().await?;
        if !tx.revoke_token(id, caller.member.id, now).await? {
            return Err(AppError::not_found("token", id));
        }
        Audit::change("auth.token_revoked")
            .detail(serde_json::json!({ "token_id": id }))
            .write(&mut tx, caller.actor(), now)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Changes the caller's password after checking the current one; ends their other sign-ins.
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
            return Err(AppError::Forbidden {
                code: "auth.wrong_current_password",
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
        Audit::change("auth.password_changed")
            .write(&mut tx, caller.actor(), now)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Creates an account for a colleague, with a one-time password to give them.
    #[tracing::instrument(skip(self, caller), fields(staff = %caller.member.id))]
    pub async fn create_staff(
        &self,
        caller: &Caller,
        username: Username,
        display_name: ShortText,
        is_administrator: bool,
    ) -> AppResult<(StaffMember, Secret)> {
        caller.administrator()?;
        let now = self.clock.now();
        let password = Secret::one_time_password()?;
        let account = StaffAccount {
            member: StaffMember {
                id: StaffId::from_uuid(Uuid::now_v7()),
                username,
                display_name,
                is_administrator,
            },
            password_hash: hash_password(password.expose())?,
            must_change_password: true,
            created_at: now,
            disabled_at: None,
        };
        let mut tx = self.register.write().await?;
        if tx
            .staff_by_username(&account.member.username)
            .await?
            .is_some()
        {
            return Err(AppError::Conflict {
                code: "staff.username_taken",
                message: format!(
                    "the username `{}` is taken; choose another",
                    account.member.username
                ),
            });
        }
        tx.insert_staff(&account).await?;
        Audit::change("staff.created")
            .detail(serde_json::json!({
                "staff_id": account.member.id,
                "username": account.member.username,
                "is_administrator": is_administrator,
            }))
            .write(&mut tx, caller.actor(), now)
            .await?;
        tx.commit().await?;
        Ok((account.member, password))
    }

    /// Every staff account.
    pub async fn staff_members(&self, caller: &Caller) -> AppResult<Vec<StaffMember>> {
        caller.ready()?;
        let mut tx = self.register.read().await?;
        Ok(tx
            .all_staff()
            .await?
            .into_iter()
            .map(|a| a.member)
            .collect())
    }
}

/// Whether two secrets are equal, taking the same time wherever they differ.
pub(crate) fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A hash to check against when an account does not exist, made once at start-up.
pub(crate) fn decoy_hash() -> AppResult<String> {
    hash_password("not a password anyone has")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_show_in_debug_output() {
        let secret = Secret::random("cst_").unwrap();
        assert!(secret.expose().starts_with("cst_"));
        assert_eq!(format!("{secret:?}"), "Secret(***)");
    }

    #[test]
    fn one_time_passwords_are_long_and_readable() {
        let password = Secret::one_time_password().unwrap();
        assert_eq!(password.expose().len(), 23);
        assert!(
            password
                .expose()
                .chars()
                .all(|c| c == '-' || "abcdefghjkmnpqrstuvwxyz23456789".contains(c))
        );
        assert_ne!(password, Secret::one_time_password().unwrap());
    }

    #[test]
    fn secrets_compare_equal_only_when_identical() {
        assert!(same_secret(b"state-123", b"state-123"));
        assert!(!same_secret(b"state-123", b"state-124"));
        assert!(!same_secret(b"state-123", b"state-12"));
        assert!(!same_secret(b"", b"x"));
    }

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
