//! The consent form (C1–C4, C14): purposes in plain words, who answers, and the signature.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use custodian_app::AppError;
use custodian_app::persons::PersonRecord;
use custodian_core::DomainError;
use custodian_core::consent::{
    CapacityDecision, ConsentAnswer, ConsentForm, ConsentGiver, EthicsReference, ResearchApproval,
    Scope, Signature, SignatureMethod,
};
use custodian_core::ids::{ConsentId, PersonId, RepresentativeId};
use custodian_core::person::Capacity;
use custodian_core::purpose::{Purpose, PurposeSet};
use custodian_core::signature::SignatureDrawing;
use custodian_core::text::{Note, ServiceCode, ShortText};
use serde::Deserialize;
use uuid::Uuid;

use super::persons::PersonSummary;
use super::signed_in::SignedIn;
use super::{FieldError, error_page, first_error_for, optional, render};
use crate::AppState;
use crate::extract::Path;

/// What was entered, kept when the form comes back with problems.
#[derive(Deserialize, Default)]
pub struct ConsentFields {
    /// Chosen when the form is first shown: a form sent twice records one consent.
    #[serde(default)]
    form_id: String,
    #[serde(default)]
    answer: String,
    #[serde(default)]
    purposes: Vec<String>,
    #[serde(default)]
    study: String,
    #[serde(default)]
    ethics_reference: String,
    #[serde(default)]
    service: String,
    #[serde(default)]
    representative_id: String,
    #[serde(default)]
    assessed_on: String,
    #[serde(default)]
    assessed_by: String,
    #[serde(default)]
    capacity_decision: String,
    #[serde(default)]
    best_interest_note: String,
    #[serde(default)]
    signature_method: String,
    #[serde(default)]
    signed_by: String,
    #[serde(default)]
    witness: String,
    #[serde(default)]
    drawing: String,
    #[serde(default)]
    refusal_explained: String,
    #[serde(default)]
    representatives_may_have_copies: String,
    #[serde(default)]
    notes: String,
}

/// A purpose as a checkbox: its code, words, explanation and whether it is ticked.
pub struct PurposeChoice {
    code: &'static str,
    label: String,
    explanation: &'static str,
    ticked: bool,
}

#[derive(Template)]
#[template(path = "consent_form.html")]
struct ConsentPage {
    title: &'static str,
    signed_in_as: Option<String>,
    errors: Vec<FieldError>,
    person: PersonSummary,
    /// A representative answers for a person who lacks capacity (C3).
    by_representative: bool,
    representatives: Vec<(String, String)>,
    purposes: Vec<PurposeChoice>,
    form: ConsentFields,
}

impl ConsentPage {
    fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    fn error_for(&self, field: &str) -> Option<&str> {
        first_error_for(&self.errors, field)
    }
}

fn page(
    staff: &SignedIn,
    record: &PersonRecord,
    form: ConsentFields,
    errors: Vec<FieldError>,
) -> ConsentPage {
    let purposes = Purpose::ALL
        .iter()
        .map(|purpose| PurposeChoice {
            code: purpose.as_str(),
            label: super::sentence(purpose.label()),
            explanation: purpose.explanation(),
            ticked: form.purposes.iter().any(|code| code == purpose.as_str()),
        })
        .collect();
    ConsentPage {
        title: "Consent to recording",
        signed_in_as: Some(staff.display_name()),
        errors,
        person: PersonSummary::from(&record.person),
        by_representative: record.person.capacity == Capacity::LacksCapacity,
        representatives: record
            .representatives
            .iter()
            .map(|r| (r.id.to_string(), format!("{} ({})", r.name, r.kind.label())))
            .collect(),
        purposes,
        form,
    }
}

