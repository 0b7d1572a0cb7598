//! Access control for the use cases: the facts each decision needs, the one call to the access
//! policies, and an audit event for every refusal (S2, S3, S5).

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, RwLock};

use custodian_access::{
    AccessPolicies, Action, Circumstances, LocalPolicy, Principal, Refusal, Resource, Verdict,
};
use custodian_core::audit::AuditOutcome;
use custodian_core::ids::PersonId;
use custodian_core::purpose::Purpose;
use custodian_core::recording::Recording;
use custodian_core::session::Session;
use custodian_store::{PersonAccess, Register, RegisterTx};
use uuid::Uuid;

use crate::accounts::Caller;
use crate::audit_trail::Audit;
use crate::{AppError, AppResult, Custodian};

/// What an act is done to, as the use case has it in hand.
#[derive(Clone, Copy, Debug)]
pub enum Target<'a> {
    Organisation,
    Person(PersonId),
    Session(&'a Session),
    Recording(&'a Recording),
    /// A recording's content, used for `purpose`; `consented` is the consent decision's answer
    /// (X1). Only the gate (`crate::uses`) asks about content.
    Content {
        recording: &'a Recording,
        purpose: Purpose,
        consented: bool,
    },
}

impl Target<'_> {
    /// The people the target concerns.
    fn persons(&self) -> Vec<PersonId> {
        match self {
            Self::Organisation => Vec::new(),
            Self::Person(id) => vec![*id],
            Self::Session(session) => session.participants.clone(),
            Self::Recording(recording) | Self::Content { recording, .. } => {
                recording.subjects.clone()
            }
        }
    }

    /// The recording the target is, or whose content it is.
    fn recording(&self) -> Option<&Recording> {
        match self {
            Self::Recording(recording) | Self::Content { recording, .. } => Some(recording),
            Self::Organisation | Self::Person(_) | Self::Session(_) => None,
        }
    }
}

/// The policies in force: the shipped ones and the organisation's own, replaced whole when an
/// administrator changes a local policy, or when another server sharing the register has.
#[derive(Debug)]
pub(crate) struct PoliciesInForce(RwLock<Loaded>);

/// The policies built, and the local policies they were built from.
#[derive(Debug)]
struct Loaded {
    local: Vec<LocalPolicy>,
    policies: Arc<AccessPolicies>,
}

impl Loaded {
    fn new(mut local: Vec<LocalPolicy>, policies: AccessPolicies) -> Self {
        // In one order, whatever order the database returned them in, for comparing.
        local.sort_by(|a, b| a.name.cmp(&b.name));
        Self {
            local,
            policies: Arc::new(policies),
        }
    }
}

async fn stored_local_policies(register: &Register) -> AppResult<Vec<LocalPolicy>> {
    let mut tx = register.read().await?;
    Ok(tx
        .local_policies()
        .await?
        .into_iter()
        .map(|stored| LocalPolicy {
            name: stored.name,
            text: stored.text,
        })
        .collect())
}

impl PoliciesInForce {
    /// The shipped policies and the local ones stored in the register. A stored local policy
    /// that no longer validates stops the start: running without it could let in more than the
    /// organisation allows.
    pub(crate) async fn load(register: &Register) -> AppResult<Self> {
        let local = stored_local_policies(register).await?;
        let policies = AccessPolicies::with_local(&local).map_err(|error| {
            AppError::Startup(format!(
                "the organisation's access policies do not validate: {error}; correct them in the table local_policies"
            ))
        })?;
        Ok(Self(RwLock::new(Loaded::new(local, policies))))
    }

    pub(crate) fn current(&self) -> AppResult<Arc<AccessPolicies>> {
        self.0
            .read()
            .map(|loaded| Arc::clone(&loaded.policies))
            .map_err(|_| AppError::Internal("the access policies' lock was poisoned".to_owned()))
    }

    fn is_built_from(&self, local: &[LocalPolicy]) -> AppResult<bool> {
        let mut local = local.to_vec();
        local.sort_by(|a, b| a.name.cmp(&b.name));
        self.0
            .read()
            .map(|loaded| loaded.local == local)
            .map_err(|_| AppError::Internal("the access policies' lock was poisoned".to_owned()))
    }

