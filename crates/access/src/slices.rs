//! The policies that can apply to a request, chosen by its action, the asker's roles and the
//! literals policies' conditions require, so a decision evaluates those rather than every
//! policy loaded.
//!
//! Cedar evaluates every policy it is given, and each costs about a microsecond whether or not
//! its scope matches. A policy whose scope names other actions, or a role the asker does not
//! hold, or whose condition requires a service or purpose the request lacks (see
//! `required.rs`), can never be satisfied by the request, so leaving it out changes no decision (a
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

use crate::required::Required;
use crate::{AccessError, Action, Principal, Resource};

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
    /// Literals its conditions require in the request's sets.
    required: Vec<Required>,
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
        let required = policy
            .to_json()
            .map(|json| Required::of(&json))
            .unwrap_or_default();
        Self {
            policy: policy.clone(),
            actions,
            role,
            required,
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

/// Policy sets built, at most: beyond this, a set is built for its request and not kept, so
/// unusual combinations cannot grow memory without bound.
const MOST_SETS_KEPT: usize = 10_000;

/// An act and a set of roles (as bits, in `Role::ALL`'s order).
type ScopeKey = (Action, u16);
/// An act and the policies (indices) left to evaluate for it.
type SetKey = (Action, Vec<usize>);

/// The policies sliced, each slice built the first time a request needs it: there are few
/// combinations of roles, services and purposes in practice, and a change of policies builds
/// a new `Slices`.
#[derive(Debug)]
pub(crate) struct Slices {
    scoped: Vec<Scoped>,
    /// Per action and set of roles, the policies whose scope can match (indices in `scoped`).
    by_scope: RwLock<HashMap<ScopeKey, Arc<Vec<usize>>>>,
    /// Per action and the policies left once literals are checked, the set to evaluate.
    built: RwLock<HashMap<SetKey, Arc<PolicySet>>>,
}

impl Slices {
    pub(crate) fn new(policies: &PolicySet) -> Self {
        Self {
            scoped: policies.policies().map(Scoped::new).collect(),
            by_scope: RwLock::new(HashMap::new()),
            built: RwLock::new(HashMap::new()),
        }
    }

    /// The policies a request for `action` by `principal` on `resource` must be checked against.
    pub(crate) fn for_request(
        &self,
        action: Action,
        principal: &Principal<'_>,
        resource: &Resource<'_>,
    ) -> Result<Arc<PolicySet>, AccessError> {
        let in_scope = self.in_scope(action, principal.roles);
        let left: Vec<usize> = in_scope
            .iter()
            .copied()
            .filter(|index| {
                self.scoped.get(*index).is_some_and(|scoped| {
                    scoped
                        .required
                        .iter()
                        .all(|required| required.holds(principal, resource))
                })
            })
            .collect();
        let key = (action, left);
        if let Some(slice) = self
            .built
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
        {
            return Ok(Arc::clone(slice));
        }
        let mut slice = PolicySet::new();
        for scoped in key.1.iter().filter_map(|index| self.scoped.get(*index)) {
            slice
                .add(scoped.for_action(action)?)
                .map_err(|error| AccessError::Shipped(error.to_string()))?;
        }
        let slice = Arc::new(slice);
        let mut built = self.built.write().unwrap_or_else(PoisonError::into_inner);
        if built.len() < MOST_SETS_KEPT {
            built.insert(key, Arc::clone(&slice));
        }
        Ok(slice)
    }

    /// The policies whose scope can match a request for `action` by someone holding `roles`.
    fn in_scope(&self, action: Action, roles: &[Role]) -> Arc<Vec<usize>> {
        let key = (action, role_bits(roles));
        if let Some(indices) = self
            .by_scope
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
        {
            return Arc::clone(indices);
        }
        let indices: Arc<Vec<usize>> = Arc::new(
            self.scoped
                .iter()
                .enumerate()
                .filter(|(_, scoped)| scoped.may_apply(action, roles))
                .map(|(index, _)| index)
                .collect(),
        );
        self.by_scope
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key, Arc::clone(&indices));
        indices
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
