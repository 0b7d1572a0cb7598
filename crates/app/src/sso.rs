//! Single sign-on with OpenID Connect: the authorization-code flow with PKCE, state and nonce.
//!
//! A sign-in sent to the provider is kept in the register, found by the hash of a random value
//! in a cookie of the browser that started it, and taken (deleted) when the browser comes back:
//! it cannot be finished twice, nor by another browser, and nothing secret rides in the cookie.

use custodian_core::audit::{Actor, AuditOutcome};
use custodian_core::ids::StaffId;
use custodian_store::{PendingSsoLogin, StaffAccount};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreIdTokenClaims, CoreJwsSigningAlgorithm,
    CoreProviderMetadata,
};
use openidconnect::{
    AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken, IssuerUrl,
    Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, TokenResponse, reqwest,
};
use time::Duration;
use tokio::sync::OnceCell;

use crate::accounts::{Caller, Secret, SignedIn};
use crate::audit_trail::Audit;
use crate::error_code::ErrorCode;
use crate::{AppError, AppResult, Custodian};

/// How long a browser has to come back from the provider.
pub const SSO_LOGIN_LIFETIME: Duration = Duration::minutes(10);

/// Where the provider sends the browser back, under Custodian's public address.
pub const CALLBACK_PATH: &str = "/sign-in/sso/callback";

/// How Custodian is registered with the organisation's OpenID provider.
#[derive(Clone, Debug)]
pub struct SsoSettings {
    /// The provider's issuer URL, as its discovery document states it.
    pub issuer: String,
    pub client_id: String,
    /// From the environment only; `None` for a public client.
    pub client_secret: Option<Secret>,
    /// Custodian's own address as browsers reach it, such as `https://custodian.example.nhs.uk`.
    pub public_url: String,
    /// The sign-in page's button, such as "Sign in with NHS Identity".
    pub label: String,
}

/// A configured provider; its discovery document is fetched once, when first needed.
#[derive(Debug)]
pub struct Sso {
    settings: SsoSettings,
    issuer: IssuerUrl,
    redirect: RedirectUrl,
    http: reqwest::Client,
    metadata: OnceCell<CoreProviderMetadata>,
}

/// A sign-in begun: send the browser to `authorize_url` with `browser` in its cookie.
#[derive(Debug)]
pub struct SsoStart {
    pub authorize_url: String,
    pub browser: Secret,
}

/// What the provider sent the browser back with.
#[derive(Debug, Default)]
pub struct SsoReturn {
    pub state: Option<String>,
    pub code: Option<String>,
    /// The provider's own refusal (`access_denied`, say).
    pub error: Option<String>,
    /// The issuer the return says it comes from (RFC 9207), when the provider says.
    pub iss: Option<String>,
}

impl Sso {
    /// Checks the settings; the provider is not contacted yet.
    pub fn new(settings: SsoSettings) -> AppResult<Self> {
        let issuer = IssuerUrl::new(settings.issuer.clone()).map_err(|e| {
            AppError::Startup(format!(
                "the SSO issuer `{}` is not a URL: {e}",
                settings.issuer
            ))
        })?;
        let redirect = format!(
            "{}{CALLBACK_PATH}",
            settings.public_url.trim_end_matches('/')
        );
        let redirect = RedirectUrl::new(redirect.clone()).map_err(|e| {
            AppError::Startup(format!(
                "the SSO return address `{redirect}` is not a URL: {e}"
            ))
        })?;
        // Following redirects from the provider's endpoints would let it point us anywhere.
        let http = reqwest::ClientBuilder::new()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| AppError::Startup(format!("cannot make an HTTP client: {e}")))?;
        Ok(Self {
            settings,
            issuer,
            redirect,
            http,
            metadata: OnceCell::new(),
        })
    }

    /// The sign-in button's words.
    pub fn label(&self) -> &str {
        &self.settings.label
    }

    /// The provider's issuer URL.
    pub fn issuer(&self) -> &str {
        self.issuer.as_str()
    }

    /// Fetches the provider's discovery document and keys, unless already fetched.
    pub async fn discover(&self) -> AppResult<&CoreProviderMetadata> {
        self.metadata
            .get_or_try_init(|| async {
                CoreProviderMetadata::discover_async(self.issuer.clone(), &self.http)
                    .await
                    .map_err(|e| {
                        AppError::Provider(format!(
                            "the provider's discovery document at `{}` could not be read: {e}",
                            self.issuer.as_str()
                        ))
                    })
            })
            .await
    }

    async fn client(
        &self,
    ) -> AppResult<
        CoreClient<
            openidconnect::EndpointSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointMaybeSet,
            openidconnect::EndpointMaybeSet,
        >,
    > {
        let metadata = self.discover().await?.clone();
        Ok(CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.settings.client_id.clone()),
            self.settings
                .client_secret
                .as_ref()
                .map(|s| ClientSecret::new(s.expose().to_owned())),
        )
        .set_redirect_uri(self.redirect.clone()))
    }
}

