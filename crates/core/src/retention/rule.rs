//! One row of a retention schedule: what it applies to, how long after which trigger, what then, and its source.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::purpose::{Purpose, PurposeSet};
use crate::retention::period::{PeriodSpec, RetentionPeriod};
use crate::retention::trigger::Trigger;
use crate::text::checked_text;
use crate::vocabulary::vocabulary;

vocabulary! {
    /// The care record category a recording is filed under, as the RM Code's schedule names them (D4).
    pub enum RecordCategory ("record category") {
        /// An adult's health or social care record.
        AdultCare = "adult_care", "adult health or social care record";
        /// A child's or young person's record.
        Children = "children", "children's and young people's record";
        /// A mental health record.
        MentalHealth = "mental_health", "mental health record";
    }
}

vocabulary! {
    /// What happens when a recording comes due. Nothing is destroyed before a records manager approves it.
    pub enum DisposalAction ("disposal action") {
        /// A records manager decides: destroy, or keep with a reason and a new date.
        Review = "review", "review";
        /// Destroy (cryptographically, with a certificate, D9).
        Destroy = "destroy", "destroy";
        /// Transfer to an archive (a place of deposit) and remove from the register.
        TransferToArchive = "transfer_to_archive", "transfer to an archive";
        /// Hand to the person, as they chose on withdrawing consent (C8, H2); never a schedule's action.
        HandOver = "hand_over", "hand over to the person";
    }
}

/// A rule's id: lower-case letters, digits and hyphens, such as `rm-adult-care` or `d5-transcript`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RuleId(String);

/// Where a rule comes from: the Code's row, or a policy section and its requirement. Every rule has one.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RuleSource(String);

/// A checked retention rule (D4): for recordings in `categories` or made for `purposes`, the
/// `action` falls due `period` after `trigger`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RuleSpec", into = "RuleSpec")]
pub struct RetentionRule {
    pub id: RuleId,
    pub categories: Vec<RecordCategory>,
    pub purposes: PurposeSet,
    pub period: RetentionPeriod,
    pub trigger: Trigger,
    pub action: DisposalAction,
    pub source: RuleSource,
}

/// A rule as written in an organisation's configuration, before it is checked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub id: String,
    #[serde(default)]
    pub categories: Vec<String>,
    #[serde(default)]
    pub purposes: Vec<String>,
    #[serde(default)]
    pub period: PeriodSpec,
    pub trigger: String,
    pub action: String,
    pub source: String,
}

impl RuleId {
    const MAX: usize = 60;