pub async fn form(
    State(state): State<AppState>,
    staff: SignedIn,
    Path(person): Path<PersonId>,
) -> Response {
    let record = match state.custodian.person(&staff.0, person).await {
        Ok(record) => record,
        Err(error) => return error_page(error, Some(staff.display_name())),
    };
    let fields = ConsentFields {
        form_id: Uuid::now_v7().to_string(),
        ..ConsentFields::default()
    };
    render(StatusCode::OK, &page(&staff, &record, fields, Vec::new()))
}

pub async fn submit(
    State(state): State<AppState>,
    staff: SignedIn,
    Path(person): Path<PersonId>,
    Form(fields): Form<ConsentFields>,
) -> Response {
    let record = match state.custodian.person(&staff.0, person).await {
        Ok(record) => record,
        Err(error) => return error_page(error, Some(staff.display_name())),
    };
    let by_representative = record.person.capacity == Capacity::LacksCapacity;
    let mut errors = Vec::new();
    let id = Uuid::parse_str(fields.form_id.trim())
        .ok()
        .map(ConsentId::from_uuid);
    if id.is_none() {
        // Only an altered page lacks its id; a fresh one is given below.
        errors.push(FieldError::new(
            "purposes",
            "This form could not be matched to the one shown: check the answers and send it again",
        ));
    }
    let parsed = parse(
        &fields,
        by_representative,
        state.custodian.now(),
        &mut errors,
    );
    if let (Some(form), Some(id)) = (parsed, id) {
        match state
            .custodian
            .record_consent_once(&staff.0, person, id, form)
            .await
        {
            Ok(consent) => {
                return Redirect::to(&format!("/consents/{}", consent.id)).into_response();
            }
            Err(AppError::Invalid(error)) => errors.push(field_error(&error)),
            Err(error) => return error_page(error, Some(staff.display_name())),
        }
    }
    let mut fields = fields;
    if id.is_none() {
        fields.form_id = Uuid::now_v7().to_string();
    }
    let page = page(&staff, &record, fields, errors);
    render(StatusCode::UNPROCESSABLE_ENTITY, &page)
}

/// Checks every field, noting each problem; the form only when there are none.
fn parse(
    fields: &ConsentFields,
    by_representative: bool,
    now: time::OffsetDateTime,
    errors: &mut Vec<FieldError>,
) -> Option<ConsentForm> {
    let mut note = |error: DomainError| errors.push(field_error(&error));
    let answer = match fields.answer.as_str() {
        "" => Err(DomainError::Empty { field: "answer" }),
        answer => ConsentAnswer::parse(answer),
    };
    let purposes = if fields.purposes.is_empty() {
        Err(DomainError::NoPurposes)
    } else {
        PurposeSet::parse(fields.purposes.iter().map(String::as_str))
    };
    let research = if fields.study.trim().is_empty() && fields.ethics_reference.trim().is_empty() {
        Ok(None)
    } else {
        ShortText::parse("research.study", &fields.study).and_then(|study| {
            Ok(Some(ResearchApproval {
                study,
                ethics_reference: EthicsReference::parse(&fields.ethics_reference)?,
            }))
        })
    };
    let service = ServiceCode::parse(&fields.service);
    let given_by = if by_representative {
        representative(fields)
    } else {
        Ok(ConsentGiver::Person)
    };
    let signature = signature(fields);
    let notes = optional(&fields.notes, |text| Note::parse("notes", text));
    let outcomes = [
        answer.as_ref().err(),
        purposes.as_ref().err(),
        research.as_ref().err(),
        service.as_ref().err(),
        given_by.as_ref().err(),
        signature.as_ref().err(),
        notes.as_ref().err(),
    ];
    for error in outcomes.into_iter().flatten() {
        note(error.clone());
    }
    let told = fields.refusal_explained == "yes";
    if !told {
        note(DomainError::RefusalNotExplained);
    }
    let form = ConsentForm {
        answer: answer.ok()?,
        purposes: purposes.ok()?,
        given_by: given_by.ok()?,
        scope: Scope::Service {
            service: service.ok()?,
        },
        signed_at: now,
        signature: signature.ok()?,
        representatives_may_have_copies: fields.representatives_may_have_copies == "yes",
        research: research.ok()?,
        told_refusal_does_not_affect_care: told,
        notes: notes.ok()?,
    };
    told.then_some(form)
}

