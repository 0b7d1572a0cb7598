//! The events that start a retention period, and when each has happened for a recording.

use time::Date;

use crate::clock::utc_day;
use crate::retention::facts::RecordingFacts;
use crate::retention::period::calendar_date_or_next;
use crate::vocabulary::vocabulary;

vocabulary! {
    /// What starts a rule's period (D1–D8). A trigger that has not happened keeps the rule waiting.
    pub enum Trigger ("retention trigger") {
        /// The recording was made.
        Created = "created", "the recording was made";
        /// The episode of care ended, or the last contact; death ends care too.
        EndOfCare = "end_of_care", "the end of care or last contact";
        /// The 25th birthday, or the 26th if the person was 17 when care ended (RM Code, children's records).
        ChildhoodBirthday = "birthday_25_or_26", "the 25th birthday (26th if 17 when care ended)";
        /// The person died.
        Death = "death", "the person's death";
        /// A review, or the clinician's discretion, found it no longer relevant (D2, D8).
        NoLongerRelevant = "no_longer_relevant", "a review finding it no longer relevant";
        /// A newer identification photograph replaced it (D1).
        Superseded = "superseded", "a newer identification photograph";
        /// The person left the service (D3).
        LeftService = "left_service", "the person leaving the service";
        /// A transcript or summary was made for the care record (D5).
        TranscriptMade = "transcript_made", "a transcript or summary in the care record";
        /// The person asked for deletion, counted from the end of the episode of care (D6).
        DeletionRequested = "deletion_requested", "the person's request for deletion after the episode of care";
    }
}

impl Trigger {
    /// The date the trigger happened (or, for the birthday rule, the birthday it fixed), if it
    /// has happened by `today`.
    pub fn fired_on(self, facts: &RecordingFacts, today: Date) -> Option<Date> {
        let happened = |date: Option<Date>| date.filter(|d| *d <= today);
        match self {
            Self::Created => Some(utc_day(facts.made_at)),
            Self::EndOfCare => care_ended_on(facts, today),
            Self::ChildhoodBirthday => {
                let ended = care_ended_on(facts, today)?;
                let born = facts.date_of_birth?;
                Some(childhood_birthday(born, ended))
            }
            Self::Death => happened(facts.died_on),
            Self::NoLongerRelevant => happened(facts.found_no_longer_relevant_on),
            Self::Superseded => happened(facts.superseded_on),
            Self::LeftService => happened(facts.left_service_on),
            Self::TranscriptMade => happened(facts.transcript_made_on),
            // "after an episode of care" (001 §6.2): a request made during care waits for its end.
            Self::DeletionRequested => {
                let asked = happened(facts.deletion_requested_on)?;
                let ended = care_ended_on(facts, today)?;
                Some(asked.max(ended))
            }
        }
    }

    /// What is missing for the trigger to fire, in words, when it is not simply an event still to come.
    pub fn missing(self, facts: &RecordingFacts, today: Date) -> Option<&'static str> {
        match self {
            Self::ChildhoodBirthday
                if facts.date_of_birth.is_none() && care_ended_on(facts, today).is_some() =>
            {
                Some(
                    "the date of birth is not recorded, so the 25th/26th birthday cannot be worked out",
                )
            }
            Self::DeletionRequested
                if facts.deletion_requested_on.is_some_and(|d| d <= today)
                    && care_ended_on(facts, today).is_none() =>
            {
                Some("the person asked for deletion; it can follow once the episode of care ends")
            }
            _ => None,
        }
    }
}

/// The RM Code's children's rule: the 25th birthday, or the 26th if the young person was 17
/// when care ended. Care ending after the birthday (someone still seen at 25) moves it to the
/// end of care, so a record is never due while care goes on.
pub fn childhood_birthday(born: Date, care_ended: Date) -> Date {
    let birthday = if age_on(born, care_ended) == 17 {
        birthday(born, 26)
    } else {
        birthday(born, 25)
    };
    birthday.max(care_ended)
}

/// The person's age in whole years on `day`.
pub fn age_on(born: Date, day: Date) -> i32 {
    let before_birthday = (day.month() as u8, day.day()) < (born.month() as u8, born.day());
    day.year() - born.year() - i32::from(before_birthday)
}

/// The `age`th birthday. Someone born on 29 February has it on 1 March in a common year, as
/// English law counts ages, which also never ends a keep period early.
fn birthday(born: Date, age: i32) -> Date {
    calendar_date_or_next(born.year() + age, born.month(), born.day())
}

