//! Legal holds (D7): those standing and lifted, placing one for a matter, and lifting one with
//! a reason (records managers only, as the use case enforces).

use std::collections::{BTreeMap, BTreeSet};

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use custodian_access::Action;
use custodian_app::london::london_time;
use custodian_app::retention::HoldRequest;
use custodian_app::{AppError, Caller, RefusalKind};
use custodian_core::ids::{LegalHoldId, PersonId, RecordingId};
use custodian_core::person::PersonName;
use custodian_core::retention::{LegalHold, MatterKind};
use custodian_core::text::Note;
use serde::Deserialize;

use super::signed_in::SignedIn;
use super::{FieldError, FormErrors, form_errors, render};
use crate::AppState;
use crate::extract::Path;
use crate::pages::PageResult;
use crate::pages::checked::Checked;

/// The form to place a hold, as typed; also filled from a recording's or person's page.
#[derive(Deserialize, Default)]
pub struct HoldForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    reference: String,
    /// Recording ids, separated by commas, spaces or new lines.
    #[serde(default, alias = "recording")]
    recordings: String,
    /// Person ids, likewise.
    #[serde(default, alias = "person")]
    persons: String,
    #[serde(default)]
    done: String,
}

#[derive(Deserialize, Default)]
pub struct LiftForm {
    #[serde(default)]
    reason: String,
}

/// A hold in words.
pub struct HoldLine {
    id: String,
    matter: String,
    placed: String,
    recordings: Vec<String>,
    /// Each person: the link to their record, if the viewer may see it, and a name.
    persons: Vec<(Option<String>, String)>,
    lifted: Option<String>,
    /// What was typed as the reason, when lifting this hold was just refused.
    refused: Option<String>,
}

#[derive(Template)]
#[template(path = "legal_holds.html")]
struct HoldsPage {
    title: &'static str,
    signed_in_as: Option<super::signed_in::Who>,
    errors: Vec<FieldError>,
    done: Option<&'static str>,
    standing: Vec<HoldLine>,
    lifted: Vec<HoldLine>,
    may_place: bool,
    may_lift: bool,
    kinds: Vec<(&'static str, String)>,
    form: HoldForm,
}

form_errors!(HoldsPage);

pub async fn list(
    State(state): State<AppState>,
    staff: SignedIn,
    Query(form): Query<HoldForm>,
) -> PageResult {
    let done = match form.done.as_str() {
        "placed" => Some(
            "The hold is placed. Nothing it covers can be destroyed, by any path, until it is lifted.",
        ),
        "lifted" => Some(
            "The hold is lifted, with your reason in the history of what it covered. Disposal that waited on it goes ahead through the queue.",
        ),
        _ => None,
    };
    page(&state, &staff, form, None, Vec::new(), done).await
}

pub async fn place(
    State(state): State<AppState>,
    staff: SignedIn,
    Checked(form): Checked<HoldForm>,
) -> PageResult {
    let mut errors = Vec::new();
    let kind = match MatterKind::parse(&form.kind) {
        Ok(kind) => Some(kind),
        Err(_) => {
            errors.push(FieldError::new(
                "kind",
                "Choose the kind of matter the hold is for",
            ));
            None
        }
    };
    let recordings: Vec<RecordingId> = ids(&form.recordings, "recordings", &mut errors);
    let persons: Vec<PersonId> = ids(&form.persons, "persons", &mut errors);
    let (Some(kind), true) = (kind, errors.is_empty()) else {
        return page(&state, &staff, form, None, errors, None).await;
    };
    let request = HoldRequest {
        kind,
        reference: form.reference.clone(),
        recordings,
        persons,
        placed_at: None,
    };
    match state
        .custodian
        .place_legal_hold(&staff.caller, request)
        .await
    {
        Ok(_) => Ok(Redirect::to("/legal-holds?done=placed").into_response()),
        Err(AppError::Invalid(error)) => {
            let field = match error.field() {
                Some("matter.reference") => "reference",
                Some("covers") => "recordings",
                _ => "kind",
            };
            let errors = vec![FieldError::new(field, super::sentence(&error.to_string()))];
            page(&state, &staff, form, None, errors, None).await
        }
        Err(AppError::NotFound { what, id }) => {
            let field = if what == "person" {
                "persons"
            } else {
                "recordings"
            };
            let errors = vec![FieldError::new(
                field,
                format!("There is no {what} `{id}`: check the id on its page"),
            )];
            page(&state, &staff, form, None, errors, None).await
        }
        Err(error) => Err(error.into()),
    }
}

pub async fn lift(
    State(state): State<AppState>,
    staff: SignedIn,
    Path(id): Path<LegalHoldId>,
    Checked(lifting): Checked<LiftForm>,
) -> PageResult {
    let refused = |message: String| {
        (
            vec![FieldError::new("lift_reason", message)],
            lifting.reason.clone(),
        )
    };
    let (errors, typed) = if lifting.reason.trim().is_empty() {
        refused(
            "Give the reason the hold no longer needs to stand, such as the claim being settled"
                .to_owned(),
        )
    } else {
        match Note::parse("reason", &lifting.reason) {
            Err(error) => refused(super::sentence(&error.to_string())),
            Ok(reason) => match state
                .custodian
                .lift_legal_hold(&staff.caller, id, reason)
                .await
            {
                Ok(_) => return Ok(Redirect::to("/legal-holds?done=lifted").into_response()),
                Err(AppError::Invalid(error)) => refused(super::sentence(&error.to_string())),
                Err(AppError::Rule { code, message }) if code.kind() == RefusalKind::Conflict => {
                    refused(super::sentence(&message))
                }
                Err(error) => return Err(error.into()),
            },
        }
    };
    let lifting = Some((id.to_string(), typed));
    page(&state, &staff, HoldForm::default(), lifting, errors, None).await
}

/// Ids typed into a field, each checked; a wrong one is a problem with that field.
fn ids<T: std::str::FromStr>(
    text: &str,
    field: &'static str,
    errors: &mut Vec<FieldError>,
) -> Vec<T> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|id| !id.is_empty())
        .filter_map(|id| match id.parse() {
            Ok(id) => Some(id),
            Err(_) => {
                let what = if field == "persons" {
                    "a person's"
                } else {
                    "a recording's"
                };
                errors.push(FieldError::new(
                    field,
                    format!(
                        "`{}` is not {what} id: copy it from their page",
                        id.chars().take(60).collect::<String>()
                    ),
                ));
                None
            }
        })
        .collect()
}

