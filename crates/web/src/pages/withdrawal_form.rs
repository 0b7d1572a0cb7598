//! The withdrawal form (C8): which purposes, who withdrew, when, and what happens to recordings.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use custodian_access::Action;
use custodian_app::AppError;
use custodian_app::consents::{WithdrawalRequest, WithdrawnBy};
use custodian_app::persons::PersonRecord;
use custodian_core::DomainError;
use custodian_core::consent::{Consent, ConsentAnswer, Disposition};
use custodian_core::ids::{ConsentId, RepresentativeId};
use custodian_core::person::Capacity;
use custodian_core::purpose::PurposeSet;
use custodian_core::text::Note;
use serde::Deserialize;

use super::signed_in::SignedIn;
use super::views::PersonSummary;
use super::{FieldError, FormErrors, form_errors, optional, render};
use crate::AppState;
use crate::extract::Path;
use crate::pages::PageResult;
use crate::pages::checked::Checked;

/// What was entered, kept when the form comes back with problems.
#[derive(Deserialize, Default)]
pub struct WithdrawalFields {
    #[serde(default)]
    purposes: Vec<String>,
    #[serde(default)]
    withdrawn_by: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    time: String,
    #[serde(default)]
    existing_recordings: String,
    #[serde(default)]
    note: String,
    /// The date and time the form offered when shown, as "2026-11-20 14:30".
    #[serde(default)]
    shown: String,
}

#[derive(Template)]
#[template(path = "withdrawal_form.html")]
struct WithdrawalPage {
    title: &'static str,
    signed_in_as: Option<super::signed_in::Who>,
    errors: Vec<FieldError>,
    consent_id: String,
    person: PersonSummary,
    /// Only a representative can withdraw for a person who lacks capacity.
    person_may_withdraw: bool,
    representatives: Vec<(String, String)>,
    /// Code, words, ticked.
    purposes: Vec<(&'static str, String, bool)>,
    form: WithdrawalFields,
}

form_errors!(WithdrawalPage);

fn page(
    staff: &SignedIn,
    consent: &Consent,
    record: &PersonRecord,
    form: WithdrawalFields,
    errors: Vec<FieldError>,
) -> WithdrawalPage {
    WithdrawalPage {
        title: "Withdraw consent",
        signed_in_as: Some(staff.who()),
        errors,
        consent_id: consent.id.to_string(),
        person: PersonSummary::from(&record.person),
        person_may_withdraw: record.person.capacity != Capacity::LacksCapacity,
        representatives: super::views::representative_choices(record),
        purposes: consent
            .purposes
            .iter()
            .map(|p| {
                let ticked = form.purposes.iter().any(|code| code == p.as_str());
                (p.as_str(), super::sentence(p.label()), ticked)
            })
            .collect(),
        form,
    }
}

/// The consent to withdraw: only one that was given can be.
async fn load(
    state: &AppState,
    staff: &SignedIn,
    id: ConsentId,
) -> PageResult<(Consent, PersonRecord)> {
    let (consent, record) = super::consent::load(state, staff, id).await?;
    // Only someone who may record consent is offered a withdrawal to record.
    state
        .custodian
        .person_to(&staff.caller, Action::RecordConsent, record.person.id)
        .await?;
    if consent.answer == ConsentAnswer::Refused {
        return Err(DomainError::WithdrawingARefusal.into());
    }
    Ok((consent, record))
}

pub async fn form(
    State(state): State<AppState>,
    staff: SignedIn,
    Path(id): Path<ConsentId>,
) -> PageResult {
    let (consent, record) = load(&state, &staff, id).await?;
    let (date, time) = super::uk_clock_fields(state.custodian.now());
    let fields = WithdrawalFields {
        // Every purpose is ticked to start with: most people withdraw from all of them.
        purposes: consent
            .purposes
            .iter()
            .map(|p| p.as_str().to_owned())
            .collect(),
        shown: format!("{date} {time}"),
        date,
        time,
        ..WithdrawalFields::default()
    };
    let page = page(&staff, &consent, &record, fields, Vec::new());
    Ok(render(StatusCode::OK, &page))
}

pub async fn submit(
    State(state): State<AppState>,
    staff: SignedIn,
    Path(id): Path<ConsentId>,
    Checked(fields): Checked<WithdrawalFields>,
) -> PageResult {
    let (consent, record) = load(&state, &staff, id).await?;
    let mut errors = Vec::new();
    if let Some(request) = parse(&fields, state.custodian.now(), &mut errors) {
        match state
            .custodian
            .withdraw_consent(&staff.caller, id, request)
            .await
        {
            Ok(_) => return Ok(Redirect::to(&format!("/consents/{id}")).into_response()),
            Err(AppError::Invalid(error)) => errors.push(field_error(&error)),
            Err(error) => return Err(error.into()),
        }
    }
    let page = page(&staff, &consent, &record, fields, errors);
    Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page))
}