/// Care ends at the end of the episode or last contact, or at death if that came first.
fn care_ended_on(facts: &RecordingFacts, today: Date) -> Option<Date> {
    [facts.care_ended_on, facts.died_on]
        .into_iter()
        .flatten()
        .filter(|d| *d <= today)
        .min()
}

#[cfg(test)]
mod tests {
    use time::macros::{date, datetime};

    use super::*;
    use crate::purpose::{Purpose, PurposeSet};

    #[test]
    fn rm_code_ages_count_whole_years_and_leap_day_birthdays_fall_on_1_march() {
        let born = date!(2008 - 02 - 29);
        assert_eq!(age_on(born, date!(2025 - 02 - 28)), 16);
        assert_eq!(age_on(born, date!(2025 - 03 - 01)), 17);
        assert_eq!(birthday(born, 25), date!(2033 - 03 - 01));
        assert_eq!(birthday(born, 26), date!(2034 - 03 - 01));
        assert_eq!(birthday(date!(2010 - 06 - 15), 25), date!(2035 - 06 - 15));
    }

    #[test]
    fn rm_code_the_birthday_is_the_26th_only_when_care_ended_at_17() {
        let born = date!(2009 - 06 - 15);
        // 16 the day before their 17th birthday: 25th birthday.
        assert_eq!(
            childhood_birthday(born, date!(2026 - 06 - 14)),
            date!(2034 - 06 - 15)
        );
        // 17 on the day: 26th.
        assert_eq!(
            childhood_birthday(born, date!(2026 - 06 - 15)),
            date!(2035 - 06 - 15)
        );
        // Still 17 the day before their 18th birthday: 26th.
        assert_eq!(
            childhood_birthday(born, date!(2027 - 06 - 14)),
            date!(2035 - 06 - 15)
        );
        // 18: back to the 25th.
        assert_eq!(
            childhood_birthday(born, date!(2027 - 06 - 15)),
            date!(2034 - 06 - 15)
        );
        // Care that ended after the 25th birthday: due when it ended, never before.
        assert_eq!(
            childhood_birthday(born, date!(2034 - 09 - 01)),
            date!(2034 - 09 - 01)
        );
    }

    #[test]
    fn d6_a_request_during_care_waits_for_the_end_of_the_episode() {
        let today = date!(2027 - 01 - 01);
        let mut facts = RecordingFacts::new(
            datetime!(2026-03-02 09:00 UTC),
            PurposeSet::only(Purpose::Clinical),
        );
        facts.deletion_requested_on = Some(date!(2026 - 05 - 01));
        assert_eq!(Trigger::DeletionRequested.fired_on(&facts, today), None);
        assert!(Trigger::DeletionRequested.missing(&facts, today).is_some());
        facts.care_ended_on = Some(date!(2026 - 07 - 01));
        assert_eq!(
            Trigger::DeletionRequested.fired_on(&facts, today),
            Some(date!(2026 - 07 - 01))
        );
    }

    #[test]
    fn events_dated_after_today_have_not_happened() {
        let mut facts = RecordingFacts::new(
            datetime!(2026-03-02 09:00 UTC),
            PurposeSet::only(Purpose::Clinical),
        );
        facts.care_ended_on = Some(date!(2026 - 12 - 01));
        assert_eq!(
            Trigger::EndOfCare.fired_on(&facts, date!(2026 - 11 - 30)),
            None
        );
        assert_eq!(
            Trigger::EndOfCare.fired_on(&facts, date!(2026 - 12 - 01)),
            Some(date!(2026 - 12 - 01))
        );
        facts.died_on = Some(date!(2026 - 10 - 01));
        assert_eq!(
            Trigger::EndOfCare.fired_on(&facts, date!(2026 - 12 - 01)),
            Some(date!(2026 - 10 - 01)),
            "death ends care"
        );
    }

    #[test]
    fn d4_an_unknown_trigger_is_refused_and_lists_the_known_ones() {
        let error = Trigger::parse("after_lunch").unwrap_err();
        assert_eq!(error.code(), "retention.unknown_trigger");
        assert_eq!(error.requirement(), Some(crate::Requirement::D4));
        assert!(error.to_string().contains("birthday_25_or_26"), "{error}");
        assert_eq!(error.field(), Some("trigger"));
    }
}