fn representative(fields: &ConsentFields) -> Result<ConsentGiver, DomainError> {
    let representative_id = fields
        .representative_id
        .parse::<Uuid>()
        .map(RepresentativeId::from_uuid)
        .map_err(|_| DomainError::Empty {
            field: "representative_id",
        })?;
    let assessed_on = time::Date::parse(
        fields.assessed_on.trim(),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|_| DomainError::BadFormat {
        field: "assessed_on",
        expected: "the date capacity was assessed, such as 2026-11-20",
    })?;
    Ok(ConsentGiver::Representative {
        representative_id,
        capacity_decision: CapacityDecision {
            assessed_on,
            assessed_by: ShortText::parse("assessed_by", &fields.assessed_by)?,
            decision: Note::parse("capacity_decision", &fields.capacity_decision)?,
        },
        best_interest_note: Note::parse("best_interest_note", &fields.best_interest_note)?,
    })
}

fn signature(fields: &ConsentFields) -> Result<Signature, DomainError> {
    let method = match fields.signature_method.as_str() {
        "" => Err(DomainError::Empty {
            field: "signature_method",
        }),
        method => SignatureMethod::parse(method),
    }?;
    let drawing = match method {
        SignatureMethod::Drawn => Some(SignatureDrawing::parse(&fields.drawing)?),
        SignatureMethod::TypedWithWitness | SignatureMethod::Paper => None,
    };
    let signature = Signature {
        method,
        signed_by: ShortText::parse("signature.signed_by", &fields.signed_by)?,
        witness: optional(&fields.witness, |text| {
            ShortText::parse("signature.witness", text)
        })?,
        drawing,
    };
    signature.check()?;
    Ok(signature)
}

/// A domain error as a problem beside its field (the field's id on the page), in a sentence.
fn field_error(error: &DomainError) -> FieldError {
    let field = match error.field() {
        Some("answer") => "answer",
        Some("purposes") => "purposes",
        Some("research" | "research.study" | "ethics_reference") => "study",
        Some("service") => "service",
        Some(
            "given_by" | "representative_id" | "assessed_on" | "assessed_by" | "capacity_decision",
        ) => "representative_id",
        Some("best_interest_note") => "best_interest_note",
        Some("signature_method" | "signature.drawing") => "signature_method",
        Some("signature.signed_by") => "signed_by",
        Some("signature.witness") => "witness",
        Some("told_refusal_does_not_affect_care") => "refusal_explained",
        _ => "notes",
    };
    let message = match error {
        DomainError::Empty { field: "answer" } => {
            "Say whether they give or refuse consent".to_owned()
        }
        DomainError::NoPurposes => "Choose at least one purpose".to_owned(),
        DomainError::Empty { field: "service" } => {
            "Enter the service the consent is for, such as CAMHS-NORTH".to_owned()
        }
        DomainError::Empty {
            field: "representative_id",
        } => "Choose the representative who answered for them".to_owned(),
        DomainError::Empty {
            field: "signature_method",
        } => "Say how the form was signed".to_owned(),
        DomainError::Empty {
            field: "signature.signed_by",
        } => "Enter the name of whoever signed".to_owned(),
        DomainError::RefusalNotExplained => {
            "Confirm you told them that saying no does not affect their care".to_owned()
        }
        other => {
            let words = other
                .to_string()
                .replace("signature.signed_by", "the signer's name")
                .replace("signature.witness", "the witness's name")
                .replace("research.study", "the study")
                .replace('_', " ");
            super::sentence(&words)
        }
    };
    FieldError::new(field, message)
}
