//! Changes to the organisation's access policies waiting for approval (X6): an information-
//! governance lead approves or rejects each; the administrator who proposed one may withdraw it.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use custodian_access::Action;
use custodian_app::london::london_time;

use super::render;
use super::signed_in::SignedIn;
use super::views::Done;
use crate::AppState;
use crate::extract::Path;
use crate::pages::PageResult;
use crate::pages::checked::{Checked, NoFields};

/// A proposal as the page shows it.
pub struct ProposalLine {
    name: String,
    /// The new text; none for a removal.
    text: Option<String>,
    proposed_at: String,
    /// The one who proposed it is looking: they may withdraw it, not approve it.
    theirs: bool,
}

#[derive(Template)]
#[template(path = "policy_proposals.html")]
struct ProposalsPage {
    title: &'static str,
    signed_in_as: Option<super::signed_in::Who>,
    proposals: Vec<ProposalLine>,
    may_approve: bool,
    done: Option<&'static str>,
}

/// The proposals waiting, with what the viewer may do to each.
pub async fn list(
    State(state): State<AppState>,
    staff: SignedIn,
    Query(done): Query<Done>,
) -> PageResult {
    let custodian = &state.custodian;
    let (proposals, may_approve) = match (
        custodian.policy_proposals(&staff.caller).await,
        custodian
            .offers_to_organisation(&staff.caller, Action::ApprovePolicies)
            .await,
    ) {
        (Ok(proposals), Ok(may_approve)) => (proposals, may_approve),
        (Err(error), _) | (_, Err(error)) => return Err(error.into()),
    };
    let page = ProposalsPage {
        title: "Access policy changes waiting for approval",
        signed_in_as: Some(staff.who()),
        proposals: proposals
            .into_iter()
            .map(|proposal| ProposalLine {
                theirs: proposal.proposed_by == staff.caller.member.id.as_uuid(),
                name: proposal.name,
                text: proposal.text,
                proposed_at: london_time(proposal.proposed_at),
            })
            .collect(),
        may_approve,
        done: match done.as_str() {
            "approved" => Some("The change is approved and in force."),
            "rejected" => Some("The change is rejected: nothing changed."),
            _ => None,
        },
    };
    Ok(render(StatusCode::OK, &page))
}

/// Approves one; it takes effect at once.
pub async fn approve(
    State(state): State<AppState>,
    staff: SignedIn,
    Path(name): Path<String>,
    Checked(NoFields {}): Checked<NoFields>,
) -> PageResult {
    state
        .custodian
        .approve_local_policy(&staff.caller, &name)
        .await?;
    Ok(Redirect::to("/policy-proposals?done=approved").into_response())
}

/// Rejects one, or withdraws one's own.
pub async fn reject(
    State(state): State<AppState>,
    staff: SignedIn,
    Path(name): Path<String>,
    Checked(NoFields {}): Checked<NoFields>,
) -> PageResult {
    state
        .custodian
        .reject_local_policy(&staff.caller, &name)
        .await?;
    Ok(Redirect::to("/policy-proposals?done=rejected").into_response())
}
