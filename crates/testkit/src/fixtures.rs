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

/// Synthetic MP4-looking media of `size` bytes: an `ftyp` box, then pseudo-random bytes from
/// `seed`. Its type is recognised from its first bytes; its content is noise.
pub fn mp4(size: usize, seed: u64) -> Vec<u8> {
    let mut bytes = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom".to_vec();
    let mut state = seed | 1;
    while bytes.len() < size {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        bytes.extend_from_slice(&state.to_le_bytes());
    }
    bytes.truncate(size);
    bytes
}

/// A synthetic JPEG-looking photograph of `size` bytes.
pub fn jpeg(size: usize, seed: u64) -> Vec<u8> {
    let mut bytes = mp4(size, seed);
    bytes.splice(
        0..10,
        [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F'],
    );
    bytes.truncate(size);
    bytes
}

/// The SHA-256 of `bytes`, as lowercase hex (how the register records an original's hash).
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
