//! Secrets shown once (sign-in cookies, API tokens, one-time passwords): made at random, never logged, compared in constant time.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::{AppError, AppResult};

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

/// Whether two secrets are equal, taking the same time wherever they differ.
pub(crate) fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
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
}
