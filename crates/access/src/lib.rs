//! Who may try what: the access policies in Cedar (shipped and local), their schema, and
//! [`AccessPolicies::decide`], the one function every request's access is checked by (S2, S3).
//!
//! This crate does no I/O. The application gathers the facts (the member of staff's roles and
//! services, the services caring for a person, connections and emergency access) and asks.

mod request;
mod required;
mod slices;

use std::str::FromStr;

use cedar_policy::{
    Authorizer, Decision, Policy, PolicyId, PolicySet, Schema, ValidationMode, Validator,
};

pub use request::{Action, Circumstances, Principal, Resource, ResourceKind};

/// The schema every policy is validated against.
pub const SCHEMA: &str = include_str!("../policies/custodian.cedarschema");

/// The policies shipped with Custodian, read at start and never changed at run time.
pub const SHIPPED: &str = include_str!("../policies/shipped.cedar");

/// Roles whose work is not the care of the people recorded: no local policy may let them play
/// clinical recordings.
const NOT_CLINICAL: [custodian_core::staff::Role; 6] = [
    custodian_core::staff::Role::RecordsManager,
    custodian_core::staff::Role::InformationGovernanceLead,
    custodian_core::staff::Role::Communications,
    custodian_core::staff::Role::Auditor,
    custodian_core::staff::Role::Administrator,
    custodian_core::staff::Role::OnCall,
];

/// What went wrong with policies.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    /// A local policy does not parse or does not fit the schema; the message is Cedar's.
    #[error("{0}")]
    InvalidPolicy(String),

    /// The shipped schema or policies are broken: a defect in this build, caught by its tests.
    #[error("the shipped access policies are broken: {0}")]
    Shipped(String),

    /// A request could not be put to Cedar (for example, an attribute of the wrong type).
    #[error("the access request could not be evaluated: {0}")]
    Request(String),
}

/// An organisation's own policy, as an administrator wrote it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalPolicy {
    /// Its name, unique in the organisation, such as `no-break-glass-when-connected`.
    pub name: String,
    /// Cedar text: one or more policies.
    pub text: String,
}

/// Why something was refused, in words staff can act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The requirement the refusal enforces, such as `S3`.
    pub requirement: String,
    /// The policy that refused it (a `forbid`), or `None` when no policy allows it.
    pub policy: Option<String>,
    /// Why, in plain English.
    pub reason: String,
    /// What to do instead.
    pub remedy: String,
}

/// The answer to an access request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Allowed, by the policies named.
    Allowed { policies: Vec<String> },
    /// Refused, and why.
    Refused(Refusal),
}

impl Verdict {
    /// Whether the request is allowed.
    pub fn is_allowed(&self) -> bool {
        matches!(self, Self::Allowed { .. })
    }
}

/// The shipped policies with an organisation's own, validated against the schema. Cheap to
/// share behind an `Arc`; a change of local policies builds a new one.
#[derive(Debug)]
pub struct AccessPolicies {
    schema: Schema,
    policies: PolicySet,
    /// The policies that can apply, per action and set of roles.
    slices: slices::Slices,
    authorizer: Authorizer,
    names: request::Names,
}

impl AccessPolicies {
    /// The shipped policies alone.
    pub fn shipped() -> Result<Self, AccessError> {
        Self::with_local(&[]).map_err(|error| AccessError::Shipped(error.to_string()))
    }

    /// The shipped policies and `local` ones. Refuses local policies that do not parse, reuse a
    /// name, or do not fit the schema, with Cedar's own message.
    pub fn with_local(local: &[LocalPolicy]) -> Result<Self, AccessError> {
        let (schema, _) = Schema::from_cedarschema_str(SCHEMA)
            .map_err(|error| AccessError::Shipped(format!("schema: {error}")))?;
        let mut policies = PolicySet::new();
        let shipped = PolicySet::from_str(SHIPPED)
            .map_err(|error| AccessError::Shipped(format!("policies: {error}")))?;
        for policy in shipped.policies() {
            let id = policy
                .annotation("id")
                .ok_or_else(|| AccessError::Shipped(format!("a policy has no @id: {policy}")))?
                .to_owned();
            policies
                .add(policy.new_id(PolicyId::new(id)))
                .map_err(|error| AccessError::Shipped(error.to_string()))?;
        }
        for local_policy in local {
            add_local(&mut policies, local_policy)?;
        }
        let validation = Validator::new(schema.clone()).validate(&policies, ValidationMode::Strict);
        if !validation.validation_passed() {
            let messages: Vec<String> = validation
                .validation_errors()
                .map(ToString::to_string)
                .collect();
            return Err(AccessError::InvalidPolicy(messages.join("; ")));
        }
        Ok(Self {
            schema,
            slices: slices::Slices::new(&policies),
            policies,
            authorizer: Authorizer::new(),
            names: request::Names::new()?,
        })
    }

    /// Checks local policy text without keeping it: the message is the parser's or validator's.
    pub fn check_local(&self, name: &str, text: &str) -> Result<(), AccessError> {
        let mut policies = self.policies.clone();
        add_local(
            &mut policies,
            &LocalPolicy {
                name: name.to_owned(),
                text: text.to_owned(),
            },
        )?;
        let validation =
            Validator::new(self.schema.clone()).validate(&policies, ValidationMode::Strict);
        if validation.validation_passed() {
            Ok(())
        } else {
            let messages: Vec<String> = validation
                .validation_errors()
                .map(ToString::to_string)
                .collect();
            Err(AccessError::InvalidPolicy(messages.join("; ")))
        }
    }

