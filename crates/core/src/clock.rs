//! Rules about time that every constructor shares; the core never reads a clock.

use time::{Duration, OffsetDateTime};

use crate::error::DomainError;

/// How far ahead of the server's clock a device's timestamp may be before it counts as "in the
/// future": tablets and phones drift, and refusing a signature made a minute ago helps nobody.
pub const CLOCK_SKEW: Duration = Duration::minutes(2);

/// Refuses `value` if it is later than `now` allows.
pub fn not_in_future(
    field: &'static str,
    value: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<OffsetDateTime, DomainError> {
    if value > now + CLOCK_SKEW {
        return Err(DomainError::InTheFuture {
            field,
            value: Shown(value),
            now: Shown(now),
        });
    }
    Ok(value)
}

/// Refuses `value` if it is later than `now` at all. For moments the server is asked about, such
/// as when a decision is asked as at: no device's clock is involved, so no drift is allowed.
pub fn not_after_now(
    field: &'static str,
    value: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<OffsetDateTime, DomainError> {
    if value > now {
        return Err(DomainError::InTheFuture {
            field,
            value: Shown(value),
            now: Shown(now),
        });
    }
    Ok(value)
}

/// Normalises a timestamp to UTC with microsecond precision, the precision both databases keep, so
/// a value reads back exactly as it was hashed into the audit trail.
pub fn normalise(value: OffsetDateTime) -> OffsetDateTime {
    let utc = value.to_offset(time::UtcOffset::UTC);
    let micros = utc.microsecond();
    utc.replace_microsecond(micros).unwrap_or(utc)
}

/// The UTC calendar day of `moment`: the day retention counts in.
pub fn utc_day(moment: OffsetDateTime) -> time::Date {
    moment.to_offset(time::UtcOffset::UTC).date()
}

/// A moment shown as RFC 3339 (`2026-03-02T09:00:00Z`) in messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shown(pub OffsetDateTime);

impl std::fmt::Display for Shown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self
            .0
            .format(&time::format_description::well_known::Rfc3339)
        {
            Ok(text) => f.write_str(&text),
            Err(_) => write!(f, "{}", self.0),
        }
    }
}

/// A moment as its UTC date and time, which compare as packed integers. Comparing
/// `OffsetDateTime`s directly reconciles offsets on every call, which dominated the decision
/// function's profile; every stored moment is UTC already, so this key is usually free.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct SortKey(time::Date, time::Time);

/// The sort key of `moment`.
#[inline]
pub(crate) fn sort_key(moment: OffsetDateTime) -> SortKey {
    let utc = if moment.offset().is_utc() {
        moment
    } else {
        moment.to_offset(time::UtcOffset::UTC)
    };
    SortKey(utc.date(), utc.time())
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn normalising_drops_nanoseconds_and_moves_to_utc() {
        let value = datetime!(2026-06-01 10:00:00.123456789 +01:00);
        let normal = normalise(value);
        assert_eq!(normal, datetime!(2026-06-01 09:00:00.123456 UTC));
        assert_eq!(normal.offset(), time::UtcOffset::UTC);
    }

    #[test]
    fn sort_keys_order_moments_like_the_moments_themselves() {
        let moments = [
            datetime!(2026-06-01 10:00:00.5 +01:00),
            datetime!(2026-06-01 09:00:00.4 UTC),
            datetime!(2026-05-31 23:59:59.999999 UTC),
            datetime!(2026-06-01 00:30 +02:00),
            datetime!(2025-12-31 23:00 -01:00),
        ];
        for a in moments {
            for b in moments {
                assert_eq!(sort_key(a).cmp(&sort_key(b)), a.cmp(&b), "{a} vs {b}");
            }
        }
    }

    #[test]
    fn small_drift_is_tolerated_but_the_future_is_not() {
        let now = datetime!(2026-06-01 10:00 UTC);
        assert!(not_in_future("signed_at", now + Duration::minutes(1), now).is_ok());
        assert!(not_in_future("signed_at", now + Duration::minutes(3), now).is_err());
    }

    #[test]
    fn a_moment_asked_about_may_not_be_even_a_little_in_the_future() {
        let now = datetime!(2026-06-01 10:00 UTC);
        assert!(not_after_now("at", now, now).is_ok());
        let error = not_after_now("at", now + Duration::seconds(1), now).unwrap_err();
        assert_eq!(
            (error.code(), error.field()),
            ("input.in_the_future", Some("at"))
        );
    }
}
