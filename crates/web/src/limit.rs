//! Sign-in attempts limited per client address (ASVS 2.2.1), on the password and code steps alike.
//!
//! Built on `governor` (GCRA, one small cell per address, no background task) rather than
//! `tower_governor`: the limit applies to three handlers only (the sign-in form, the code form and
//! the API's sign-in), a refusal must be a page for forms and a problem detail for the API, and
//! `X-Forwarded-For` must be ignored unless the operator says a proxy sets it, which the layer's
//! extractors do not offer as a switch.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::http::request::Parts;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Addresses remembered before those with nothing left to wait for are forgotten.
const FORGET_AFTER: usize = 10_000;

/// How sign-in attempts are limited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignInLimit {
    /// Attempts one client address may make in a minute (a burst of as many, refilled evenly).
    pub attempts_per_minute: NonZeroU32,
    /// Whether the last address in `X-Forwarded-For` is the client's: only behind a proxy that
    /// sets it. Otherwise anyone could claim a new address with every attempt.
    pub trust_forwarded_for: bool,
}

impl Default for SignInLimit {
    fn default() -> Self {
        Self {
            attempts_per_minute: NonZeroU32::new(20).unwrap_or(NonZeroU32::MIN),
            trust_forwarded_for: false,
        }
    }
}

/// Counts sign-in attempts per client address.
pub struct SignInLimiter {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
    trust_forwarded_for: bool,
}

impl std::fmt::Debug for SignInLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignInLimiter")
            .field("trust_forwarded_for", &self.trust_forwarded_for)
            .finish_non_exhaustive()
    }
}

impl SignInLimiter {
    pub fn new(limit: SignInLimit) -> Self {
        Self {
            limiter: RateLimiter::keyed(Quota::per_minute(limit.attempts_per_minute)),
            clock: DefaultClock::default(),
            trust_forwarded_for: limit.trust_forwarded_for,
        }
    }

    /// Counts an attempt from the client sending `parts`; if it has made too many, how long it
    /// must wait (whole seconds, at least one).
    pub fn attempt(&self, parts: &Parts) -> Result<(), u64> {
        let client = self.client(parts);
        let result = self.limiter.check_key(&client).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
        });
        if self.limiter.len() > FORGET_AFTER {
            self.limiter.retain_recent();
        }
        match result {
            Ok(()) => Ok(()),
            Err(seconds) => {
                tracing::warn!(%client, seconds, "sign-in attempts refused: too many from one address");
                Err(seconds.max(1))
            }
        }
    }

    /// The client's address: the connection's peer, or the proxy's word for it when trusted.
    fn client(&self, parts: &Parts) -> IpAddr {
        let forwarded = self
            .trust_forwarded_for
            .then(|| {
                parts
                    .headers
                    .get_all("x-forwarded-for")
                    .iter()
                    .filter_map(|value| value.to_str().ok())
                    .flat_map(|value| value.split(','))
                    .filter_map(|address| address.trim().parse::<IpAddr>().ok())
                    .next_back()
            })
            .flatten();
        forwarded.unwrap_or_else(|| {
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |ConnectInfo(peer)| {
                    peer.ip()
                })
        })
    }
}

/// The `Retry-After` wait as a duration (for messages).
pub fn wait_words(seconds: u64) -> String {
    let wait = Duration::from_secs(seconds);
    match wait.as_secs() {
        1 => "a second".to_owned(),
        n if n < 90 => format!("{n} seconds"),
        n => format!("{} minutes", n.div_ceil(60)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn from(peer: &str, forwarded: Option<&str>) -> Parts {
        let mut request = axum::http::Request::post("/sign-in");
        if let Some(forwarded) = forwarded {
            request = request.header("x-forwarded-for", forwarded);
        }
        let (mut parts, ()) = request.body(()).unwrap().into_parts();
        parts
            .extensions
            .insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
        parts
    }

    #[test]
    fn asvs_2_2_1_attempts_beyond_the_limit_wait_and_other_addresses_do_not() {
        let limiter = SignInLimiter::new(SignInLimit {
            attempts_per_minute: NonZeroU32::new(3).unwrap(),
            trust_forwarded_for: false,
        });
        for _ in 0..3 {
            assert!(limiter.attempt(&from("10.0.0.1:5000", None)).is_ok());
        }
        let wait = limiter.attempt(&from("10.0.0.1:5001", None)).unwrap_err();
        assert!((1..=20).contains(&wait), "{wait}");
        assert!(limiter.attempt(&from("10.0.0.2:5000", None)).is_ok());
        // Untrusted, a forwarded address changes nothing.
        assert!(
            limiter
                .attempt(&from("10.0.0.1:5000", Some("192.0.2.9")))
                .is_err()
        );
    }

    #[test]
    fn a_trusted_proxy_names_the_client_in_the_last_forwarded_address() {
        let limiter = SignInLimiter::new(SignInLimit {
            attempts_per_minute: NonZeroU32::new(1).unwrap(),
            trust_forwarded_for: true,
        });
        let proxy = "10.0.0.254:443";
        assert!(
            limiter
                .attempt(&from(proxy, Some("198.51.100.1, 192.0.2.1")))
                .is_ok()
        );
        assert!(limiter.attempt(&from(proxy, Some("192.0.2.1"))).is_err());
        assert!(limiter.attempt(&from(proxy, Some("192.0.2.2"))).is_ok());
        assert_eq!(wait_words(1), "a second");
        assert_eq!(wait_words(45), "45 seconds");
        assert_eq!(wait_words(150), "3 minutes");
    }
}
