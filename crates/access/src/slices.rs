//! The policies that can apply to a request, chosen by its action and the asker's roles, so a
//! decision evaluates those rather than every policy loaded.
//!
//! Cedar evaluates every policy it is given, and each costs about a microsecond whether or not
//! its scope matches. A policy whose scope names other actions, or a role the asker does not
//! hold, can never be satisfied by the request, so leaving it out changes no decision (a
//! property test compares every decision with the whole set's).
//!
//! In a slice for one action, a policy naming a list of actions (`action in [...]`) is
//! narrowed to `action == <that action>`: the same for every request the slice serves, and it
//! spares Cedar building and hashing the list on every evaluation.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use cedar_policy::{ActionConstraint, EntityUid, Policy, PolicySet, PrincipalConstraint};
use custodian_core::staff::Role;
use serde_json::json;

use crate::{AccessError, Action};

/// The schema's entity type of roles, as a scope names it.
const ROLE_TYPE: &str = "Custodian::Role";
/// The schema's entity type of actions.
const ACTION_TYPE: &str = "Custodian::Action";

/// One policy and what its scope requires of a request.
#[derive(Debug)]
struct Scoped {
    policy: Policy,
    /// The actions it names, or `None` for any action.
    actions: Option<Vec<String>>,
    /// The role its principal must hold (`principal in Custodian::Role::"…"`), if it names one.
    role: Option<String>,
}

impl Scoped {
    fn new(policy: &Policy) -> Self {
        let actions = match policy.action_constraint() {
            ActionConstraint::Any => None,
            ActionConstraint::Eq(action) => Some(vec![name(&action)]),
            ActionConstraint::In(actions) => Some(actions.iter().map(name).collect()),
        };
        let role = match policy.principal_constraint() {
            PrincipalConstraint::In(group) | PrincipalConstraint::IsIn(_, group)
                if group.type_name().to_string() == ROLE_TYPE =>
            {
                Some(name(&group))
            }
            _ => None,
        };
        Self {
            policy: policy.clone(),
            actions,
            role,
        }
    }

    /// Whether a request for `action` by someone holding `roles` could satisfy this policy. The
    /// schema has no action groups and staff belong only to roles, so a named action or role is
    /// matched exactly; an action name that is not ours keeps the policy, to be safe.
    fn may_apply(&self, action: Action, roles: &[Role]) -> bool {
        let action_matches = self.actions.as_ref().is_none_or(|names| {
            names.iter().any(|named| {
                named == action.as_str() || Action::ALL.iter().all(|known| known.as_str() != named)
            })
        });
        let role_matches = self
            .role
            .as_ref()
            .is_none_or(|named| roles.iter().any(|role| role.as_str() == named));
        action_matches && role_matches
    }

    /// The policy as it is evaluated in `action`'s slice: narrowed to that action when it
    /// names several.
    fn for_action(&self, action: Action) -> Result<Policy, AccessError> {
        let several = self.actions.as_ref().is_some_and(|names| names.len() > 1);
        if !several {
            return Ok(self.policy.clone());
        }
        let narrowing = |error: &dyn std::fmt::Display| {
            AccessError::Shipped(format!(
                "narrowing policy `{}` to {}: {error}",
                self.policy.id(),
                action.as_str()
            ))
        };
        let mut json = self.policy.to_json().map_err(|e| narrowing(&e))?;
        let scope = json
            .get_mut("action")
            .ok_or_else(|| narrowing(&"it has no action scope"))?;
        *scope = json!({
            "op": "==",
            "entity": { "type": ACTION_TYPE, "id": action.as_str() }
        });
        Policy::from_json(Some(self.policy.id().clone()), json).map_err(|e| narrowing(&e))
    }
}

fn name(uid: &EntityUid) -> String {
    uid.id().unescaped().to_owned()
}

/// The policies sliced per action and set of roles, each slice built the first time a request
/// needs it: there are few combinations of roles in practice, and a change of policies builds
/// a new `Slices`.
#[derive(Debug)]
pub(crate) struct Slices {
    scoped: Vec<Scoped>,
    built: RwLock<HashMap<(Action, u16), Arc<PolicySet>>>,
}

impl Slices {
    pub(crate) fn new(policies: &PolicySet) -> Self {
        Self {
            scoped: policies.policies().map(Scoped::new).collect(),
            built: RwLock::new(HashMap::new()),
        }
    }

    /// The policies a request for `action` by someone holding `roles` must be checked against.
    pub(crate) fn for_request(
        &self,
        action: Action,
        roles: &[Role],
    ) -> Result<Arc<PolicySet>, AccessError> {
        let key = (action, role_bits(roles));
        if let Some(slice) = self
            .built
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
        {
            return Ok(Arc::clone(slice));
        }
        let mut slice = PolicySet::new();
        for scoped in self.scoped.iter().filter(|s| s.may_apply(action, roles)) {
            slice
                .add(scoped.for_action(action)?)
                .map_err(|error| AccessError::Shipped(error.to_string()))?;
        }
        let slice = Arc::new(slice);
        self.built
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key, Arc::clone(&slice));
        Ok(slice)
    }
}

/// The roles as a set of bits, in `Role::ALL`'s order.
fn role_bits(roles: &[Role]) -> u16 {
    Role::ALL
        .iter()
        .enumerate()
        .filter(|(_, role)| roles.contains(role))
        .fold(0, |bits, (index, _)| bits | (1 << index))
}