    /// What these policies allow that no organisation's own policy may, in words for refusing
    /// the change that made them: a role whose work is not clinical care playing recordings made
    /// for clinical care (as `permit (principal, action, resource);` would). Empty when none.
    /// Asked of the whole set, so it catches a grant however it is written.
    pub fn beyond_guard_rails(&self) -> Result<Vec<String>, AccessError> {
        let services: &[&str] = &["GUARD-RAIL-SERVICE"];
        let recording = Resource::Recording {
            id: uuid::Uuid::nil(),
            services,
            purposes: &["clinical"],
            de_identified: false,
        };
        let mut breaches = Vec::new();
        for role in NOT_CLINICAL {
            let roles = [role];
            let principal = Principal {
                id: uuid::Uuid::nil(),
                roles: &roles,
                services,
            };
            let asked = Circumstances {
                purpose: Some("clinical"),
                consented: true,
                ..Circumstances::default()
            };
            if self
                .decide(&principal, Action::PlayRecording, &recording, asked)?
                .is_allowed()
            {
                breaches.push(format!(
                    "it would let the {} play recordings made for clinical care, which only the care team may (S2)",
                    role.label()
                ));
            }
        }
        Ok(breaches)
    }

    /// How many policies are loaded, shipped and local.
    pub fn len(&self) -> usize {
        self.policies.policies().count()
    }

    /// Whether no policies are loaded (never, in practice: the shipped ones always are).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Decides whether `principal` may try `action` on `resource` in these `circumstances`.
    /// This is the only place access is decided.
    pub fn decide(
        &self,
        principal: &Principal<'_>,
        action: Action,
        resource: &Resource<'_>,
        circumstances: Circumstances<'_>,
    ) -> Result<Verdict, AccessError> {
        if action.resource_kind() != resource.kind() {
            return Err(AccessError::Request(format!(
                "{} applies to a {:?}, not a {:?}",
                action.as_str(),
                action.resource_kind(),
                resource.kind()
            )));
        }
        let (request, entities) = self
            .names
            .request(principal, action, resource, circumstances)?;
        let slice = self.slices.for_request(action, principal, resource)?;
        let response = self.authorizer.is_authorized(&request, &slice, &entities);
        let reasons: Vec<String> = response
            .diagnostics()
            .reason()
            .map(ToString::to_string)
            .collect();
        if response.decision() == Decision::Allow {
            return Ok(Verdict::Allowed { policies: reasons });
        }
        let errors: Vec<String> = response
            .diagnostics()
            .errors()
            .map(ToString::to_string)
            .collect();
        if !errors.is_empty() && reasons.is_empty() {
            return Err(AccessError::Request(errors.join("; ")));
        }
        Ok(Verdict::Refused(self.refusal(&reasons, resource)))
    }

    /// The refusal for a denial: the first forbid's own words, or the default for no permit.
    fn refusal(&self, forbids: &[String], resource: &Resource<'_>) -> Refusal {
        if let Some(id) = forbids.first() {
            let policy_id = PolicyId::new(id);
            let annotation =
                |key: &str| self.policies.annotation(&policy_id, key).map(str::to_owned);
            return Refusal {
                requirement: annotation("requirement").unwrap_or_else(|| "S2".to_owned()),
                policy: Some(id.clone()),
                reason: annotation("refusal")
                    .unwrap_or_else(|| format!("the organisation's policy `{id}` forbids this")),
                remedy: annotation("remedy").unwrap_or_else(|| {
                    "ask your information-governance lead if you believe you need it".to_owned()
                }),
            };
        }
        let remedy = match resource.kind() {
            ResourceKind::Person | ResourceKind::Session | ResourceKind::Recording => {
                "if the person is in your care, ask your team manager to add them to your service; in an emergency, the clinician on call can take emergency access"
            }
            ResourceKind::Organisation => {
                "ask an administrator for the role this needs, if your work requires it"
            }
        };
        Refusal {
            requirement: "S2".to_owned(),
            policy: None,
            reason: "your role and services do not include this".to_owned(),
            remedy: remedy.to_owned(),
        }
    }

    /// The local policies' ids and the shipped ones, for showing and tests.
    pub fn policy_ids(&self) -> Vec<String> {
        self.policies
            .policies()
            .map(|p| p.id().to_string())
            .collect()
    }
}

/// Adds each policy of a local text under the id `local.<name>.<n>`, so it cannot collide
/// with a shipped policy and its refusals name where it came from.
fn add_local(policies: &mut PolicySet, local: &LocalPolicy) -> Result<(), AccessError> {
    let name = local.name.trim();
    if name.is_empty()
        || name.len() > 80
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(AccessError::InvalidPolicy(format!(
            "a local policy's name uses letters, digits, hyphens and underscores (at most 80), not `{}`",
            name.chars().take(80).collect::<String>()
        )));
    }
    let parsed = PolicySet::from_str(&local.text).map_err(|error| {
        AccessError::InvalidPolicy(format!("policy `{name}` does not parse: {error}"))
    })?;
    if parsed.policies().next().is_none() {
        return Err(AccessError::InvalidPolicy(format!(
            "policy `{name}` holds no policy"
        )));
    }
    if parsed.templates().next().is_some() {
        return Err(AccessError::InvalidPolicy(format!(
            "policy `{name}` holds a template; write plain policies"
        )));
    }
    for (index, policy) in parsed.policies().enumerate() {
        let renamed: Policy = policy.new_id(PolicyId::new(format!("local.{name}.{index}")));
        policies
            .add(renamed)
            .map_err(|error| AccessError::InvalidPolicy(format!("policy `{name}`: {error}")))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
