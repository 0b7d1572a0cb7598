//! Reading the consent form's answers into the core's consent form, naming each problem by field.

use custodian_core::DomainError;
use custodian_core::consent::{
    CapacityDecision, ConsentAnswer, ConsentForm, ConsentGiver, EthicsReference, ResearchApproval,
    Scope, Signature, SignatureMethod,
};
use custodian_core::ids::RepresentativeId;
use custodian_core::purpose::PurposeSet;
use custodian_core::signature::SignatureDrawing;
use custodian_core::text::{Note, ServiceCode, ShortText};
use uuid::Uuid;

use super::ConsentFields;
use crate::pages::{FieldError, optional};

/// Checks every field, noting each problem; the form only when there are none.
pub(super) fn parse(
    fields: &ConsentFields,
    by_representative: bool,
    covered: Option<Scope>,
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
    // A consent for a course or a session covers just that; otherwise the service's recordings.
    let scope = match covered {
        Some(scope) => Ok(scope),
        None => ServiceCode::parse(&fields.service).map(|service| Scope::Service { service }),
    };
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
        scope.as_ref().err(),
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
        scope: scope.ok()?,
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
pub(super) fn field_error(error: &DomainError) -> FieldError {
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
            crate::pages::sentence(&words)
        }
    };
    FieldError::new(field, message)
}
