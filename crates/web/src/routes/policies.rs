//! The organisation's own access policies (X6): in force, proposed by an administrator, and
//! approved or rejected by an information-governance lead before they take effect.

use axum::extract::State;
use axum::http::StatusCode;
use custodian_store::PolicyProposal;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::error::{ApiResult, Problem};
use crate::extract::{Body, Path, Staff};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(local_policies))
        .routes(routes!(put_local_policy, delete_local_policy))
        .routes(routes!(policy_proposals))
        .routes(routes!(approve_policy))
        .routes(routes!(reject_policy))
}

/// The access policies in force: the shipped ones by id, and the organisation's own in full.
#[derive(Serialize, ToSchema)]
pub struct PoliciesView {
    shipped: Vec<String>,
    local: Vec<LocalPolicyView>,
}

#[derive(Serialize, ToSchema)]
pub struct LocalPolicyView {
    name: String,
    /// Cedar policy text.
    text: String,
    #[serde(with = "time::serde::rfc3339")]
    changed_at: OffsetDateTime,
    /// Who proposed it; an information-governance lead approved it (see the audit trail).
    changed_by: Uuid,
}

/// A change to a local policy waiting for an information-governance lead's approval.
#[derive(Serialize, ToSchema)]
pub struct ProposalView {
    name: String,
    /// The new Cedar text; absent when the proposal is to remove the policy.
    text: Option<String>,
    removal: bool,
    #[serde(with = "time::serde::rfc3339")]
    proposed_at: OffsetDateTime,
    proposed_by: Uuid,
}

impl From<PolicyProposal> for ProposalView {
    fn from(proposal: PolicyProposal) -> Self {
        Self {
            name: proposal.name,
            removal: proposal.text.is_none(),
            text: proposal.text,
            proposed_at: proposal.proposed_at,
            proposed_by: proposal.proposed_by,
        }
    }
}

/// The access policies in force.
#[utoipa::path(get, path = "/policies", tag = "access",
    responses((status = OK, body = PoliciesView), (status = FORBIDDEN, body = Problem)))]
async fn local_policies(
    State(state): State<AppState>,
    Staff(caller): Staff,
) -> ApiResult<axum::Json<PoliciesView>> {
    let local = state.custodian.local_policies(&caller).await?;
    Ok(axum::Json(PoliciesView {
        shipped: custodian_access::AccessPolicies::shipped()
            .map(|policies| policies.policy_ids())
            .unwrap_or_default(),
        local: local
            .into_iter()
            .map(|policy| LocalPolicyView {
                name: policy.name,
                text: policy.text,
                changed_at: policy.changed_at,
                changed_by: policy.changed_by,
            })
            .collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyText {
    /// Cedar policies, checked against the schema before they are proposed.
    #[schema(
        example = "forbid (principal, action == Custodian::Action::\"break_glass\", resource) when { principal.services.contains(\"AGENCY-BANK\") };"
    )]
    text: String,
}

/// Propose adding or replacing one of the organisation's own policies (X6). It is checked now
/// (an invalid or over-wide one is refused with the reason, 422) and takes effect when an
/// information-governance lead approves it; audited.
#[utoipa::path(put, path = "/policies/{name}", tag = "access", params(("name" = String, Path)),
    request_body = PolicyText,
    responses((status = ACCEPTED, body = ProposalView, description = "Waiting for approval"),
        (status = FORBIDDEN, body = Problem), (status = UNPROCESSABLE_ENTITY, body = Problem)))]
async fn put_local_policy(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(name): Path<String>,
    Body(policy): Body<PolicyText>,
) -> ApiResult<(StatusCode, axum::Json<ProposalView>)> {
    let proposal = state
        .custodian
        .put_local_policy(&caller, &name, &policy.text)
        .await?;
    Ok((StatusCode::ACCEPTED, axum::Json(proposal.into())))
}

/// Propose removing one of the organisation's own policies; it goes when approved.
#[utoipa::path(delete, path = "/policies/{name}", tag = "access", params(("name" = String, Path)),
    responses((status = ACCEPTED, body = ProposalView, description = "Waiting for approval"),
        (status = FORBIDDEN, body = Problem), (status = NOT_FOUND, body = Problem)))]
async fn delete_local_policy(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(name): Path<String>,
) -> ApiResult<(StatusCode, axum::Json<ProposalView>)> {
    let proposal = state.custodian.delete_local_policy(&caller, &name).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(proposal.into())))
}

/// Changes to local policies waiting for approval.
#[utoipa::path(get, path = "/policy-proposals", tag = "access",
    responses((status = OK, body = Vec<ProposalView>), (status = FORBIDDEN, body = Problem)))]
async fn policy_proposals(
    State(state): State<AppState>,
    Staff(caller): Staff,
) -> ApiResult<axum::Json<Vec<ProposalView>>> {
    let proposals = state.custodian.policy_proposals(&caller).await?;
    Ok(axum::Json(proposals.into_iter().map(Into::into).collect()))
}

/// Approve a proposed change (information-governance leads; not the one who proposed it): it
/// takes effect at once, checked again against the policies as they stand.
#[utoipa::path(post, path = "/policy-proposals/{name}/approval", tag = "access", params(("name" = String, Path)),
    responses((status = NO_CONTENT, description = "In force"), (status = FORBIDDEN, body = Problem),
        (status = NOT_FOUND, body = Problem), (status = UNPROCESSABLE_ENTITY, body = Problem)))]
async fn approve_policy(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    state.custodian.approve_local_policy(&caller, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Reject a proposed change (information-governance leads), or withdraw it (administrators).
#[utoipa::path(delete, path = "/policy-proposals/{name}", tag = "access", params(("name" = String, Path)),
    responses((status = NO_CONTENT, description = "Rejected"), (status = FORBIDDEN, body = Problem),
        (status = NOT_FOUND, body = Problem)))]
async fn reject_policy(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    state.custodian.reject_local_policy(&caller, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}