/// Why a return from the provider was refused: a stable code and words for the audit trail.
fn claims_refusal(error: &ClaimsVerificationError) -> (&'static str, &'static str) {
    match error {
        ClaimsVerificationError::InvalidAudience(_) => ("sso.wrong_audience", "wrong audience"),
        ClaimsVerificationError::InvalidIssuer(_) => ("sso.wrong_issuer", "wrong issuer"),
        ClaimsVerificationError::Expired(_) => ("sso.expired_token", "expired token"),
        ClaimsVerificationError::InvalidNonce(_) => ("sso.wrong_nonce", "wrong nonce"),
        ClaimsVerificationError::SignatureVerification(_) => ("sso.bad_signature", "bad signature"),
        _ => ("sso.invalid_token", "invalid token"),
    }
}

/// The ID token signature algorithms accepted.
const ASYMMETRIC_ALGORITHMS: [CoreJwsSigningAlgorithm; 8] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::RsaSsaPssSha384,
    CoreJwsSigningAlgorithm::RsaSsaPssSha512,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
];

/// What a member of staff is told when single sign-on did not sign them in.
const ASK_ADMINISTRATOR: &str = "single sign-on did not sign you in. Sign in again; if this happens again, ask your Custodian administrator, who can check your account";

impl Custodian {
    /// Uses `sso` for single sign-on.
    pub fn with_sso(mut self, sso: Sso) -> Self {
        self.sso = Some(std::sync::Arc::new(sso));
        self
    }

    /// The configured provider, if single sign-on is on.
    pub fn sso(&self) -> Option<&Sso> {
        self.sso.as_deref()
    }

    fn sso_required(&self) -> AppResult<&Sso> {
        self.sso().ok_or_else(|| AppError::NotFound {
            what: "single sign-on provider",
            id: "configured".to_owned(),
        })
    }

    /// Begins a sign-in at the provider, to come back to `return_to` (a path on this site).
    #[tracing::instrument(skip_all)]
    pub async fn begin_sso(&self, return_to: &str) -> AppResult<SsoStart> {
        let sso = self.sso_required()?;
        let client = sso.client().await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge)
            .url();
        let browser = Secret::random("")?;
        let now = self.clock.now();
        let pending = PendingSsoLogin {
            browser_hash: browser.digest().to_vec(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
            return_to: return_to.to_owned(),
            expires_at: now + SSO_LOGIN_LIFETIME,
        };
        let mut tx = self.register.write().await?;
        tx.insert_sso_login(&pending, now).await?;
        tx.commit().await?;
        Ok(SsoStart {
            authorize_url: url.to_string(),
            browser,
        })
    }

