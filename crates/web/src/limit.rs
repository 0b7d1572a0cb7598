//! Requests limited per client address: sign-in attempts (ASVS 2.2.1), on the password and code
//! steps alike, and refused forgeries, so that neither can flood the register.
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
use axum::http::{Extensions, HeaderMap};
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

/// Refused forgeries (requests whose anti-forgery token is missing or wrong) one client address
/// may have looked up and, for a live sign-in, audited in a minute; beyond it they are refused
/// unread (ASVS 4.2.2 without an audit trail anyone can flood).
const FORGERIES_PER_MINUTE: NonZeroU32 = match NonZeroU32::new(30) {
    Some(n) => n,
    None => NonZeroU32::MIN,
};

/// Counts requests of one kind per client address.
pub struct AddressLimiter {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    /// One log line a minute per address: the log must not become the flood.
    log_sample: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
    trust_forwarded_for: bool,
    /// What is counted, for the log: "sign-in attempts".
    counted: &'static str,
}

impl std::fmt::Debug for AddressLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AddressLimiter")
            .field("counted", &self.counted)
            .field("trust_forwarded_for", &self.trust_forwarded_for)
            .finish_non_exhaustive()
    }
}

impl AddressLimiter {
    /// Sign-in attempts, as `limit` says.
    pub fn sign_ins(limit: SignInLimit) -> Self {
        Self::new(
            limit.attempts_per_minute,
            limit.trust_forwarded_for,
            "sign-in attempts",
        )
    }

    /// Refused forgeries, with the client's address found as for sign-ins.
    pub fn forgeries(limit: SignInLimit) -> Self {
        Self::new(
            FORGERIES_PER_MINUTE,
            limit.trust_forwarded_for,
            "forged requests",
        )
    }

    fn new(per_minute: NonZeroU32, trust_forwarded_for: bool, counted: &'static str) -> Self {
        Self {
            limiter: RateLimiter::keyed(Quota::per_minute(per_minute)),
            log_sample: RateLimiter::keyed(Quota::per_minute(NonZeroU32::MIN)),
            clock: DefaultClock::default(),
            trust_forwarded_for,
            counted,
        }
    }

    /// Counts a request from the client sending `parts`; if it has sent too many, how long it
    /// must wait (whole seconds, at least one).
    pub fn attempt(&self, parts: &Parts) -> Result<(), u64> {
        self.attempt_from(&parts.headers, &parts.extensions)
    }

    /// As [`Self::attempt`], for a handler that holds the request's headers and extensions.
    pub fn attempt_from(&self, headers: &HeaderMap, extensions: &Extensions) -> Result<(), u64> {
        let client = self.client(headers, extensions);
        let result = self.limiter.check_key(&client).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
        });
        if self.limiter.len() > FORGET_AFTER {
            self.limiter.retain_recent();
            self.log_sample.retain_recent();
        }
        match result {
            Ok(()) => Ok(()),
            Err(seconds) => {
                if self.log_sample.check_key(&client).is_ok() {
                    tracing::warn!(%client, counted = self.counted, "refused: too many from one address (logged once a minute per address)");
                }
                Err(seconds.max(1))
            }
        }
    }

    /// The client's address: the connection's peer, or the proxy's word for it when trusted.
    fn client(&self, headers: &HeaderMap, extensions: &Extensions) -> IpAddr {
        let forwarded = self
            .trust_forwarded_for
            .then(|| {
                headers
                    .get_all("x-forwarded-for")
                    .iter()
                    .filter_map(|value| value.to_str().ok())
                    .flat_map(|value| value.split(','))
                    .filter_map(|address| address.trim().parse::<IpAddr>().ok())
                    .next_back()
            })
            .flatten();
        forwarded.unwrap_or_else(|| {
            extensions
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
        let limiter = AddressLimiter::sign_ins(SignInLimit {
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
        let limiter = AddressLimiter::sign_ins(SignInLimit {
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
