//! Synthetic values for tests: NHS numbers from the 999 test range, times relative to now.

use std::sync::atomic::{AtomicU64, Ordering};

use custodian_core::nhs_number::check_digit;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

static NEXT: AtomicU64 = AtomicU64::new(0);

/// A valid NHS number in the 999 test range, different on every call within a test run.
pub fn nhs_number() -> String {
    let process = u64::from(std::process::id()) % 100;
    loop {
        let serial = NEXT.fetch_add(1, Ordering::Relaxed);
        let tail = format!("{:06}", (process * 10_000 + serial * 7919) % 1_000_000);
        let mut nine = [9u8, 9, 9, 0, 0, 0, 0, 0, 0];
        for (slot, digit) in nine.iter_mut().skip(3).zip(tail.bytes()) {
            *slot = digit - b'0';
        }
        if let Some(check) = check_digit(&nine) {
            return nine
                .iter()
                .chain(std::iter::once(&check))
                .map(|d| char::from(b'0' + d))
                .collect();
        }
    }
}

/// A moment `minutes` from now (negative: in the past), as RFC 3339.
pub fn minutes_from_now(minutes: i64) -> String {
    (OffsetDateTime::now_utc() + Duration::minutes(minutes))
        .format(&Rfc3339)
        .unwrap()
}
