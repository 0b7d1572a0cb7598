//! Time-based one-time passwords (RFC 6238): the second factor staff prove with an authenticator app.
//!
//! Built on `totp-rs`: a small, maintained crate that does the RFC's HMAC and truncation, checks a
//! code within a window and says which time-step matched, which is what replay prevention needs
//! (a step is accepted once per account; the register remembers used steps). Codes are six digits,
//! HMAC-SHA-1, 30-second steps, one step of skew either side: what every authenticator app
//! supports. There is no clock here: every check is given the moment to check at.

use std::fmt;

use time::OffsetDateTime;
use totp_rs::{Builder, Totp};

/// Seconds in one time-step.
pub const STEP_SECONDS: u64 = 30;
/// Time-steps accepted either side of the current one, for clocks that drift (RFC 6238 §5.2).
pub const SKEW_STEPS: u16 = 1;
/// Bytes of secret: 160 bits, as RFC 4226 recommends.
pub const SECRET_BYTES: usize = 20;
/// Digits in a code.
pub const DIGITS: u8 = 6;
/// The name authenticator apps show beside the account.
pub const ISSUER: &str = "Custodian";

/// An account's shared secret. Its `Debug` hides the value, so it never reaches a log by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret(Vec<u8>);

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSecret(***)")
    }
}

impl TotpSecret {
    /// A secret from its bytes (random ones, or read back from the register); `None` if it is
    /// shorter than the RFC's minimum of 128 bits.
    pub fn from_bytes(bytes: Vec<u8>) -> Option<Self> {
        (bytes.len() >= 16).then_some(Self(bytes))
    }

    /// A secret from the Base32 text an authenticator app is given; spaces are ignored.
    pub fn from_base32(text: &str) -> Option<Self> {
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        totp_rs::Secret::try_from_base32(compact.to_ascii_uppercase())
            .ok()
            .and_then(|secret| Self::from_bytes(secret.as_bytes().to_vec()))
    }

    /// The secret's bytes, to seal for storage.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The secret as Base32, as authenticator apps take it when typed in.
    pub fn base32(&self) -> String {
        totp_rs::Secret::from(self.0.clone()).to_base32()
    }

    /// The Base32 text in groups of four, easier to read and type.
    pub fn base32_grouped(&self) -> String {
        let text = self.base32();
        let characters: Vec<char> = text.chars().collect();
        characters
            .chunks(4)
            .map(|group| group.iter().collect::<String>())
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn totp(&self, account: &str) -> Totp {
        Builder::new()
            .with_digits(DIGITS)
            .with_skew(SKEW_STEPS)
            .with_step_duration(STEP_SECONDS)
            .with_secret(self.0.clone())
            .with_issuer(Some(ISSUER))
            .with_account_name(account.replace(':', "."))
            .build_noncompliant()
    }

    /// The `otpauth://` address a QR code carries, naming the account and Custodian.
    pub fn otpauth_url(&self, account: &str) -> Option<String> {
        self.totp(account).to_url().ok()
    }

    /// The code an authenticator shows at `at` (for tests and tools; never needed to check one).
    pub fn code_at(&self, at: OffsetDateTime) -> String {
        self.totp("").generate(unix_seconds(at)).to_string()
    }

    /// The time-step a code belongs to, if it is this secret's code at `at` or one step either
    /// side. Spaces and hyphens in the code are ignored ("123 456"). The caller must refuse a step
    /// the account has used already.
    pub fn verify(&self, code: &str, at: OffsetDateTime) -> Option<TimeStep> {
        let code: String = code
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        if code.len() != usize::from(DIGITS) || !code.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        self.totp("")
            .check(&code, unix_seconds(at))
            .and_then(|step| i64::try_from(step).ok())
            .map(TimeStep)
    }
}

/// A 30-second time-step since the Unix epoch: each is used at most once per account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct TimeStep(pub i64);

impl TimeStep {
    /// The step `at` falls in.
    pub fn at(at: OffsetDateTime) -> Self {
        Self(at.unix_timestamp().div_euclid(STEP_SECONDS as i64))
    }

    /// The first moment of this step.
    pub fn starts_at(self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(self.0.saturating_mul(STEP_SECONDS as i64))
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
}

fn unix_seconds(at: OffsetDateTime) -> u64 {
    u64::try_from(at.unix_timestamp()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use time::Duration;
    use time::macros::datetime;

    /// RFC 6238 appendix B: the SHA-1 secret "12345678901234567890".
    fn rfc_secret() -> TotpSecret {
        TotpSecret::from_bytes(b"12345678901234567890".to_vec()).unwrap()
    }

    #[test]
    fn rfc_6238_test_vectors_give_the_published_codes() {
        // The RFC's eight-digit codes end in these six digits.
        for (unix, code) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_111_111_111, "050471"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
        ] {
            let at = OffsetDateTime::from_unix_timestamp(unix).unwrap();
            assert_eq!(rfc_secret().code_at(at), code, "at {unix}");
            assert_eq!(
                rfc_secret().verify(code, at),
                Some(TimeStep(unix / 30)),
                "at {unix}"
            );
        }
    }

    #[test]
    fn asvs_2_8_a_code_is_accepted_one_step_either_side_and_no_further() {
        let secret = rfc_secret();
        let at = datetime!(2026-11-28 09:00:10 UTC);
        let code = secret.code_at(at);
        let step = TimeStep::at(at);
        assert_eq!(secret.verify(&code, at), Some(step));
        assert_eq!(secret.verify(&code, at + Duration::seconds(30)), Some(step));
        assert_eq!(secret.verify(&code, at - Duration::seconds(30)), Some(step));
        assert_eq!(secret.verify(&code, at + Duration::seconds(60)), None);
        assert_eq!(secret.verify(&code, at - Duration::seconds(60)), None);
    }

    #[test]
    fn codes_may_be_typed_with_spaces_but_must_be_six_digits() {
        let secret = rfc_secret();
        let at = datetime!(2026-11-28 09:00:10 UTC);
        let code = secret.code_at(at);
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert!(secret.verify(&spaced, at).is_some());
        assert!(secret.verify("", at).is_none());
        assert!(secret.verify("12345", at).is_none());
        assert!(secret.verify("abcdef", at).is_none());
        assert!(secret.verify(&format!("{code}0"), at).is_none());
        let wrong = format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000);
        assert!(secret.verify(&wrong, at).is_none());
    }

    #[test]
    fn secrets_read_back_from_base32_and_never_show_in_debug_output() {
        let secret = rfc_secret();
        assert_eq!(secret.base32(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(
            TotpSecret::from_base32(&secret.base32_grouped().to_lowercase()),
            Some(secret.clone())
        );
        assert_eq!(format!("{secret:?}"), "TotpSecret(***)");
        assert!(TotpSecret::from_bytes(vec![1; 15]).is_none());
        let url = secret.otpauth_url("a.clinician").unwrap();
        assert!(
            url.starts_with("otpauth://totp/Custodian:a.clinician?"),
            "{url}"
        );
        assert!(
            url.contains("secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"),
            "{url}"
        );
        assert!(url.contains("issuer=Custodian"), "{url}");
    }

    #[test]
    fn time_steps_are_thirty_seconds_from_the_epoch() {
        let at = datetime!(2026-11-28 09:00:29 UTC);
        assert_eq!(TimeStep::at(at), TimeStep(at.unix_timestamp() / 30));
        assert_eq!(
            TimeStep::at(at).starts_at(),
            datetime!(2026-11-28 09:00:00 UTC)
        );
    }
}
