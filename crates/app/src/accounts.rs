//! Staff accounts: the first administrator, sign-in and sign-out, API tokens, passwords.

use std::fmt;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use custodian_core::audit::{Actor, AuditOutcome};
use custodian_core::ids::StaffId;
use custodian_core::staff::{Role, StaffMember, Username};
use custodian_core::text::ShortText;
use custodian_core::totp::{SECRET_BYTES, TotpSecret};
use custodian_store::{ApiToken, StaffAccount};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::audit_trail::Audit;
use crate::error_code::ErrorCode;
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

/// The refusal after `failures` wrong passwords or codes since the lockout's span began, the
/// last at `last`, if they lock: the same words for every name, real or not.
fn locked_out(
    failures: u64,
    last: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> Option<AppError> {
    let last = last.filter(|_| failures >= LOCKOUT_AFTER)?;
    let ends = last + LOCKOUT_FOR + Duration::MINUTE;
    let until = crate::london::london_time(ends);
    Some(AppError::LockedOut {
        message: format!(
            "after {LOCKOUT_AFTER} wrong passwords or codes this account is locked until {until}; an administrator can set a one-time password if it cannot wait"
        ),
        retry_after_seconds: u64::try_from((ends - now).whole_seconds())
            .unwrap_or(0)
            .max(1),
    })
}

/// How long a half sign-in (password right, code still to come) waits for its code.
pub const PENDING_SIGN_IN_LIFETIME: Duration = Duration::minutes(5);

/// Whether `member` must prove a second factor (an authenticator app's code) at every sign-in
/// (ASVS 2.7, 2.8): the one place that decides it. Anyone else may choose to.
pub fn totp_required(member: &StaffMember) -> bool {
    member.is_administrator()
        || member.has_role(custodian_core::staff::Role::InformationGovernanceLead)
}

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
    pub(crate) fn one_time_password() -> AppResult<Self> {
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
    /// Set while the account needs a second factor ([`totp_required`]) but has none: only
    /// setting up an authenticator app is allowed.
    pub must_enrol_totp: bool,
}

impl Caller {
    /// The caller as an audit actor.
    pub fn actor(&self) -> Actor {
        Actor::Staff(self.member.id)
    }

    fn new(account: StaffAccount, credential: Credential) -> Self {
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

/// A half sign-in: the password was right and the account has an authenticator app, whose code
/// is still to come. Its secret goes in a cookie of its own that opens nothing but the code step.
#[derive(Debug)]
pub struct PendingSignIn {
    /// The cookie value; only its hash is stored.
    pub secret: Secret,
    pub expires_at: OffsetDateTime,
}

/// What a right password leads to.
#[derive(Debug)]
pub enum SignInStep {
    /// Signed in.
    Complete(SignedIn),
    /// Signed in once the authenticator app's code is given.
    CodeNeeded(PendingSignIn),
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

    /// Signs in with a username and password; an account with an authenticator app is then
    /// half signed in, until [`Custodian::complete_sign_in`] is given its code. Failures say the
    /// same thing whether the account exists or not, take as long either way, and are audited (S5).
    #[tracing::instrument(skip(self, password))]
    pub async fn sign_in(&self, username: &str, password: &str) -> AppResult<SignInStep> {
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
            return Err(self.refuse_unknown_name(username, now).await?);
        };
        if let Some(locked) = self.lockout(account.member.id, now).await? {
            self.audit_refused_sign_in(Some(account.member.id), now, "locked out")
                .await?;
            return Err(locked);
        }
        if password.chars().count() > MAX_PASSWORD_LENGTH
            || !password_matches(password, &account.password_hash)
        {
            self.audit_refused_sign_in(Some(account.member.id), now, "wrong password")
                .await?;
            return Err(refused);
        }
        if account.totp_enrolled_at.is_some() {
            // Wrong passwords are not forgotten yet: wrong codes count with them (ASVS 2.2.1).
            let secret = Secret::random("")?;
            let expires_at = now + PENDING_SIGN_IN_LIFETIME;
            let mut tx = self.register.write().await?;
            tx.insert_pending_sign_in(&secret.digest(), account.member.id, now, expires_at)
                .await?;
            tx.commit().await?;
            return Ok(SignInStep::CodeNeeded(PendingSignIn { secret, expires_at }));
        }
        let mut tx = self.register.write().await?;
        let signed_in = self.open_sign_in(&mut tx, account, now, "password").await?;
        tx.commit().await?;
        Ok(SignInStep::Complete(signed_in))
    }

    /// Records a new sign-in for `account`, forgetting its wrong passwords and codes.
    pub(crate) async fn open_sign_in(
        &self,
        tx: &mut custodian_store::RegisterTx,
        account: StaffAccount,
        now: OffsetDateTime,
        factors: &str,
    ) -> AppResult<SignedIn> {
        let secret = Secret::random("")?;
        let expires_at = now + SIGN_IN_LIFETIME;
        tx.clear_sign_in_failures(account.member.id).await?;
        tx.insert_sign_in(&secret.digest(), account.member.id, now, expires_at)
            .await?;
        Audit::change("auth.signed_in")
            .detail(serde_json::json!({ "with": factors }))
            .write(tx, Actor::Staff(account.member.id), now)
            .await?;
        Ok(SignedIn {
            caller: Caller::new(account, Credential::SignIn),
            secret,
            expires_at,
        })
    }

    /// Signs in in one request, for API clients: the password, and the authenticator app's code
    /// when the account has one.
    pub async fn sign_in_at_once(
        &self,
        username: &str,
        password: &str,
        code: Option<&str>,
    ) -> AppResult<SignedIn> {
        match self.sign_in(username, password).await? {
            SignInStep::Complete(signed_in) => Ok(signed_in),
            SignInStep::CodeNeeded(pending) => match code {
                Some(code) => {
                    let completed = self.complete_sign_in(&pending.secret, code).await;
                    if completed.is_err() {
                        // One request, one try: the half sign-in ends with it.
                        self.abandon_sign_in(&pending.secret).await?;
                    }
                    completed
                }
                None => {
                    self.abandon_sign_in(&pending.secret).await?;
                    Err(AppError::CodeRequired(
                        "this account also needs the 6-digit code its authenticator app shows: send it as `code` with the username and password",
                    ))
                }
            },
        }
    }

    /// Ends a half sign-in without completing it.
    pub async fn abandon_sign_in(&self, pending: &Secret) -> AppResult<()> {
        let now = self.clock.now();
        let mut tx = self.register.write().await?;
        tx.delete_pending_sign_in(&pending.digest(), now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Whether this half sign-in is still waiting for its code.
    pub async fn pending_sign_in_open(&self, pending: &Secret) -> AppResult<bool> {
        let now = self.clock.now();
        let mut tx = self.register.read().await?;
        Ok(tx.pending_sign_in(&pending.digest(), now).await?.is_some())
    }

    /// Completes a half sign-in with the authenticator app's code: the code of this time-step
    /// or one either side, never one used before (ASVS 2.8.4). Wrong codes count towards the
    /// account's lockout as wrong passwords do, and are audited.
    #[tracing::instrument(skip_all)]
    pub async fn complete_sign_in(&self, pending: &Secret, code: &str) -> AppResult<SignedIn> {
        let now = self.clock.now();
        let digest = pending.digest();
        let ended = AppError::Unauthenticated(
            "the time to enter the code has run out (5 minutes); sign in again with your password",
        );
        let account = {
            let mut tx = self.register.read().await?;
            match tx.pending_sign_in(&digest, now).await? {
                Some(id) => tx.staff(id).await?,
                None => None,
            }
        };
        let Some(account) = account.filter(|a| a.disabled_at.is_none()) else {
            return Err(ended);
        };
        let id = account.member.id;
        if let Some(locked) = self.lockout(id, now).await? {
            self.abandon_sign_in(pending).await?;
            self.audit_refused_sign_in(Some(id), now, "locked out")
                .await?;
            return Err(locked);
        }
        let sealed = {
            let mut tx = self.register.read().await?;
            tx.totp_secret(id).await?
        };
        let secret = match sealed {
            Some(sealed) => self.open_totp_secret(&sealed)?,
            None => return Err(ended),
        };
        let refused = match secret.verify(code, now) {
            Some(step) => {
                let mut tx = self.register.write().await?;
                if tx.use_totp_step(id, step.0, now).await? {
                    tx.delete_pending_sign_in(&digest, now).await?;
                    let signed_in = self
                        .open_sign_in(&mut tx, account, now, "password and authenticator code")
                        .await?;
                    tx.commit().await?;
                    return Ok(signed_in);
                }
                "code already used"
            }
            None => "wrong code",
        };
        self.audit_refused_sign_in(Some(id), now, refused).await?;
        if let Some(locked) = self.lockout(id, now).await? {
            self.abandon_sign_in(pending).await?;
            return Err(locked);
        }
        Err(AppError::Unauthenticated(if refused == "wrong code" {
            "the code is not right: enter the 6-digit code your authenticator app shows now"
        } else {
            "that code has been used already: wait for the next code your authenticator app shows, then enter it"
        }))
    }

    /// The refusal for an account locked by wrong passwords and codes, if it is locked at `now`.
    pub(crate) async fn lockout(
        &self,
        staff: StaffId,
        now: OffsetDateTime,
    ) -> AppResult<Option<AppError>> {
        let (failures, last) = {
            let mut tx = self.register.read().await?;
            tx.sign_in_failures_since(staff, now - LOCKOUT_FOR).await?
        };
        Ok(locked_out(failures, last, now))
    }

    /// A sign-in under a name no account has: refused as a wrong password is, and locked after
    /// as many tries as a real account, in the same words, so the answers do not tell which names
    /// exist (ASVS 2.2.1). Only the name's digest is kept.
    async fn refuse_unknown_name(
        &self,
        username: &str,
        now: OffsetDateTime,
    ) -> AppResult<AppError> {
        let digest: [u8; 32] = Sha256::digest(username.trim().to_lowercase().as_bytes()).into();
        let (failures, last) = {
            let mut tx = self.register.read().await?;
            tx.unknown_sign_in_failures_since(&digest, now - LOCKOUT_FOR)
                .await?
        };
        if let Some(locked) = locked_out(failures, last, now) {
            self.audit_refused_sign_in(None, now, "locked out").await?;
            return Ok(locked);
        }
        let mut tx = self.register.write().await?;
        tx.insert_unknown_sign_in_failure(&digest, now, now - LOCKOUT_FOR)
            .await?;
        tx.commit().await?;
        self.audit_refused_sign_in(None, now, "no such account")
            .await?;
        Ok(AppError::Unauthenticated(
            "the username or password is wrong",
        ))
    }

    fn open_totp_secret(&self, sealed: &[u8]) -> AppResult<TotpSecret> {
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

    async fn audit_refused_sign_in(
        &self,
        staff: Option<StaffId>,
        at: OffsetDateTime,
        reason: &str,
    ) -> AppResult<()> {
        let mut tx = self.register.write().await?;
        let actor = match staff {
            Some(id) => {
                if matches!(
                    reason,
                    "wrong password" | "wrong code" | "code already used"
                ) {
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
        Ok(Caller::new(account, Credential::SignIn))
    }

    /// Records that a request sent with this sign-in's cookie lacked its anti-forgery token and
    /// was refused (S5): who it was sent as, and where, are evidence of an attempt. A cookie that
    /// belongs to no live sign-in is no one's and writes nothing, or anyone could fill the trail
    /// with made-up cookies; says whether the attempt was written down.
    pub async fn record_forged_request(&self, secret: &Secret, path: &str) -> AppResult<bool> {
        let now = self.clock.now();
        let staff = {
            let mut tx = self.register.read().await?;
            tx.staff_for_sign_in(&secret.digest(), now, now - SIGN_IN_IDLE_LIMIT)
                .await?
                .map(|(account, _)| account.member.id)
        };
        let Some(staff) = staff else {
            return Ok(false);
        };
        let path: String = path.chars().take(200).collect();
        let mut tx = self.register.write().await?;
        Audit::change("auth.forged_request_refused")
            .outcome(AuditOutcome::Refused)
            .detail(serde_json::json!({ "path": path, "rule": "ASVS 4.2.2" }))
            .write(&mut tx, Actor::Staff(staff), now)
            .await?;
        tx.commit().await?;
        Ok(true)
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
        Ok(Caller::new(account, Credential::Token(token)))
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
