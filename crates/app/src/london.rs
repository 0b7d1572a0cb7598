//! Moments as people in the UK read them: Europe/London, with GMT or BST named.

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, UtcOffset, Weekday};

/// The last Sunday of `month` in `year`, when UK clocks change.
fn last_sunday(year: i32, month: Month) -> Option<Date> {
    let mut day =
        Date::from_calendar_date(year, month, time::util::days_in_month(month, year)).ok()?;
    while day.weekday() != Weekday::Sunday {
        day = day.previous_day()?;
    }
    Some(day)
}

/// Whether British Summer Time applies at `at`: from 01:00 UTC on the last Sunday of March
/// to 01:00 UTC on the last Sunday of October (the rule since 1996).
pub fn is_british_summer_time(at: OffsetDateTime) -> bool {
    let utc = at.to_offset(UtcOffset::UTC);
    let year = utc.year();
    let start =
        last_sunday(year, Month::March).map(|d| d.with_hms(1, 0, 0).map(|t| t.assume_utc()));
    let end =
        last_sunday(year, Month::October).map(|d| d.with_hms(1, 0, 0).map(|t| t.assume_utc()));
    match (start, end) {
        (Some(Ok(start)), Some(Ok(end))) => utc >= start && utc < end,
        _ => false,
    }
}

/// `at` on the UK clock.
pub fn in_london(at: OffsetDateTime) -> OffsetDateTime {
    let offset = if is_british_summer_time(at) {
        UtcOffset::from_hms(1, 0, 0).unwrap_or(UtcOffset::UTC)
    } else {
        UtcOffset::UTC
    };
    at.to_offset(offset)
}

/// The moment a UK clock showed `local`. In the autumn's repeated hour the earlier (BST) moment
/// is taken; a time in the spring's skipped hour is read as GMT.
pub fn from_london(local: PrimitiveDateTime) -> OffsetDateTime {
    let as_utc = local.assume_utc();
    let if_summer = as_utc - time::Duration::HOUR;
    if is_british_summer_time(if_summer) {
        if_summer
    } else {
        as_utc
    }
}

/// "3 March 2026 at 14:05 GMT".
pub fn london_time(at: OffsetDateTime) -> String {
    let local = in_london(at);
    let zone = if is_british_summer_time(at) {
        "BST"
    } else {
        "GMT"
    };
    let format = time::macros::format_description!(
        "[day padding:none] [month repr:long] [year] at [hour]:[minute]"
    );
    match local.format(&format) {
        Ok(text) => format!("{text} {zone}"),
        Err(_) => at.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn clocks_change_at_one_in_the_morning_utc_on_the_last_sundays() {
        // 2026: BST from 29 March 01:00 UTC to 25 October 01:00 UTC.
        assert!(!is_british_summer_time(datetime!(2026-03-29 00:59:59 UTC)));
        assert!(is_british_summer_time(datetime!(2026-03-29 01:00 UTC)));
        assert!(is_british_summer_time(datetime!(2026-10-25 00:59:59 UTC)));
        assert!(!is_british_summer_time(datetime!(2026-10-25 01:00 UTC)));
    }

    #[test]
    fn a_uk_clock_time_is_read_back_to_the_moment_it_showed() {
        use time::macros::datetime as local;
        assert_eq!(
            from_london(local!(2026-07-01 14:05)),
            datetime!(2026-07-01 13:05 UTC)
        );
        assert_eq!(
            from_london(local!(2026-12-01 13:05)),
            datetime!(2026-12-01 13:05 UTC)
        );
        // 01:30 happens twice on 25 October 2026; the first is BST.
        assert_eq!(
            from_london(local!(2026-10-25 01:30)),
            datetime!(2026-10-25 00:30 UTC)
        );
        for moment in [
            datetime!(2026-03-29 02:30 UTC),
            datetime!(2026-11-23 09:00 UTC),
        ] {
            let shown = in_london(moment);
            let local = PrimitiveDateTime::new(shown.date(), shown.time());
            assert_eq!(from_london(local), moment);
        }
    }

    #[test]
    fn times_read_as_on_a_uk_clock() {
        assert_eq!(
            london_time(datetime!(2026-07-01 13:05 UTC)),
            "1 July 2026 at 14:05 BST"
        );
        assert_eq!(
            london_time(datetime!(2026-12-01 13:05 UTC)),
            "1 December 2026 at 13:05 GMT"
        );
        assert_eq!(
            london_time(datetime!(2026-06-30 23:30 UTC)),
            "1 July 2026 at 00:30 BST"
        );
    }
}
