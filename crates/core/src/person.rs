//! Persons who can appear in recordings, their mental capacity, and their representatives.

use serde::{Deserialize, Serialize};
use time::{Date, Duration};

use crate::error::DomainError;
use crate::ids::{PersonId, RepresentativeId};
use crate::nhs_number::NhsNumber;
use crate::text::{ShortText, checked_text};
use crate::vocabulary::vocabulary;

/// A person's given and family names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PersonName {
    pub given: String,
    pub family: String,
}

impl PersonName {
    /// The longest accepted name part.
    pub const MAX: usize = 100;

    /// Parses given and family names.
    pub fn parse(given: &str, family: &str) -> Result<Self, DomainError> {
        Ok(Self {
            given: checked_text("given_name", given, Self::MAX, false)?,
            family: checked_text("family_name", family, Self::MAX, false)?,
        })
    }

    /// "Alex Brown".
    pub fn full(&self) -> String {
        format!("{} {}", self.given, self.family)
    }

    /// "A. B.", as used in the opening statement of a recording (R3) and in remedies.
    pub fn initials(&self) -> String {
        let initial = |part: &str| {
            part.chars()
                .next()
                .map(|c| c.to_uppercase().collect::<String>())
        };
        match (initial(&self.given), initial(&self.family)) {
            (Some(g), Some(f)) => format!("{g}. {f}."),
            (Some(one), None) | (None, Some(one)) => format!("{one}."),
            (None, None) => String::new(),
        }
    }
}

/// A hospital or council identifier used where there is no NHS number (`RX1-004512`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String))]
#[serde(transparent)]
pub struct LocalIdentifier(String);

impl LocalIdentifier {
    /// The longest accepted identifier.
    pub const MAX: usize = 40;

    /// Parses a local identifier: letters, digits, hyphens, slashes and underscores.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let field = "local_identifier";
        let text = checked_text(field, input, Self::MAX, false)?;
        if let Some(character) = text
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '/' | '_')))
        {
            return Err(DomainError::BadCharacter {
                field,
                character,
                allowed: "use letters, digits, hyphens, slashes and underscores",
            });
        }
        Ok(Self(text))
    }

    /// The identifier itself.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

vocabulary! {
    /// Whether a person can make the decision to consent to recording themselves (C3).
    pub enum Capacity ("capacity") {
        /// The person can decide for themselves.
        HasCapacity = "has_capacity", "has capacity";
        /// A representative decides in the person's best interests.
        LacksCapacity = "lacks_capacity", "lacks capacity";
    }
}

/// A person who can appear in recordings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Person {
    pub id: PersonId,
    pub name: PersonName,
    pub date_of_birth: Date,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "9990000018"))]
    pub nhs_number: Option<NhsNumber>,
    pub local_identifier: Option<LocalIdentifier>,
    pub capacity: Capacity,
}

impl Person {
    /// Builds a person, refusing a date of birth in the future or over 130 years ago, and a
    /// person with neither an NHS number nor a local identifier (they could not be told apart).
    pub fn new(
        id: PersonId,
        name: PersonName,
        date_of_birth: Date,
        nhs_number: Option<NhsNumber>,
        local_identifier: Option<LocalIdentifier>,
        capacity: Capacity,
        today: Date,
    ) -> Result<Self, DomainError> {
        let oldest = today - Duration::days(130 * 366);
        if date_of_birth > today || date_of_birth < oldest {
            return Err(DomainError::ImplausibleDateOfBirth {
                date: date_of_birth,
            });
        }
        if nhs_number.is_none() && local_identifier.is_none() {
            return Err(DomainError::Empty {
                field: "nhs_number or local_identifier",
            });
        }
        Ok(Self {
            id,
            name,
            date_of_birth,
            nhs_number,
            local_identifier,
            capacity,
        })
    }
}

vocabulary! {
    /// How a representative is related to the person they act for.
    pub enum RepresentativeKind ("representative kind") {
        /// Next of kin.
        NextOfKin = "next_of_kin", "next of kin";
        /// Holds a lasting power of attorney for health and welfare.
        LastingPowerOfAttorney = "lasting_power_of_attorney", "lasting power of attorney";
        /// A person delegated or appointed to decide (for example a deputy).
        DelegatedPerson = "delegated_person", "delegated person";
        /// Has parental responsibility for a child.
        ParentalResponsibility = "parental_responsibility", "parental responsibility";
    }
}

/// Someone who may decide for a person who lacks capacity (C3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Representative {
    pub id: RepresentativeId,
    pub person_id: PersonId,
    pub name: ShortText,
    pub kind: RepresentativeKind,
    pub contact: Option<ShortText>,
}

/// Sorts `persons` and refuses a person listed twice.
pub(crate) fn distinct_persons(mut persons: Vec<PersonId>) -> Result<Vec<PersonId>, DomainError> {
    persons.sort_unstable();
    if let Some([first, _]) = persons.windows(2).find(|pair| pair.first() == pair.last()) {
        return Err(DomainError::DuplicatePerson { person: *first });
    }
    Ok(persons)
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    fn person(dob: Date) -> Result<Person, DomainError> {
        Person::new(
            PersonId::from_uuid(uuid::Uuid::nil()),
            PersonName::parse("Alex", "Brown")?,
            dob,
            Some(NhsNumber::parse("9990000018")?),
            None,
            Capacity::HasCapacity,
            date!(2026 - 11 - 23),
        )
    }

    #[test]
    fn initials_are_what_the_opening_statement_says() {
        let name = PersonName::parse("alex", "brown").unwrap();
        assert_eq!(name.initials(), "A. B.");
        assert_eq!(name.full(), "alex brown");
    }

    #[test]
    fn dates_of_birth_must_be_plausible() {
        assert!(person(date!(1950 - 01 - 01)).is_ok());
        assert!(matches!(
            person(date!(2027 - 01 - 01)),
            Err(DomainError::ImplausibleDateOfBirth { .. })
        ));
        assert!(matches!(
            person(date!(1890 - 01 - 01)),
            Err(DomainError::ImplausibleDateOfBirth { .. })
        ));
    }

    #[test]
    fn a_person_needs_some_identifier() {
        let error = Person::new(
            PersonId::from_uuid(uuid::Uuid::nil()),
            PersonName::parse("Alex", "Brown").unwrap(),
            date!(1950 - 01 - 01),
            None,
            None,
            Capacity::HasCapacity,
            date!(2026 - 11 - 23),
        )
        .unwrap_err();
        assert_eq!(error.field(), Some("nhs_number or local_identifier"));
    }

    #[test]
    fn unknown_codes_name_the_known_ones() {
        let error = RepresentativeKind::parse("cousin").unwrap_err();
        assert!(error.to_string().contains("next_of_kin"), "{error}");
    }
}
