//! What a policy's conditions need to find in a request before they can hold: a literal that
//! must be in the asker's or the resource's services or purposes.
//!
//! A `when` condition whose top-level conjuncts include `resource.services.contains("X")`
//! (or `principal.services`, `resource.purposes`) is false for a request whose set lacks "X",
//! so the policy cannot apply to it and need not be evaluated. Organisations' policies are
//! mostly of this shape, each about one service or purpose; without this, each costs the full
//! evaluation on every request for its act.

use serde_json::Value;

use crate::{Principal, Resource};

/// A literal a policy requires in one of a request's sets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Required {
    set: Set,
    value: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Set {
    StaffServices,
    ResourceServices,
    ResourcePurposes,
}

impl Required {
    /// The literals every `when` condition of a policy (in Cedar's JSON form) requires.
    pub(crate) fn of(policy: &Value) -> Vec<Self> {
        let Some(conditions) = policy.get("conditions").and_then(Value::as_array) else {
            return Vec::new();
        };
        conditions
            .iter()
            .filter(|condition| condition.get("kind").and_then(Value::as_str) == Some("when"))
            .filter_map(|condition| condition.get("body"))
            .flat_map(conjuncts)
            .filter_map(Self::from_conjunct)
            .collect()
    }

    /// `<var>.<attribute>.contains("<literal>")`, for the sets requests carry.
    fn from_conjunct(expression: &Value) -> Option<Self> {
        let contains = expression.get("contains")?;
        let attribute = contains.get("left")?.get(".")?;
        let variable = attribute.get("left")?.get("Var")?.as_str()?;
        let set = match (variable, attribute.get("attr")?.as_str()?) {
            ("principal", "services") => Set::StaffServices,
            ("resource", "services") => Set::ResourceServices,
            ("resource", "purposes") => Set::ResourcePurposes,
            _ => return None,
        };
        let value = contains.get("right")?.get("Value")?.as_str()?.to_owned();
        Some(Self { set, value })
    }

    /// Whether the request carries the literal. A set the resource does not have (an act on the
    /// organisation has no services) says nothing, so the policy is kept to be safe.
    pub(crate) fn holds(&self, principal: &Principal<'_>, resource: &Resource<'_>) -> bool {
        let set: Option<&[&str]> = match (self.set, resource) {
            (Set::StaffServices, _) => Some(principal.services),
            (
                Set::ResourceServices,
                Resource::Person { services, .. }
                | Resource::Session { services, .. }
                | Resource::Recording { services, .. },
            ) => Some(services),
            (Set::ResourcePurposes, Resource::Recording { purposes, .. }) => Some(purposes),
            _ => None,
        };
        set.is_none_or(|values| values.contains(&self.value.as_str()))
    }
}

/// The top-level conjuncts of an expression: `a && (b && c)` gives a, b and c.
fn conjuncts(expression: &Value) -> Vec<&Value> {
    match expression.get("&&") {
        Some(and) => [and.get("left"), and.get("right")]
            .into_iter()
            .flatten()
            .flat_map(conjuncts)
            .collect(),
        None => vec![expression],
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::str::FromStr;

    use cedar_policy::Policy;

    use super::*;

    fn required(text: &str) -> Vec<Required> {
        Required::of(&Policy::from_str(text).unwrap().to_json().unwrap())
    }

    fn literal(set: Set, value: &str) -> Required {
        Required {
            set,
            value: value.to_owned(),
        }
    }

    #[test]
    fn x6_the_literals_of_every_top_level_conjunct_of_when_are_required() {
        assert_eq!(
            required(
                r#"forbid (principal, action, resource)
                   when { resource.services.contains("SERVICE-1") && (context.connected && resource.purposes.contains("teaching")) }
                   when { principal.services.contains("CAMHS-NORTH") };"#
            ),
            vec![
                literal(Set::ResourceServices, "SERVICE-1"),
                literal(Set::ResourcePurposes, "teaching"),
                literal(Set::StaffServices, "CAMHS-NORTH"),
            ]
        );
    }

    #[test]
    fn x6_nothing_is_required_from_unless_or_either_side_of_or() {
        assert!(
            required(
                r#"permit (principal, action, resource)
                   when { resource.services.contains("A") || resource.services.contains("B") }
                   unless { resource.purposes.contains("teaching") };"#
            )
            .is_empty()
        );
    }
}
