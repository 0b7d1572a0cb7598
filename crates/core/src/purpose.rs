//! The purposes a recording may be used for (C1), and sets of them.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::DomainError;
use crate::vocabulary::vocabulary;

vocabulary! {
    /// A purpose for which a person may consent to recordings being made and used (C1). The
    /// first four are purpose A of the council procedure; the last six are its optional purpose B.
    pub enum Purpose ("purpose") {
        /// Recognising the person, for example the photograph on their file.
        Identification = "identification", "identification";
        /// Giving the right medicine to the right person.
        Medication = "medication", "medication";
        /// The person's care or support plan.
        CarePlan = "care_plan", "care or support plan";
        /// Documenting health and wellbeing concerns, such as a wound.
        HealthAndWellbeing = "health_and_wellbeing", "health and wellbeing documentation";
        /// Clinical or therapeutic work with the person.
        Clinical = "clinical", "clinical or therapeutic use";
        /// Supervision of the clinician and ongoing training of the team.
        SupervisionAndTraining = "supervision_and_training", "supervision and training";
        /// Teaching students and other professionals.
        Teaching = "teaching", "teaching";
        /// An approved research study.
        Research = "research", "research";
        /// Investigating an incident, or feedback where a minute taker would intrude.
        IncidentInvestigation = "incident_investigation", "incident investigation";
        /// The record of a meeting, in place of a minute taker.
        Administrative = "administrative", "meeting record";
        /// Activities within the service.
        Activities = "activities", "activities";
        /// Outings.
        Outings = "outings", "outings";
        /// Sharing with family and visitors.
        FamilyAndVisitors = "family_and_visitors", "family and visitors";
        /// Newsletters.
        Newsletters = "newsletters", "newsletters";
        /// Award entries.
        AwardEntries = "award_entries", "award entries";
        /// The organisation's online and social media accounts.
        SocialMedia = "social_media", "online and social media";
    }
}

impl Purpose {
    /// What the purpose means, in the words a consent form would use.
    pub const fn explanation(self) -> &'static str {
        match self {
            Self::Identification => {
                "A photograph kept on your file so that staff can recognise you. It is kept even if you withdraw consent for other uses."
            }
            Self::Medication => "A photograph used to make sure you are given the right medicine.",
            Self::CarePlan => "Recordings kept in your care or support plan.",
            Self::HealthAndWellbeing => {
                "Recordings that document a health or wellbeing concern, such as a wound or a skin condition."
            }
            Self::Clinical => {
                "Recordings used in your care or therapy, to see change over time and give feedback."
            }
            Self::SupervisionAndTraining => {
                "Recordings your clinician reviews with their supervisor or the team to improve your care."
            }
            Self::Teaching => {
                "Recordings shown in confidence to students and professionals, with surnames and addresses removed."
            }
            Self::Research => "Recordings used in a named research study that has ethics approval.",
            Self::IncidentInvestigation => "Recordings used to investigate an incident accurately.",
            Self::Administrative => "A recording that stands in for the minutes of a meeting.",
            Self::Activities => "Photographs and videos of activities in the service.",
            Self::Outings => "Photographs and videos of outings.",
            Self::FamilyAndVisitors => {
                "Photographs and videos shared with your family and visitors."
            }
            Self::Newsletters => "Photographs in newsletters.",
            Self::AwardEntries => "Photographs and videos in entries for awards.",
            Self::SocialMedia => {
                "Photographs and videos on the organisation's approved website and social media accounts."
            }
        }
    }

    const fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

/// A set of purposes, held as bits so that membership costs one instruction.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct PurposeSet(u32);

impl PurposeSet {
    /// No purposes.
    pub const EMPTY: Self = Self(0);

    /// A set holding one purpose.
    pub const fn only(purpose: Purpose) -> Self {
        Self(purpose.bit())
    }

    /// Whether `purpose` is in the set.
    pub const fn contains(self, purpose: Purpose) -> bool {
        self.0 & purpose.bit() != 0
    }