async fn page(
    state: &AppState,
    staff: &SignedIn,
    form: HoldForm,
    lifting: Option<(String, String)>,
    errors: Vec<FieldError>,
    done: Option<&'static str>,
) -> PageResult {
    let custodian = &state.custodian;
    let holds = custodian.legal_holds(&staff.caller).await?;
    let offered = |action| custodian.offers_to_organisation(&staff.caller, action);
    let (may_place, may_lift) = match (
        offered(Action::PlaceLegalHold).await,
        offered(Action::LiftLegalHold).await,
    ) {
        (Ok(place), Ok(lift)) => (place, lift),
        (Err(error), _) | (_, Err(error)) => return Err(error.into()),
    };
    let names = names(custodian, &staff.caller, &holds).await?;
    let (lifted, standing): (Vec<&LegalHold>, Vec<&LegalHold>) =
        holds.iter().partition(|hold| hold.lifted.is_some());
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = HoldsPage {
        title: "Legal holds",
        signed_in_as: Some(staff.who()),
        errors,
        done,
        standing: standing
            .into_iter()
            .map(|hold| {
                let mut line = line(hold, &names);
                if let Some((id, typed)) = &lifting
                    && *id == line.id
                {
                    line.refused = Some(typed.clone());
                }
                line
            })
            .collect(),
        lifted: lifted.into_iter().map(|h| line(h, &names)).collect(),
        may_place,
        may_lift,
        kinds: MatterKind::ALL
            .iter()
            .map(|kind| (kind.as_str(), super::sentence(kind.label())))
            .collect(),
        form,
    };
    Ok(render(status, &page))
}

/// The names of the people the holds cover, where the viewer may see them.
async fn names(
    custodian: &custodian_app::Custodian,
    caller: &Caller,
    holds: &[LegalHold],
) -> Result<BTreeMap<PersonId, PersonName>, AppError> {
    let persons: Vec<PersonId> = holds
        .iter()
        .flat_map(|hold| hold.persons.iter().copied())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if persons.is_empty() {
        return Ok(BTreeMap::new());
    }
    custodian.names_shown(caller, &persons).await
}

fn line(hold: &LegalHold, names: &BTreeMap<PersonId, PersonName>) -> HoldLine {
    HoldLine {
        id: hold.id.to_string(),
        matter: format!(
            "{} {}",
            super::sentence(hold.matter.kind.label()),
            hold.matter.reference
        ),
        placed: london_time(hold.placed_at),
        recordings: hold.recordings.iter().map(ToString::to_string).collect(),
        persons: hold
            .persons
            .iter()
            .map(|person| match names.get(person) {
                Some(name) => (Some(person.to_string()), name.full()),
                None => (
                    None,
                    "A person whose record your role does not show".to_owned(),
                ),
            })
            .collect(),
        lifted: hold
            .lifted
            .as_ref()
            .map(|lifted| format!("Lifted {}: {}", london_time(lifted.at), lifted.reason)),
        refused: None,
    }
}
