//! Signing in and out: passwords and codes checked, lockouts, sign-in cookies and their lifetimes (ASVS 2.2, 3.3).

use custodian_core::audit::{Actor, AuditOutcome};
use custodian_core::ids::StaffId;
use custodian_core::staff::Username;
use custodian_store::StaffAccount;
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use super::*;
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

impl Custodian {
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
}
