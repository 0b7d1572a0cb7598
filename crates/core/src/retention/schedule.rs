//! The set of retention rules an organisation works to: checked whole, loaded from configuration, changed with a record of what changed.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::purpose::Purpose;
use crate::retention::period::RetentionPeriod;
use crate::retention::rule::{RecordCategory, RetentionRule, RuleId, RuleSpec};

/// A checked retention schedule (D4): rules with distinct ids, and at least one rule for every
/// purpose and every record category, so no recording can fall through without a date.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ScheduleSpec", into = "ScheduleSpec")]
pub struct RetentionSchedule {
    rules: Vec<RetentionRule>,
}

/// A schedule as written in configuration (TOML or JSON), before it is checked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleSpec {
    pub rules: Vec<RuleSpec>,
}

/// A change of one rule's period, for the audit trail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PeriodChange {
    pub rule: RuleId,
    pub from: RetentionPeriod,
    pub to: RetentionPeriod,
}

/// How one schedule differs from another, rule by rule, for the audit trail when an
/// organisation loads its own.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum ScheduleChange {
    Added {
        rule: RuleId,
    },
    Removed {
        rule: RuleId,
    },
    PeriodChanged(PeriodChange),
    /// Anything else about the rule changed: what it applies to, its trigger, action or source.
    Reworded {
        rule: RuleId,
    },
}

impl PeriodChange {
    /// Whether the new period keeps recordings for less time than the old one, which the app
    /// should ask a reason for: a shorter period brings recordings up for disposal sooner.
    pub fn shortens(&self) -> bool {
        self.to.is_shorter_than(self.from)
    }
}

impl RetentionSchedule {
    /// Checks a set of rules: no duplicate ids, and no purpose or record category without a rule.
    pub fn new(rules: Vec<RetentionRule>) -> Result<Self, DomainError> {
        let mut seen = BTreeSet::new();
        for rule in &rules {
            if !seen.insert(rule.id.as_str()) {
                return Err(DomainError::DuplicateRetentionRule {
                    rule: rule.id.to_string(),
                });
            }
        }
        if let Some(purpose) = Purpose::ALL
            .iter()
            .find(|p| !rules.iter().any(|r| r.purposes.contains(**p)))
        {
            return Err(DomainError::RetentionGap {
                what: "purpose",
                value: purpose.as_str(),
            });
        }
        if let Some(category) = RecordCategory::ALL
            .iter()
            .find(|c| !rules.iter().any(|r| r.covers_category(**c)))
        {
            return Err(DomainError::RetentionGap {
                what: "record category",
                value: category.as_str(),
            });
        }
        Ok(Self { rules })
    }

    /// Checks a schedule as written, rule by rule, then as a whole.
    pub fn parse(spec: ScheduleSpec) -> Result<Self, DomainError> {
        let rules = spec
            .rules
            .into_iter()
            .map(RetentionRule::parse)
            .collect::<Result<Vec<_>, _>>()?;
        Self::new(rules)
    }

    /// The rules, in the order they were written (which breaks ties between equal dates).
    pub fn rules(&self) -> &[RetentionRule] {
        &self.rules
    }

    /// The rule with this id.
    pub fn rule(&self, id: &RuleId) -> Option<&RetentionRule> {
        self.rules.iter().find(|r| r.id == *id)
    }

    /// Sets one rule's period, returning the change to audit, or `None` if it was already that.
    pub fn change_period(
        &mut self,
        id: &RuleId,
        to: RetentionPeriod,
    ) -> Result<Option<PeriodChange>, DomainError> {
        let known = self.known_ids();
        let rule = self.rules.iter_mut().find(|r| r.id == *id).ok_or_else(|| {
            DomainError::UnknownRetentionRule {
                rule: id.to_string(),
                known,
            }
        })?;
        if rule.period == to {
            return Ok(None);
        }
        let from = std::mem::replace(&mut rule.period, to);
        Ok(Some(PeriodChange {
            rule: id.clone(),
            from,
            to,
        }))
    }

    /// What changes going from `self` to `next`, rule by rule, in `next`'s order and then the
    /// removed rules: what an organisation's own schedule changed from the shipped one.
    pub fn changes_to(&self, next: &Self) -> Vec<ScheduleChange> {
        let mut changes: Vec<ScheduleChange> = next
            .rules
            .iter()
            .filter_map(|rule| match self.rule(&rule.id) {
                None => Some(ScheduleChange::Added {
                    rule: rule.id.clone(),
                }),
                Some(before) if before == rule => None,
                Some(before)
                    if RetentionRule {
                        period: rule.period,
                        ..before.clone()
                    } == *rule =>
                {
                    Some(ScheduleChange::PeriodChanged(PeriodChange {
                        rule: rule.id.clone(),
                        from: before.period,
                        to: rule.period,
                    }))
                }
                Some(_) => Some(ScheduleChange::Reworded {
                    rule: rule.id.clone(),
                }),
            })
            .collect();
        changes.extend(
            self.rules
                .iter()
                .filter(|r| next.rule(&r.id).is_none())
                .map(|r| ScheduleChange::Removed { rule: r.id.clone() }),
        );
        changes
    }

    fn known_ids(&self) -> String {
        self.rules
            .iter()
            .map(|r| r.id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl TryFrom<ScheduleSpec> for RetentionSchedule {
    type Error = DomainError;

    fn try_from(spec: ScheduleSpec) -> Result<Self, Self::Error> {
        Self::parse(spec)
    }
}

impl From<RetentionSchedule> for ScheduleSpec {
    fn from(schedule: RetentionSchedule) -> Self {
        Self {
            rules: schedule.rules.into_iter().map(RuleSpec::from).collect(),
        }
    }
}

impl Default for RetentionSchedule {
    /// The shipped schedule: see [`crate::retention::defaults`].
    fn default() -> Self {
        Self {
            rules: crate::retention::defaults::shipped_rules(),
        }
    }
}