/// Checks every field, noting each problem; the request only when there are none.
fn parse(
    fields: &WithdrawalFields,
    now: time::OffsetDateTime,
    errors: &mut Vec<FieldError>,
) -> Option<WithdrawalRequest> {
    let purposes = if fields.purposes.is_empty() {
        Err(DomainError::NoPurposes)
    } else {
        PurposeSet::parse(fields.purposes.iter().map(String::as_str))
    };
    let withdrawn_by = match fields.withdrawn_by.as_str() {
        "" => Err(DomainError::Empty {
            field: "withdrawn_by",
        }),
        "person" => Ok(WithdrawnBy::Person),
        id => id
            .parse()
            .map(|id| WithdrawnBy::Representative(RepresentativeId::from_uuid(id)))
            .map_err(|_| DomainError::Empty {
                field: "withdrawn_by",
            }),
    };
    let existing_recordings = match fields.existing_recordings.as_str() {
        "" => Err(DomainError::Empty {
            field: "existing_recordings",
        }),
        choice => Disposition::parse(choice),
    };
    // The form offers the time it was shown, to the minute; left as it was, it means now (not
    // that minute's first second, which may come before a consent signed a moment ago).
    let left_as_shown = format!("{} {}", fields.date.trim(), fields.time.trim()) == fields.shown;
    let at = if left_as_shown {
        Ok(now)
    } else {
        super::uk_clock_moment(
            "at",
            "the date and time they withdrew, such as 2026-11-20 and 14:30",
            &fields.date,
            &fields.time,
        )
    };
    let note = optional(&fields.note, |text| Note::parse("note", text));
    let outcomes = [
        purposes.as_ref().err(),
        withdrawn_by.as_ref().err(),
        existing_recordings.as_ref().err(),
        at.as_ref().err(),
        note.as_ref().err(),
    ];
    for error in outcomes.into_iter().flatten() {
        errors.push(field_error(error));
    }
    Some(WithdrawalRequest {
        at: at.ok()?,
        purposes: purposes.ok()?,
        withdrawn_by: withdrawn_by.ok()?,
        existing_recordings: existing_recordings.ok()?,
        note: note.ok()?,
    })
}

/// A domain error as a problem beside its field, in a sentence.
fn field_error(error: &DomainError) -> FieldError {
    let field = match error.field() {
        Some("withdrawn_by" | "given_by" | "representative_id") => "withdrawn_by",
        Some("existing_recordings" | "disposition") => "existing_recordings",
        Some("at") => "date",
        Some("note") => "note",
        _ => "purposes",
    };
    let message = match error {
        DomainError::NoPurposes => "Choose at least one purpose they withdraw from".to_owned(),
        DomainError::Empty {
            field: "withdrawn_by",
        } => "Say who withdrew the consent".to_owned(),
        DomainError::Empty {
            field: "existing_recordings",
        } => "Say what they want done with recordings already made".to_owned(),
        DomainError::RepresentativeOfAnotherPerson => {
            "Choose one of this person's own representatives".to_owned()
        }
        other => super::sentence(&other.to_string().replace('_', " ")),
    };
    FieldError::new(field, message)
}