    /// Puts `policies`, built from `local`, in force.
    pub(crate) fn replace(
        &self,
        local: Vec<LocalPolicy>,
        policies: AccessPolicies,
    ) -> AppResult<()> {
        let mut current = self
            .0
            .write()
            .map_err(|_| AppError::Internal("the access policies' lock was poisoned".to_owned()))?;
        *current = Loaded::new(local, policies);
        Ok(())
    }
}

impl Custodian {
    /// Loads the local policies again if they changed in the register since this server built
    /// its own, as another server sharing the register may have changed them (X6). `serve`
    /// calls this every few seconds. Returns whether anything changed; policies that do not
    /// validate are refused and the ones in force kept.
    pub async fn refresh_access_policies(&self) -> AppResult<bool> {
        let local = stored_local_policies(&self.register).await?;
        if self.access.is_built_from(&local)? {
            return Ok(false);
        }
        let policies = AccessPolicies::with_local(&local)?;
        tracing::info!(
            policies = policies.len(),
            "the organisation's access policies changed in the register; now in force here"
        );
        self.access.replace(local, policies)?;
        Ok(true)
    }

    /// Checks that `caller` may try `action` on `target`, recording a refusal in the audit
    /// trail with who, what and which rule (S5). Every use case asks through here.
    pub(crate) async fn authorize(
        &self,
        caller: &Caller,
        action: Action,
        target: Target<'_>,
    ) -> AppResult<()> {
        caller.ready()?;
        match self.verdict(caller, action, &target).await? {
            Verdict::Allowed { .. } => Ok(()),
            Verdict::Refused(refusal) => {
                self.record_refusal(caller, action, &target, &refusal)
                    .await?;
                Err(AppError::Refused(refusal))
            }
        }
    }

    /// Refuses (and records the refusal) unless `caller` may try `action`, an act on the
    /// organisation as a whole: for a page that offers it before anything is sent.
    pub async fn may(&self, caller: &Caller, action: Action) -> AppResult<()> {
        self.authorize(caller, action, Target::Organisation).await
    }

    /// Whether `caller` may try `action` on `target`, without recording anything: for leaving
    /// out of lists and search results what they may not see.
    pub(crate) async fn allows(
        &self,
        caller: &Caller,
        action: Action,
        target: Target<'_>,
    ) -> AppResult<bool> {
        Ok(self.verdict(caller, action, &target).await?.is_allowed())
    }