    /// Finishes a sign-in the browser holding `browser` began, with what the provider sent back.
    /// Every refusal is audited. Returns the sign-in and where to go next.
    #[tracing::instrument(skip_all)]
    pub async fn finish_sso(
        &self,
        browser: Option<&Secret>,
        back: SsoReturn,
    ) -> AppResult<(SignedIn, String)> {
        let sso = self.sso_required()?;
        let now = self.clock.now();
        let pending = match browser {
            Some(browser) => {
                let mut tx = self.register.write().await?;
                let pending = tx.take_sso_login(&browser.digest(), now).await?;
                tx.commit().await?;
                pending
            }
            None => None,
        };
        let Some(pending) = pending else {
            return Err(self
                .refuse_sso(
                    None,
                    "sso.no_pending_sign_in",
                    "no sign-in begun in this browser, or it expired",
                    None,
                )
                .await);
        };
        let state_matches = back.state.as_deref().is_some_and(|state| {
            crate::accounts::same_secret(state.as_bytes(), pending.state.as_bytes())
        });
        if !state_matches {
            return Err(self
                .refuse_sso(None, "sso.bad_state", "bad state", None)
                .await);
        }
        // A return from another provider the browser also uses (a mix-up attack, RFC 9207).
        if back.iss.as_deref().is_some_and(|iss| iss != sso.issuer()) {
            return Err(self
                .refuse_sso(None, "sso.wrong_issuer", "wrong issuer", None)
                .await);
        }
        if let Some(error) = back.error {
            let error: String = error.chars().take(100).collect();
            return Err(self
                .refuse_sso(
                    None,
                    "sso.provider_refused",
                    "the provider refused",
                    Some(error),
                )
                .await);
        }
        let Some(code) = back.code else {
            return Err(self.refuse_sso(None, "sso.no_code", "no code", None).await);
        };
        let claims = self.redeem(sso, &pending, code).await?;
        let subject = claims.subject().as_str();
        let account = {
            let mut tx = self.register.read().await?;
            tx.staff_by_sso(sso.issuer(), subject).await?
        };
        let Some(account) = account else {
            let detail = Some(subject.chars().take(255).collect());
            return Err(self
                .refuse_sso(None, "sso.unknown_subject", "unknown subject", detail)
                .await);
        };
        self.admit_sso(account, pending.return_to).await
    }

