//! The organisation's own access policies (X6): an administrator proposes a change, checked at
//! once, and it takes effect only when an information-governance lead, another person, approves.

use custodian_access::{AccessPolicies, Action, LocalPolicy};
use custodian_store::{PolicyProposal, RegisterTx, StoredPolicy};
use sha2::{Digest, Sha256};

use crate::access::Target;
use crate::accounts::Caller;
use crate::audit_trail::Audit;
use crate::error_code::ErrorCode;
use crate::uses::{GrantsResting, revoke_grants};
use crate::{AppError, AppResult, Custodian};

impl Custodian {
    /// The organisation's own access policies in force.
    pub async fn local_policies(&self, caller: &Caller) -> AppResult<Vec<StoredPolicy>> {
        self.authorize(caller, Action::ManagePolicies, Target::Organisation)
            .await?;
        let mut tx = self.register.read().await?;
        Ok(tx.local_policies().await?)
    }

    /// Changes to local policies waiting for approval: for those who propose them and those
    /// who approve them.
    pub async fn policy_proposals(&self, caller: &Caller) -> AppResult<Vec<PolicyProposal>> {
        self.authorize_proposals(caller).await?;
        let mut tx = self.register.read().await?;
        Ok(tx.policy_proposals().await?)
    }

    /// Proposes adding or replacing a local policy. It is checked now as it would stand with
    /// the others (Cedar's validator against the schema, then the guard rails), so an invalid
    /// or over-wide one is refused with the reason; a sound one waits for approval. Audited
    /// with the text and its SHA-256.
    #[tracing::instrument(skip(self, caller, text), fields(staff = %caller.member.id))]
    pub async fn put_local_policy(
        &self,
        caller: &Caller,
        name: &str,
        text: &str,
    ) -> AppResult<PolicyProposal> {
        self.propose(caller, name, Some(text)).await
    }

    /// Proposes removing a local policy; it goes when the proposal is approved.
    #[tracing::instrument(skip(self, caller), fields(staff = %caller.member.id))]
    pub async fn delete_local_policy(
        &self,
        caller: &Caller,
        name: &str,
    ) -> AppResult<PolicyProposal> {
        self.propose(caller, name, None).await
    }

    /// Refuses (and records the refusal) unless `caller` approves policy changes or proposes
    /// them: either may see the proposals and take one back.
    async fn authorize_proposals(&self, caller: &Caller) -> AppResult<()> {
        if self
            .allows(caller, Action::ApprovePolicies, Target::Organisation)
            .await?
        {
            return Ok(());
        }
        self.authorize(caller, Action::ManagePolicies, Target::Organisation)
            .await
    }

    async fn propose(
        &self,
        caller: &Caller,
        name: &str,
        text: Option<&str>,
    ) -> AppResult<PolicyProposal> {
        self.authorize(caller, Action::ManagePolicies, Target::Organisation)
            .await?;
        let now = self.clock.now();
        let mut tx = self.register.write().await?;
        would_stand(&mut tx, name, text).await?;
        let proposal = PolicyProposal {
            name: name.to_owned(),
            text: text.map(str::to_owned),
            proposed_at: now,
            proposed_by: caller.member.id.as_uuid(),
        };
        tx.put_policy_proposal(&proposal).await?;
        Audit::change("access.policy_proposed")
            .detail(serde_json::json!({
                "name": name,
                "text": text,
                "sha256": text.map(|t| hex::encode(Sha256::digest(t.as_bytes()))),
                "removal": text.is_none(),
            }))
            .write(&mut tx, caller.actor(), now)
            .await?;
        tx.commit().await?;
        Ok(proposal)
    }

