//! Finding a person, and the person page.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use custodian_access::Action;
use custodian_app::consents::ConsentHistory;
use custodian_app::dashboard::PersonOverview;
use custodian_app::london::london_time;
use custodian_core::consent::{ConsentAnswer, Scope};
use custodian_core::ids::PersonId;
use custodian_core::purpose::Purpose;
use serde::Deserialize;

use super::render;
use super::signed_in::SignedIn;
use super::views::{PersonSummary, recording_links};
use crate::AppState;
use crate::extract::Path;
use crate::pages::PageResult;

/// How many people a search shows; more means the search should be narrower.
const RESULTS: u32 = 50;

#[derive(Template)]
#[template(path = "persons.html")]
struct FindPage {
    title: &'static str,
    signed_in_as: Option<super::signed_in::Who>,
    query: String,
    searched: bool,
    found: Vec<PersonSummary>,
    more: bool,
}

#[derive(Deserialize)]
pub struct Search {
    #[serde(default)]
    q: String,
}

pub async fn find(
    State(state): State<AppState>,
    staff: SignedIn,
    Query(search): Query<Search>,
) -> PageResult {
    state
        .custodian
        .may(&staff.caller, custodian_access::Action::FindPersons)
        .await?;
    let query = search.q.trim().to_owned();
    let found = if query.is_empty() {
        Vec::new()
    } else {
        state
            .custodian
            .find_persons(&staff.caller, &query, RESULTS + 1)
            .await?
    };
    let more = found.len() > RESULTS as usize;
    let page = FindPage {
        title: "Find a person",
        signed_in_as: Some(staff.who()),
        searched: !query.is_empty(),
        query,
        found: found
            .iter()
            .take(RESULTS as usize)
            .map(PersonSummary::from)
            .collect(),
        more,
    };
    Ok(render(StatusCode::OK, &page))
}