    /// The items of `items` that `caller` may `action`, asked without recording refusals (for
    /// lists and search results). What access needs to know about each person is fetched
    /// once for the whole list, in one transaction, rather than once per item.
    pub(crate) async fn visible<T>(
        &self,
        caller: &Caller,
        action: Action,
        items: Vec<T>,
        target: impl for<'t> Fn(&'t T) -> Target<'t>,
    ) -> AppResult<Vec<T>> {
        let persons: BTreeSet<PersonId> = items
            .iter()
            .flat_map(|item| target(item).persons())
            .collect();
        let known = self.person_access(caller, persons).await?;
        let mut visible = Vec::with_capacity(items.len());
        for item in items {
            if self
                .verdict_knowing(caller, action, &target(&item), &known)?
                .is_allowed()
            {
                visible.push(item);
            }
        }
        Ok(visible)
    }

    /// What access needs to know about each of `persons`, for `caller`, now.
    async fn person_access(
        &self,
        caller: &Caller,
        persons: impl IntoIterator<Item = PersonId>,
    ) -> AppResult<HashMap<PersonId, PersonAccess>> {
        let mut persons = persons.into_iter().peekable();
        let mut known = HashMap::new();
        if persons.peek().is_none() {
            return Ok(known);
        }
        let now = self.clock.now();
        let mut tx = self.register.read().await?;
        for person in persons {
            let access = tx.person_access(caller.member.id, person, now).await?;
            known.insert(person, access);
        }
        Ok(known)
    }

    /// What access needs to know about each of `persons`, for `caller`, at `now`, read in `tx`
    /// (for a use case that gathers everything it decides on in one snapshot).
    pub(crate) async fn person_access_in(
        tx: &mut RegisterTx,
        caller: &Caller,
        persons: impl IntoIterator<Item = PersonId>,
        now: time::OffsetDateTime,
    ) -> AppResult<HashMap<PersonId, PersonAccess>> {
        let mut known = HashMap::new();
        for person in persons {
            if let std::collections::hash_map::Entry::Vacant(slot) = known.entry(person) {
                slot.insert(tx.person_access(caller.member.id, person, now).await?);
            }
        }
        Ok(known)
    }

    async fn verdict(
        &self,
        caller: &Caller,
        action: Action,
        target: &Target<'_>,
    ) -> AppResult<Verdict> {
        let known = self.person_access(caller, target.persons()).await?;
        self.verdict_knowing(caller, action, target, &known)
    }

    /// The verdict, given what access needs to know about every person `target` concerns.
    pub(crate) fn verdict_knowing(
        &self,
        caller: &Caller,
        action: Action,
        target: &Target<'_>,
        known: &HashMap<PersonId, PersonAccess>,
    ) -> AppResult<Verdict> {
        let mut services = BTreeSet::new();
        let mut circumstances = Circumstances::default();
        for person in target.persons() {
            let access = known.get(&person).ok_or_else(|| {
                AppError::Internal(format!(
                    "access facts about person {person} were not fetched"
                ))
            })?;
            services.extend(access.services.iter().map(|s| s.as_str().to_owned()));
            // A connection to anyone this concerns refuses it; emergency access does not lift it (S3).
            circumstances.connected |= access.connected;
            circumstances.emergency |= access.emergency;
        }
        if let Target::Content {
            purpose, consented, ..
        } = target
        {
            circumstances.purpose = Some(purpose.as_str());
            circumstances.consented = *consented;
        }
        if let Target::Session(session) = target {
            services.insert(session.service.as_str().to_owned());
        }
        if let Some(recording) = target.recording() {
            services.insert(recording.service.as_str().to_owned());
        }
        let services: Vec<&str> = services.iter().map(String::as_str).collect();
        let purposes: Vec<&str> = target
            .recording()
            .map(|recording| recording.purposes.iter().map(|p| p.as_str()).collect())
            .unwrap_or_default();
        let staff_services: Vec<&str> = caller.member.services.iter().map(|s| s.as_str()).collect();
        let principal = Principal {
            id: caller.member.id.as_uuid(),
            roles: &caller.member.roles,
            services: &staff_services,
        };
        let resource = match target {
            Target::Organisation => Resource::Organisation,
            Target::Person(id) => Resource::Person {
                id: id.as_uuid(),
                services: &services,
            },
            Target::Session(session) => Resource::Session {
                id: session.id.as_uuid(),
                services: &services,
            },
            Target::Recording(recording) | Target::Content { recording, .. } => {
                Resource::Recording {
                    id: recording.id.as_uuid(),
                    services: &services,
                    purposes: &purposes,
                    de_identified: recording.is_de_identified(),
                }
            }
        };
        Ok(self
            .access
            .current()?
            .decide(&principal, action, &resource, circumstances)?)
    }

    pub(crate) async fn record_refusal(
        &self,
        caller: &Caller,
        action: Action,
        target: &Target<'_>,
        refusal: &Refusal,
    ) -> AppResult<()> {
        let now = self.clock.now();
        let persons = target.persons();
        let (kind, id): (&str, Option<Uuid>) = match target {
            Target::Organisation => ("organisation", None),
            Target::Person(id) => ("person", Some(id.as_uuid())),
            Target::Session(session) => ("session", Some(session.id.as_uuid())),
            Target::Recording(recording) | Target::Content { recording, .. } => {
                ("recording", Some(recording.id.as_uuid()))
            }
        };
        let mut audit = Audit::change("access.refused")
            .outcome(AuditOutcome::Refused)
            .detail(serde_json::json!({
                "action": action.as_str(),
                "resource": { "kind": kind, "id": id },
                "persons": persons,
                "requirement": refusal.requirement,
                "policy": refusal.policy,
                "reason": refusal.reason,
            }));
        if let Some(person) = persons.first() {
            audit = audit.person(*person);
        }
        if let Some(recording) = target.recording() {
            audit = audit.recording(recording.id);
        }
        let mut tx = self.register.write().await?;
        audit.write(&mut tx, caller.actor(), now).await?;
        tx.commit().await?;
        Ok(())
    }
}