    /// Adds `purpose` to the set.
    pub fn insert(&mut self, purpose: Purpose) {
        self.0 |= purpose.bit();
    }

    /// The set as bits, one per purpose in the order of [`Purpose::ALL`].
    pub(crate) const fn bits(self) -> u32 {
        self.0
    }

    /// Whether the set has no purposes.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The purposes in both sets.
    pub const fn intersection(self, other: Self) -> Self {
        Self(self.0 & other.0)
    }

    /// The purposes in either set.
    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// Whether every purpose of `self` is in `other`.
    pub const fn is_subset(self, other: Self) -> bool {
        self.0 & !other.0 == 0
    }

    /// The purposes, in the order of [`Purpose::ALL`].
    pub fn iter(self) -> impl Iterator<Item = Purpose> {
        Purpose::ALL
            .iter()
            .copied()
            .filter(move |p| self.contains(*p))
    }

    /// Parses a list of purpose codes, refusing unknown ones (C1) and an empty list.
    pub fn parse<'a>(codes: impl IntoIterator<Item = &'a str>) -> Result<Self, DomainError> {
        let mut set = Self::EMPTY;
        for code in codes {
            set.insert(Purpose::parse(code)?);
        }
        if set.is_empty() {
            return Err(DomainError::NoPurposes);
        }
        Ok(set)
    }

    /// The plain-English labels joined for a sentence: "teaching and research".
    pub fn labels(self) -> String {
        let labels: Vec<&str> = self.iter().map(Purpose::label).collect();
        match labels.split_last() {
            None => String::new(),
            Some((last, [])) => (*last).to_owned(),
            Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        }
    }
}

impl FromIterator<Purpose> for PurposeSet {
    fn from_iter<I: IntoIterator<Item = Purpose>>(iter: I) -> Self {
        let mut set = Self::EMPTY;
        for purpose in iter {
            set.insert(purpose);
        }
        set
    }
}

impl fmt::Debug for PurposeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set()
            .entries(self.iter().map(Purpose::as_str))
            .finish()
    }
}

impl Serialize for PurposeSet {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for PurposeSet {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let purposes = Vec::<Purpose>::deserialize(deserializer)?;
        Ok(purposes.into_iter().collect())
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for PurposeSet {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ArrayBuilder::new()
            .items(<Purpose as utoipa::PartialSchema>::schema())
            .unique_items(true)
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for PurposeSet {
    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        <Purpose as utoipa::ToSchema>::schemas(schemas);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c1_every_built_in_purpose_round_trips_through_its_code() {
        assert_eq!(Purpose::ALL.len(), 16);
        for purpose in Purpose::ALL {
            assert_eq!(Purpose::parse(purpose.as_str()).unwrap(), *purpose);
            assert!(!purpose.explanation().is_empty());
        }
    }

    #[test]
    fn c1_unknown_purposes_are_refused_and_name_the_rule() {
        let error = PurposeSet::parse(["clinical", "marketing"]).unwrap_err();
        assert_eq!(error.code(), "consent.unknown_purpose");
        assert_eq!(error.requirement(), Some(crate::Requirement::C1));
        assert!(error.to_string().contains("`marketing`"), "{error}");
        assert_eq!(PurposeSet::parse([]).unwrap_err(), DomainError::NoPurposes);
    }

    #[test]
    fn sets_behave_like_sets() {
        let set = PurposeSet::parse(["teaching", "clinical", "teaching"]).unwrap();
        assert_eq!(
            set.iter().collect::<Vec<_>>(),
            vec![Purpose::Clinical, Purpose::Teaching]
        );
        assert_eq!(set.labels(), "clinical or therapeutic use and teaching");
        assert!(PurposeSet::only(Purpose::Clinical).is_subset(set));
        assert!(!set.is_subset(PurposeSet::only(Purpose::Clinical)));
        assert_eq!(
            serde_json::to_string(&set).unwrap(),
            r#"["clinical","teaching"]"#
        );
    }
}