#[derive(Template)]
#[template(path = "person.html")]
struct PersonPage {
    title: String,
    signed_in_as: Option<super::signed_in::Who>,
    person: PersonSummary,
    representatives: Vec<(String, &'static str, Option<String>)>,
    consents: Vec<PurposeStatus>,
    /// Id and words, latest first.
    sessions: Vec<(String, String)>,
    recordings: Vec<(String, String)>,
    /// Today's sessions in which they are still to be asked "still willing today?".
    not_yet_asked: Vec<(String, String)>,
    /// The services caring for them, whose staff may see them (S2).
    services: Vec<String>,
    /// Whether the viewer sees them under emergency access, which the page says (S3).
    under_emergency_access: bool,
    /// Whether the viewer may add another service to their care (a team manager's act).
    may_assign_service: bool,
    /// Whether the viewer may record their consent, so the page offers the forms.
    may_record_consent: bool,
    /// Whether the viewer may start a session with them (and so set up a course).
    may_start_session: bool,
    /// Whether the viewer oversees access, and so may see who looked at the record (S2).
    may_see_looks: bool,
}

/// How many sessions and recordings the person page lists.
const LATEST: u32 = 20;

/// Where a person stands on one purpose: their latest answer, and any withdrawal of it (C1, C8).
pub struct PurposeStatus {
    purpose: String,
    covers: String,
    status: &'static str,
    tone: &'static str,
    since: String,
    consent_id: String,
}

/// Each purpose the person was asked about, for each thing a consent covered (a service, a
/// course, a session…): the latest answer there, withdrawals applied. A later answer for one
/// session does not hide the answer for the whole service.
fn purpose_statuses(history: &ConsentHistory) -> Vec<PurposeStatus> {
    let mut statuses = Vec::new();
    for purpose in Purpose::ALL {
        let asked: Vec<_> = history
            .consents
            .iter()
            .filter(|consent| consent.purposes.contains(*purpose))
            .collect();
        let mut scopes: Vec<&Scope> = Vec::new();
        for consent in &asked {
            if !scopes.contains(&&consent.scope) {
                scopes.push(&consent.scope);
            }
        }
        for scope in scopes {
            let Some(latest) = asked
                .iter()
                .filter(|consent| consent.scope == *scope)
                .max_by_key(|consent| consent.signed_at)
            else {
                continue;
            };
            let withdrawal = history.withdrawals.iter().find(|withdrawal| {
                withdrawal.consent_id == latest.id && withdrawal.purposes.contains(*purpose)
            });
            let (status, tone, since) = match (withdrawal, latest.answer) {
                (Some(withdrawal), _) => ("Withdrawn", "grey", withdrawal.at),
                (None, ConsentAnswer::Given) => ("Given", "green", latest.signed_at),
                (None, ConsentAnswer::Refused) => ("Refused", "red", latest.signed_at),
            };
            statuses.push(PurposeStatus {
                purpose: super::sentence(purpose.label()),
                covers: super::sentence(&super::views::scope_words(scope)),
                status,
                tone,
                since: london_time(since),
                consent_id: latest.id.to_string(),
            });
        }
    }
    statuses
}

pub async fn person(
    State(state): State<AppState>,
    staff: SignedIn,
    Path(id): Path<PersonId>,
) -> PageResult {
    let overview = match state
        .custodian
        .person_overview(&staff.caller, id, LATEST)
        .await
    {
        Ok(overview) => overview,
        Err(error) => return super::emergency::refused_person(&state, &staff, id, error).await,
    };
    let read = custodian_app::reads::Read::PersonOpened(id);
    state.custodian.note_read(&staff.caller, read).await?;
    let access = state.custodian.access_to_person(&staff.caller, id).await?;
    let mut offered = [false; 3];
    for (may, action) in offered.iter_mut().zip([
        Action::AssignService,
        Action::RecordConsent,
        Action::StartSession,
    ]) {
        *may = state.custodian.offers(&staff.caller, action, id).await?;
    }
    let [may_assign_service, may_record_consent, may_start_session] = offered;
    let may_see_looks = state
        .custodian
        .offers_to_organisation(&staff.caller, Action::OverseeAccess)
        .await?;
    let PersonOverview {
        record,
        history,
        sessions,
        recordings,
        not_yet_asked,
    } = overview;
    let page = PersonPage {
        title: record.person.name.full(),
        signed_in_as: Some(staff.who()),
        person: PersonSummary::from(&record.person),
        representatives: record
            .representatives
            .iter()
            .map(|r| {
                (
                    r.name.to_string(),
                    r.kind.label(),
                    r.contact.as_ref().map(ToString::to_string),
                )
            })
            .collect(),
        consents: purpose_statuses(&history),
        sessions: sessions
            .iter()
            .map(|session| {
                let words = format!("{}, {}", session.title, london_time(session.starts_at));
                (session.id.to_string(), words)
            })
            .collect(),
        recordings: recording_links(&recordings),
        not_yet_asked: not_yet_asked
            .iter()
            .map(|session| (session.id.to_string(), session.title.to_string()))
            .collect(),
        services: access.services.iter().map(ToString::to_string).collect(),
        under_emergency_access: access.emergency,
        may_assign_service,
        may_record_consent,
        may_start_session,
        may_see_looks,
    };
    Ok(render(StatusCode::OK, &page))
}

#[derive(Template)]
#[template(path = "person_looks.html")]
struct LooksPage {
    title: String,
    signed_in_as: Option<super::signed_in::Who>,
    person_id: String,
    /// When (Europe/London), who, what.
    looks: Vec<(String, String, String)>,
}

/// Who looked at a person's record or used their recordings, latest first (S2): for the
/// information-governance lead, from the person's page.
pub async fn looks(
    State(state): State<AppState>,
    staff: SignedIn,
    Path(id): Path<PersonId>,
) -> PageResult {
    let custodian = &state.custodian;
    let (record, looks) = match (
        custodian.person(&staff.caller, id).await,
        custodian.who_looked(&staff.caller, id, 500).await,
    ) {
        (Ok(record), Ok(looks)) => (record, looks),
        (Err(error), _) | (_, Err(error)) => return Err(error.into()),
    };
    let page = LooksPage {
        title: format!("Who looked at {}'s record", record.person.name.full()),
        signed_in_as: Some(staff.who()),
        person_id: id.to_string(),
        looks: looks
            .into_iter()
            .map(|look| (london_time(look.at), look.by, look.what))
            .collect(),
    };
    Ok(render(StatusCode::OK, &page))
}
