//! How long a rule keeps a recording after its trigger: years, months and days, never negative or absurd.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::macros::date;
use time::{Date, Month};

use crate::error::DomainError;

/// A retention period as written in a schedule (D4): "8 years", "20 years", "1 year", "0 days".
/// It can only hold a period from zero up to [`RetentionPeriod::MAX_YEARS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "PeriodSpec", into = "PeriodSpec")]
pub struct RetentionPeriod {
    years: u16,
    months: u16,
    days: u16,
}

/// A period as it arrives from configuration, before it is checked: signed, so that a negative
/// number is refused with a message rather than a parser's "invalid digit".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeriodSpec {
    #[serde(default)]
    pub years: i64,
    #[serde(default)]
    pub months: i64,
    #[serde(default)]
    pub days: i64,
}

impl RetentionPeriod {
    /// No record needs keeping for longer than this; a larger figure is a typing mistake
    /// (days entered as years, an extra digit).
    pub const MAX_YEARS: u16 = 100;

    /// The longest period accepted.
    const LONGEST: Self = Self::years(Self::MAX_YEARS);

    /// Acting as soon as the trigger happens.
    pub const NONE: Self = Self {
        years: 0,
        months: 0,
        days: 0,
    };

    /// Checks a period for the rule named `rule`, refusing a negative part or a total beyond
    /// [`Self::MAX_YEARS`] with a message that names the rule.
    pub fn new(rule: &str, spec: PeriodSpec) -> Result<Self, DomainError> {
        let PeriodSpec {
            years,
            months,
            days,
        } = spec;
        if years < 0 || months < 0 || days < 0 {
            return Err(DomainError::NegativeRetentionPeriod {
                rule: rule.to_owned(),
                years,
                months,
                days,
            });
        }
        let absurd = || DomainError::AbsurdRetentionPeriod {
            rule: rule.to_owned(),
            years,
            months,
            days,
            max_years: Self::MAX_YEARS,
        };
        let period = Self {
            years: u16::try_from(years).map_err(|_| absurd())?,
            months: u16::try_from(months).map_err(|_| absurd())?,
            days: u16::try_from(days).map_err(|_| absurd())?,
        };
        if Self::LONGEST.is_shorter_than(period) {
            return Err(absurd());
        }
        Ok(period)
    }

    /// A period of whole years, for the shipped schedule.
    pub(crate) const fn years(years: u16) -> Self {
        Self {
            years,
            months: 0,
            days: 0,
        }
    }

    /// The date this period after `start`. A day the target month lacks (29 February in a
    /// common year, 31 April) moves forward to the 1st of the next month, never back: a
    /// minimum keep period must not end a day early.
    pub fn after(self, start: Date) -> Date {
        let total_months = i32::from(start.month() as u8) - 1
            + i32::from(self.months)
            + 12 * i32::from(self.years);
        let year = start.year() + total_months.div_euclid(12);
        let month = month_from_index(total_months.rem_euclid(12));
        let shifted = calendar_date_or_next(year, month, start.day());
        shifted
            .checked_add(time::Duration::days(i64::from(self.days)))
            .unwrap_or(Date::MAX)
    }

    /// Whether this period keeps a recording for less time than `other`, measured from one fixed
    /// date so that "1200 months" and "36525 days" compare as the calendar says.
    pub fn is_shorter_than(self, other: Self) -> bool {
        let start = date!(2000 - 01 - 01);
        self.after(start) < other.after(start)
    }

    /// Whether the period is zero: the rule acts as soon as its trigger happens.
    pub const fn is_none(self) -> bool {
        self.years == 0 && self.months == 0 && self.days == 0
    }
}

impl TryFrom<PeriodSpec> for RetentionPeriod {
    type Error = DomainError;

    fn try_from(spec: PeriodSpec) -> Result<Self, Self::Error> {
        Self::new("(unnamed)", spec)
    }
}

impl From<RetentionPeriod> for PeriodSpec {
    fn from(period: RetentionPeriod) -> Self {
        Self {
            years: i64::from(period.years),
            months: i64::from(period.months),
            days: i64::from(period.days),
        }
    }
}

