//! NHS numbers: ten digits whose last is a modulus 11 check digit.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::DomainError;

/// A valid NHS number. Only [`NhsNumber::parse`] creates one, so holding one proves the check digit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NhsNumber([u8; 10]);

impl NhsNumber {
    /// Parses an NHS number written with or without spaces or hyphens (`999 000 0018`).
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let invalid = |problem| DomainError::InvalidNhsNumber {
            input: input.chars().take(40).collect(),
            problem,
        };
        let mut digits = [0u8; 10];
        let mut count = 0usize;
        for c in input.trim().chars() {
            match c {
                ' ' | '-' => continue,
                '0'..='9' => {
                    let slot = digits
                        .get_mut(count)
                        .ok_or_else(|| invalid("it has more than 10 digits"))?;
                    *slot = c as u8 - b'0';
                    count += 1;
                }
                _ => return Err(invalid("it may contain only digits, spaces and hyphens")),
            }
        }
        if count != 10 {
            return Err(invalid("it must have exactly 10 digits"));
        }
        let weighted: u32 = digits
            .iter()
            .take(9)
            .zip((2..=10u32).rev())
            .map(|(digit, weight)| u32::from(*digit) * weight)
            .sum();
        let check = match 11 - weighted % 11 {
            11 => 0,
            10 => return Err(invalid("no valid NHS number has these first nine digits")),
            check => check,
        };
        if u32::from(digits[9]) != check {
            return Err(invalid(
                "the check digit is wrong; please check it was typed correctly",
            ));
        }
        Ok(Self(digits))
    }

    /// The ten digits without spaces, as stored and exchanged.
    pub fn digits(&self) -> String {
        self.0.iter().map(|d| char::from(b'0' + d)).collect()
    }
}

/// Shown as people write it: `999 000 0018`.
impl fmt::Display for NhsNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.digits();
        let (first, rest) = digits.split_at(3);
        let (second, third) = rest.split_at(3);
        write!(f, "{first} {second} {third}")
    }
}

impl Serialize for NhsNumber {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.digits())
    }
}

impl<'de> Deserialize<'de> for NhsNumber {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Computes the check digit that completes nine digits, when one exists; used to make test data.
pub fn check_digit(first_nine: &[u8; 9]) -> Option<u8> {
    let weighted: u32 = first_nine
        .iter()
        .zip((2..=10u32).rev())
        .map(|(digit, weight)| u32::from(*digit) * weight)
        .sum();
    match 11 - weighted % 11 {
        11 => Some(0),
        10 => None,
        check => u8::try_from(check).ok(),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn accepts_a_valid_test_number_in_any_usual_layout() {
        for written in ["9990000018", "999 000 0018", "999-000-0018", " 9990000018 "] {
            let number = NhsNumber::parse(written).unwrap();
            assert_eq!(number.digits(), "9990000018");
            assert_eq!(number.to_string(), "999 000 0018");
        }
    }

    #[test]
    fn refuses_a_wrong_check_digit_and_says_so() {
        let error = NhsNumber::parse("9990000017").unwrap_err();
        assert_eq!(error.code(), "person.invalid_nhs_number");
        assert!(
            error.to_string().contains("check digit is wrong"),
            "{error}"
        );
    }

    #[test]
    fn refuses_wrong_lengths_and_letters() {
        assert!(NhsNumber::parse("999000001").is_err());
        assert!(NhsNumber::parse("99900000180").is_err());
        assert!(NhsNumber::parse("999000001X").is_err());
        assert!(NhsNumber::parse("").is_err());
    }

    #[test]
    fn refuses_numbers_whose_check_would_be_ten() {
        // 999 123 456: the weighted sum is 320, 320 mod 11 is 1, so the check digit would be 10.
        assert_eq!(check_digit(&[9, 9, 9, 1, 2, 3, 4, 5, 6]), None);
        for last in 0..10 {
            let error = NhsNumber::parse(&format!("999123456{last}")).unwrap_err();
            assert!(error.to_string().contains("no valid NHS number"), "{error}");
        }
    }

    proptest! {
        #[test]
        fn every_completed_number_parses_and_every_other_last_digit_fails(nine in proptest::array::uniform9(0u8..10)) {
            let prefix: String = nine.iter().map(|d| char::from(b'0' + d)).collect();
            match check_digit(&nine) {
                Some(check) => {
                    for last in 0..10u8 {
                        let parsed = NhsNumber::parse(&format!("{prefix}{last}"));
                        prop_assert_eq!(parsed.is_ok(), last == check);
                    }
                }
                None => {
                    for last in 0..10u8 {
                        let parsed = NhsNumber::parse(&format!("{prefix}{last}"));
                        prop_assert!(parsed.is_err());
                    }
                }
            }
        }
    }
}