    /// Approves the change proposed to the local policy `name`, which takes effect at once on
    /// this server and within seconds on others; grants to use recordings end, since who may
    /// use what may have changed. Refused to the one who proposed it. Checked again against the
    /// policies as they stand now.
    #[tracing::instrument(skip(self, caller), fields(staff = %caller.member.id))]
    pub async fn approve_local_policy(&self, caller: &Caller, name: &str) -> AppResult<()> {
        self.authorize(caller, Action::ApprovePolicies, Target::Organisation)
            .await?;
        let now = self.clock.now();
        let mut tx = self.register.write().await?;
        let proposal = tx
            .policy_proposal(name)
            .await?
            .ok_or_else(|| AppError::not_found("policy proposal", name))?;
        if proposal.proposed_by == caller.member.id.as_uuid() {
            return Err(AppError::Rule {
                code: ErrorCode::AccessOwnProposal,
                message: "you proposed this change, so someone else must approve it: ask another information-governance lead".to_owned(),
            });
        }
        let text = proposal.text.as_deref();
        let (in_force, policies) = would_stand(&mut tx, name, text).await?;
        let action = match text {
            Some(text) => {
                tx.put_local_policy(&StoredPolicy {
                    name: name.to_owned(),
                    text: text.to_owned(),
                    changed_at: now,
                    changed_by: proposal.proposed_by,
                })
                .await?;
                "access.policy_changed"
            }
            None => {
                tx.delete_local_policy(name).await?;
                "access.policy_removed"
            }
        };
        tx.delete_policy_proposal(name).await?;
        revoke_grants(
            &mut tx,
            GrantsResting::Anywhere,
            now,
            "the organisation's access policies changed",
        )
        .await?;
        Audit::change(action)
            .detail(serde_json::json!({
                "name": name,
                "text": text,
                "sha256": text.map(|t| hex::encode(Sha256::digest(t.as_bytes()))),
                "proposed_by": proposal.proposed_by,
                "approved_by": caller.member.id,
                "policies_in_force": policies.len(),
            }))
            .write(&mut tx, caller.actor(), now)
            .await?;
        tx.commit().await?;
        self.access.replace(in_force, policies)?;
        Ok(())
    }

    /// Rejects (or, for its proposer's side, withdraws) the change proposed to `name`; audited.
    #[tracing::instrument(skip(self, caller), fields(staff = %caller.member.id))]
    pub async fn reject_local_policy(&self, caller: &Caller, name: &str) -> AppResult<()> {
        self.authorize_proposals(caller).await?;
        let now = self.clock.now();
        let mut tx = self.register.write().await?;
        if !tx.delete_policy_proposal(name).await? {
            return Err(AppError::not_found("policy proposal", name));
        }
        Audit::change("access.policy_rejected")
            .detail(serde_json::json!({ "name": name }))
            .write(&mut tx, caller.actor(), now)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// The local policies as they would stand with `name` set to `text` (or removed), and the
/// whole set built from them: refused if a policy of that name is to be removed but none is in
/// force, if the set does not validate, or if it would let a role outside care play clinical
/// media (one administrator must not be able to hand it to anyone, S2).
async fn would_stand(
    tx: &mut RegisterTx,
    name: &str,
    text: Option<&str>,
) -> AppResult<(Vec<LocalPolicy>, AccessPolicies)> {
    let stored = tx.local_policies().await?;
    if text.is_none() && stored.iter().all(|policy| policy.name != name) {
        return Err(AppError::not_found("local policy", name));
    }
    let mut local: Vec<LocalPolicy> = stored
        .into_iter()
        .filter(|policy| policy.name != name)
        .map(|policy| LocalPolicy {
            name: policy.name,
            text: policy.text,
        })
        .collect();
    if let Some(text) = text {
        local.push(LocalPolicy {
            name: name.to_owned(),
            text: text.to_owned(),
        });
    }
    let policies = AccessPolicies::with_local(&local)?;
    let breaches = policies.beyond_guard_rails()?;
    if !breaches.is_empty() {
        return Err(AppError::InvalidPolicy(format!(
            "this change is refused: {}; grant such access only to practitioners and team managers, for the services that care for the person",
            breaches.join("; ")
        )));
    }
    Ok((local, policies))
}