    /// Parses an id, refusing anything but lower-case letters, digits and hyphens.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let field = "id";
        let text = checked_text(field, input, Self::MAX, false)?;
        if let Some(character) = text
            .chars()
            .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
        {
            return Err(DomainError::BadCharacter {
                field,
                character,
                allowed: "use lower-case letters, digits and hyphens",
            });
        }
        Ok(Self(text))
    }

    /// An id of the shipped schedule, known to be well formed.
    pub(crate) fn shipped(id: &'static str) -> Self {
        Self(id.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl RuleSource {
    const MAX: usize = 400;

    /// Parses a source, which must say something.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        checked_text("source", input, Self::MAX, false).map(Self)
    }

    /// A source of the shipped schedule.
    pub(crate) fn shipped_owned(source: String) -> Self {
        Self(source)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl RetentionRule {
    /// Checks a rule as written: a well-formed id, known categories, purposes, trigger and
    /// action, a sensible period, something it applies to, and a source.
    pub fn parse(spec: RuleSpec) -> Result<Self, DomainError> {
        let id = RuleId::parse(&spec.id)?;
        let categories = spec
            .categories
            .iter()
            .map(|c| RecordCategory::parse(c))
            .collect::<Result<Vec<_>, _>>()?;
        let purposes = spec
            .purposes
            .iter()
            .map(|p| Purpose::parse(p))
            .collect::<Result<PurposeSet, _>>()?;
        if categories.is_empty() && purposes.is_empty() {
            return Err(DomainError::RetentionRuleAppliesToNothing { rule: id.0 });
        }
        let period = RetentionPeriod::new(id.as_str(), spec.period)?;
        let trigger = Trigger::parse(&spec.trigger)?;
        let action = DisposalAction::parse(&spec.action)?;
        if action == DisposalAction::HandOver {
            return Err(DomainError::HandOverInRetentionRule { rule: id.0 });
        }
        let source = RuleSource::parse(&spec.source)?;
        Ok(Self {
            id,
            categories,
            purposes,
            period,
            trigger,
            action,
            source,
        })
    }

    /// Whether the rule applies to recordings filed under `category`.
    pub fn covers_category(&self, category: RecordCategory) -> bool {
        self.categories.contains(&category)
    }
}

impl TryFrom<RuleSpec> for RetentionRule {
    type Error = DomainError;

    fn try_from(spec: RuleSpec) -> Result<Self, Self::Error> {
        Self::parse(spec)
    }
}

impl From<RetentionRule> for RuleSpec {
    fn from(rule: RetentionRule) -> Self {
        Self {
            id: rule.id.0,
            categories: rule
                .categories
                .iter()
                .map(|c| c.as_str().to_owned())
                .collect(),
            purposes: rule
                .purposes
                .iter()
                .map(|p| p.as_str().to_owned())
                .collect(),
            period: rule.period.into(),
            trigger: rule.trigger.as_str().to_owned(),
            action: rule.action.as_str().to_owned(),
            source: rule.source.0,
        }
    }
}

impl TryFrom<String> for RuleId {
    type Error = DomainError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<RuleId> for String {
    fn from(id: RuleId) -> Self {
        id.0
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for RuleSource {
    type Error = DomainError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<RuleSource> for String {
    fn from(source: RuleSource) -> Self {
        source.0
    }
}

impl fmt::Display for RuleSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> RuleSpec {
        RuleSpec {
            id: "d2-review".to_owned(),
            categories: Vec::new(),
            purposes: vec!["activities".to_owned()],
            period: PeriodSpec {
                years: 1,
                ..PeriodSpec::default()
            },
            trigger: "created".to_owned(),
            action: "review".to_owned(),
            source: "000 Retention §1–2 (D2)".to_owned(),
        }
    }

    #[test]
    fn d4_a_rule_as_written_becomes_a_checked_rule() {
        let rule = RetentionRule::parse(spec()).unwrap();
        assert_eq!(rule.id.as_str(), "d2-review");
        assert_eq!(rule.trigger, Trigger::Created);
        assert_eq!(rule.period.to_string(), "1 year");
        assert_eq!(RuleSpec::from(rule), spec());
    }

    #[test]
    fn d4_a_rule_with_an_unknown_trigger_is_refused() {
        let error = RetentionRule::parse(RuleSpec {
            trigger: "full_moon".to_owned(),
            ..spec()
        })
        .unwrap_err();
        assert_eq!(error.code(), "retention.unknown_trigger");
        assert!(error.to_string().contains("`full_moon`"), "{error}");
    }

    #[test]
    fn d4_a_rule_must_apply_to_something_and_say_where_it_comes_from() {
        let nothing = RetentionRule::parse(RuleSpec {
            purposes: Vec::new(),
            ..spec()
        })
        .unwrap_err();
        assert_eq!(nothing.code(), "retention.rule_applies_to_nothing");
        let no_source = RetentionRule::parse(RuleSpec {
            source: "  ".to_owned(),
            ..spec()
        })
        .unwrap_err();
        assert_eq!(no_source, DomainError::Empty { field: "source" });
        let bad_id = RetentionRule::parse(RuleSpec {
            id: "Adult Care".to_owned(),
            ..spec()
        })
        .unwrap_err();
        assert_eq!(bad_id.code(), "input.bad_character");
    }

    #[test]
    fn c8_hand_over_is_the_persons_choice_never_a_schedule_action() {
        let error = RetentionRule::parse(RuleSpec {
            action: "hand_over".to_owned(),
            ..spec()
        })
        .unwrap_err();
        assert_eq!(error.code(), "retention.hand_over_in_rule");
    }
}