    /// Exchanges the code and checks the ID token; a refused token is audited.
    async fn redeem(
        &self,
        sso: &Sso,
        pending: &PendingSsoLogin,
        code: String,
    ) -> AppResult<CoreIdTokenClaims> {
        let client = sso.client().await?;
        let provider = |e: String| {
            AppError::Provider(format!("the provider did not complete the sign-in: {e}"))
        };
        let response = client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|e| provider(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()))
            .request_async(&sso.http)
            .await
            .map_err(|e| provider(e.to_string()))?;
        let Some(id_token) = response.id_token() else {
            return Err(self
                .refuse_sso(None, "sso.no_id_token", "no ID token", None)
                .await);
        };
        // Only the provider's published public keys may sign: never `none`, and never HS*,
        // which is keyed with the client secret that Custodian itself holds.
        let verifier = client
            .id_token_verifier()
            .set_allowed_algs(ASYMMETRIC_ALGORITHMS);
        match id_token.claims(&verifier, &Nonce::new(pending.nonce.clone())) {
            Ok(claims) => Ok(claims.clone()),
            Err(error) => {
                let (code, reason) = claims_refusal(&error);
                tracing::warn!(%error, "an ID token was refused");
                Err(self.refuse_sso(None, code, reason, None).await)
            }
        }
    }

    /// Signs in the account linked to the provider's subject, unless it is disabled or locked.
    async fn admit_sso(
        &self,
        account: StaffAccount,
        return_to: String,
    ) -> AppResult<(SignedIn, String)> {
        let id = account.member.id;
        if account.disabled_at.is_some() {
            return Err(self
                .refuse_sso(Some(id), "sso.account_disabled", "account disabled", None)
                .await);
        }
        if self.lockout(id, self.clock.now()).await?.is_some() {
            return Err(self
                .refuse_sso(Some(id), "sso.account_locked", "locked out", None)
                .await);
        }
        // An account still holding a one-time password is confined to choosing a new one, as
        // with a password sign-in: the confinement belongs to the account, not to the sign-in.
        // The provider's own checks (its second factor included) stand for the password and code.
        let now = self.clock.now();
        let mut tx = self.register.write().await?;
        let signed_in = self.open_sign_in(&mut tx, account, now, "sso").await?;
        tx.commit().await?;
        Ok((signed_in, return_to))
    }

    /// Audits a refused single sign-on and returns the error to show.
    async fn refuse_sso(
        &self,
        staff: Option<StaffId>,
        code: &'static str,
        reason: &str,
        detail: Option<String>,
    ) -> AppError {
        let now = self.clock.now();
        let written = async {
            let mut tx = self.register.write().await?;
            Audit::change("auth.sign_in_refused")
                .outcome(AuditOutcome::Refused)
                .detail(serde_json::json!({
                    "method": "sso",
                    "reason": reason,
                    "code": code,
                    "detail": detail,
                }))
                .write(&mut tx, staff.map_or(Actor::System, Actor::Staff), now)
                .await?;
            tx.commit().await?;
            Ok::<_, AppError>(())
        }
        .await;
        if let Err(error) = written {
            return error;
        }
        let message = match code {
            "sso.unknown_subject" => "your single sign-on account is not linked to a Custodian account. Ask your Custodian administrator to link it; nothing has been created for you".to_owned(),
            "sso.account_disabled" => "your Custodian account is disabled. Ask your Custodian administrator".to_owned(),
            "sso.account_locked" => "your Custodian account is locked for a while after wrong passwords. Try again later, or ask your Custodian administrator".to_owned(),
            _ => ASK_ADMINISTRATOR.to_owned(),
        };
        AppError::SignInRefused { code, message }
    }

    /// Links the account `staff` to `subject` at the configured provider, or unlinks it.
    #[tracing::instrument(skip(self, caller), fields(staff = %caller.member.id))]
    pub async fn link_sso(
        &self,
        caller: &Caller,
        staff: StaffId,
        subject: Option<&str>,
    ) -> AppResult<()> {
        self.authorize(
            caller,
            custodian_access::Action::ManageAccounts,
            crate::access::Target::Organisation,
        )
        .await?;
        let sso = self.sso().ok_or_else(|| AppError::Rule {
            code: ErrorCode::SsoNotConfigured,
            message: "single sign-on is not configured, so there is nothing to link to".to_owned(),
        })?;
        if let Some(subject) = subject
            && (subject.trim().is_empty() || subject.len() > 255)
        {
            return Err(AppError::Invalid(custodian_core::DomainError::BadFormat {
                field: "subject",
                expected: "the provider's subject identifier (`sub`), 1 to 255 characters",
            }));
        }
        let now = self.clock.now();
        let mut tx = self.register.write().await?;
        if let Some(subject) = subject
            && let Some(holder) = tx.staff_by_sso(sso.issuer(), subject).await?
            && holder.member.id != staff
        {
            return Err(AppError::Rule {
                code: ErrorCode::SsoSubjectTaken,
                message: format!(
                    "that subject is already linked to `{}`; unlink it there first",
                    holder.member.username
                ),
            });
        }
        if !tx
            .link_sso(staff, subject.map(|s| (sso.issuer(), s)))
            .await?
        {
            return Err(AppError::not_found("staff member", staff));
        }
        Audit::change(if subject.is_some() {
            "staff.sso_linked"
        } else {
            "staff.sso_unlinked"
        })
        .detail(serde_json::json!({
            "staff_id": staff,
            "issuer": sso.issuer(),
            "subject": subject,
        }))
        .write(&mut tx, caller.actor(), now)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
