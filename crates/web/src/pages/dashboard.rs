//! The home page: today's sessions, who still has to say they are willing, recordings with problems.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use custodian_access::Action;
use custodian_app::london::in_london;
use custodian_core::ids::StaffId;

use super::render;
use super::signed_in::SignedIn;
use crate::AppState;
use crate::pages::PageResult;

/// A session of today, in words.
pub struct SessionLine {
    id: String,
    starts: String,
    title: String,
    /// Names of those not yet asked "still willing today?".
    not_yet_asked: Vec<String>,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    title: &'static str,
    signed_in_as: Option<super::signed_in::Who>,
    today: String,
    sessions: Vec<SessionLine>,
    missing_media: Vec<(String, String)>,
    failed_integrity: Vec<(String, String)>,
    device_copy_to_delete: Vec<(String, String)>,
    /// For the information-governance lead: emergency access taken and not yet reviewed (S3).
    emergency: Vec<EmergencyLine>,
    may_find_persons: bool,
    /// The pages of the roles that oversee access and manage accounts and policies.
    may_oversee_access: bool,
    may_manage_accounts: bool,
    may_manage_policies: bool,
    may_approve_policies: bool,
    /// The retention pages, for records managers, IG leads and administrators (D2, D4, D7).
    may_review_disposals: bool,
    may_view_legal_holds: bool,
    may_view_retention: bool,
}

/// One grant of emergency access, as the IG lead reviews it.
struct EmergencyLine {
    id: String,
    /// Who took it.
    taken_by: String,
    person_id: String,
    started: String,
    ends: String,
    reason: String,
    connected: bool,
}

pub async fn show(State(state): State<AppState>, staff: SignedIn) -> PageResult {
    let custodian = &state.custodian;
    let dashboard = custodian.dashboard(&staff.caller).await?;
    let mut sessions = Vec::with_capacity(dashboard.sessions_today.len());
    for today in &dashboard.sessions_today {
        let mut not_yet_asked = Vec::with_capacity(today.not_yet_asked.len());
        for person in &today.not_yet_asked {
            match custodian.person(&staff.caller, *person).await {
                Ok(record) => not_yet_asked.push(record.person.name.full()),
                Err(error) => return Err(error.into()),
            }
        }
        let starts = in_london(today.session.starts_at);
        sessions.push(SessionLine {
            id: today.session.id.to_string(),
            starts: format!("{:02}:{:02}", starts.hour(), starts.minute()),
            title: today.session.title.to_string(),
            not_yet_asked,
        });
    }
    let offered = |action| custodian.offers_to_organisation(&staff.caller, action);
    let (may_oversee_access, may_manage_accounts, may_manage_policies) = match (
        offered(Action::OverseeAccess).await,
        offered(Action::ManageAccounts).await,
        offered(Action::ManagePolicies).await,
    ) {
        (Ok(oversee), Ok(accounts), Ok(policies)) => (oversee, accounts, policies),
        (Err(error), _, _) | (_, Err(error), _) | (_, _, Err(error)) => {
            return Err(error.into());
        }
    };
    let may_approve_policies = offered(Action::ApprovePolicies).await?;
    let (may_review_disposals, may_view_legal_holds, may_view_retention) = match (
        offered(Action::ReviewDisposal).await,
        offered(Action::ViewLegalHolds).await,
        offered(Action::ViewRetention).await,
    ) {
        (Ok(disposals), Ok(holds), Ok(schedule)) => (disposals, holds, schedule),
        (Err(error), _, _) | (_, Err(error), _) | (_, _, Err(error)) => {
            return Err(error.into());
        }
    };
    let takers: Vec<StaffId> = dashboard
        .emergency_to_review
        .iter()
        .map(|grant| StaffId::from_uuid(grant.staff_id))
        .collect();
    let taken_by = if takers.is_empty() {
        std::collections::BTreeMap::new()
    } else {
        custodian.staff_names(&staff.caller, &takers).await?
    };
    let page = DashboardPage {
        title: "Your day",
        signed_in_as: Some(staff.who()),
        today: super::long_date(in_london(custodian.now()).date()),
        sessions,
        missing_media: super::views::recording_links(&dashboard.missing_media),
        failed_integrity: super::views::recording_links(&dashboard.failed_integrity),
        device_copy_to_delete: super::views::recording_links(&dashboard.device_copy_to_delete),
        may_find_persons: dashboard.may_find_persons,
        may_oversee_access,
        may_manage_accounts,
        may_manage_policies,
        may_approve_policies,
        may_review_disposals,
        may_view_legal_holds,
        may_view_retention,
        emergency: dashboard
            .emergency_to_review
            .iter()
            .map(|grant| EmergencyLine {
                id: grant.id.to_string(),
                taken_by: taken_by
                    .get(&StaffId::from_uuid(grant.staff_id))
                    .cloned()
                    .unwrap_or_else(|| "An account no longer known".to_owned()),
                person_id: grant.person_id.to_string(),
                started: custodian_app::london::london_time(grant.started_at),
                ends: custodian_app::london::london_time(grant.ends_at),
                reason: grant.reason.clone(),
                connected: grant.connected,
            })
            .collect(),
    };
    Ok(render(StatusCode::OK, &page))
}