impl fmt::Display for RetentionPeriod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_none() {
            return f.write_str("no time");
        }
        let parts: Vec<String> = [
            (self.years, "year"),
            (self.months, "month"),
            (self.days, "day"),
        ]
        .into_iter()
        .filter(|(count, _)| *count > 0)
        .map(|(count, unit)| match count {
            1 => format!("1 {unit}"),
            _ => format!("{count} {unit}s"),
        })
        .collect();
        match parts.split_last() {
            Some((last, rest)) if !rest.is_empty() => write!(f, "{} and {last}", rest.join(", ")),
            Some((last, _)) => f.write_str(last),
            None => Ok(()),
        }
    }
}

/// The calendar date, or the 1st of the following month when `day` does not exist in `month`.
pub(crate) fn calendar_date_or_next(year: i32, month: Month, day: u8) -> Date {
    Date::from_calendar_date(year, month, day)
        .or_else(|_| {
            let next_year = if month == Month::December {
                year + 1
            } else {
                year
            };
            Date::from_calendar_date(next_year, month.next(), 1)
        })
        .unwrap_or(Date::MAX)
}

fn month_from_index(index: i32) -> Month {
    let mut month = Month::January;
    for _ in 0..index {
        month = month.next();
    }
    month
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(years: i64, months: i64, days: i64) -> PeriodSpec {
        PeriodSpec {
            years,
            months,
            days,
        }
    }

    #[test]
    fn d4_a_negative_period_is_refused_and_names_the_rule() {
        let error = RetentionPeriod::new("rm-adult-care", spec(-8, 0, 0)).unwrap_err();
        assert_eq!(error.code(), "retention.negative_period");
        assert_eq!(error.requirement(), Some(crate::Requirement::D4));
        assert!(error.to_string().contains("`rm-adult-care`"), "{error}");
    }

    #[test]
    fn d4_an_absurd_period_is_refused_however_it_is_written() {
        for absurd in [
            spec(101, 0, 0),
            spec(0, 1201, 0),
            spec(0, 0, 40_000),
            spec(100, 0, 1),
        ] {
            let error = RetentionPeriod::new("d2-review", absurd).unwrap_err();
            assert_eq!(error.code(), "retention.absurd_period", "{absurd:?}");
            assert!(error.to_string().contains("100 years"), "{error}");
        }
        let huge = RetentionPeriod::new("d2-review", spec(i64::MAX, 0, 0)).unwrap_err();
        assert_eq!(huge.code(), "retention.absurd_period");
        assert!(RetentionPeriod::new("rm-mental-health", spec(100, 0, 0)).is_ok());
    }

    #[test]
    fn periods_add_calendar_years_and_never_end_a_day_early() {
        let eight = RetentionPeriod::years(8);
        assert_eq!(eight.after(date!(2026 - 03 - 02)), date!(2034 - 03 - 02));
        // 29 February 2028 + 1 year: there is no 29 February 2029, so 1 March.
        assert_eq!(
            RetentionPeriod::years(1).after(date!(2028 - 02 - 29)),
            date!(2029 - 03 - 01)
        );
        let month = RetentionPeriod::new("x", spec(0, 1, 0)).unwrap();
        assert_eq!(month.after(date!(2026 - 01 - 31)), date!(2026 - 03 - 01));
        assert_eq!(month.after(date!(2026 - 12 - 15)), date!(2027 - 01 - 15));
        let mixed = RetentionPeriod::new("x", spec(1, 2, 3)).unwrap();
        assert_eq!(mixed.after(date!(2026 - 11 - 30)), date!(2028 - 02 - 02));
        assert_eq!(
            RetentionPeriod::NONE.after(date!(2026 - 03 - 02)),
            date!(2026 - 03 - 02)
        );
    }

    #[test]
    fn periods_read_as_words_and_round_trip_through_configuration() {
        assert_eq!(RetentionPeriod::years(8).to_string(), "8 years");
        assert_eq!(
            RetentionPeriod::new("x", spec(1, 6, 1))
                .unwrap()
                .to_string(),
            "1 year, 6 months and 1 day"
        );
        assert_eq!(RetentionPeriod::NONE.to_string(), "no time");
        let json = serde_json::to_string(&RetentionPeriod::years(20)).unwrap();
        assert_eq!(json, r#"{"years":20,"months":0,"days":0}"#);
        let back: RetentionPeriod = serde_json::from_str(r#"{"years":20}"#).unwrap();
        assert_eq!(back, RetentionPeriod::years(20));
        let refused = serde_json::from_str::<RetentionPeriod>(r#"{"days":-1}"#).unwrap_err();
        assert!(
            refused.to_string().contains("must not be negative"),
            "{refused}"
        );
    }
}
