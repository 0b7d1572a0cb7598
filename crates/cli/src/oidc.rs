//! The `[oidc]` settings: single sign-on with the organisation's OpenID provider, off unless set.

use custodian_app::Secret;
use custodian_app::sso::SsoSettings;
use serde::{Deserialize, Serialize};

use crate::CliError;

/// The environment variable holding the client secret; it is never read from the file.
pub const CLIENT_SECRET_VARIABLE: &str = "CUSTODIAN_OIDC_CLIENT_SECRET";

/// How Custodian is registered with the OpenID provider. Unknown keys are refused, so a
/// `client_secret` written into the file is an error instead of a secret left on disk.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcSettings {
    /// The provider's issuer URL, such as `https://login.example.nhs.uk/realms/trust`.
    pub issuer: String,
    /// Custodian's client id at the provider.
    pub client_id: String,
    /// Custodian's address as browsers reach it; the provider sends them back to
    /// `<public_url>/sign-in/sso/callback`, which must be registered with it.
    pub public_url: String,
    /// The sign-in page's button.
    #[serde(default = "default_label")]
    pub label: String,
}

fn default_label() -> String {
    "Sign in with your organisation's account".to_owned()
}

impl OidcSettings {
    /// The application's settings, with the client secret from the environment.
    pub fn sso(&self) -> Result<SsoSettings, CliError> {
        let client_secret = std::env::var(CLIENT_SECRET_VARIABLE)
            .ok()
            .filter(|s| !s.trim().is_empty())
            .map(Secret::from);
        if self.label.trim().is_empty() {
            return Err(CliError::Settings(
                "oidc.label, the sign-in button's words, must not be empty".to_owned(),
            ));
        }
        Ok(SsoSettings {
            issuer: self.issuer.clone(),
            client_id: self.client_id.clone(),
            client_secret,
            public_url: self.public_url.clone(),
            label: self.label.clone(),
        })
    }
}
