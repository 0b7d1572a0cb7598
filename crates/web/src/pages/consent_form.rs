//! The consent form (C1–C4, C14): purposes in plain words, who answers, and the signature.

use askama::Template;
use axum::extract::{Query, State};
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
use custodian_core::ids::{ConsentId, CourseId, PersonId, RepresentativeId};
use custodian_core::person::Capacity;
use custodian_core::purpose::{Purpose, PurposeSet};
use custodian_core::session::Course;
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
    /// The course the consent covers, when started from a new course (C5); else the service.
    #[serde(default)]
    course_id: String,
    /// The question page this was sent from; none means the whole form at once.
    #[serde(default)]
    step: String,
    /// A "Change" link on the check page: the question page to go back to.
    #[serde(default)]
    goto: String,
}

/// The form's question pages, in order (one question per page, then check your answers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    Purposes,
    Answer,
    Representative,
    Details,
    Signature,
    Check,
}

impl Step {
    const ALL: [Self; 6] = [
        Self::Purposes,
        Self::Answer,
        Self::Representative,
        Self::Details,
        Self::Signature,
        Self::Check,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Purposes => "purposes",
            Self::Answer => "answer",
            Self::Representative => "representative",
            Self::Details => "details",
            Self::Signature => "signature",
            Self::Check => "check",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|step| step.as_str() == text)
    }

    /// The question page that asks for `field` (a field id the page uses).
    fn asking(field: &str) -> Self {
        match field {
            "purposes" | "study" => Self::Purposes,
            "answer" | "refusal_explained" => Self::Answer,
            "representative_id" | "best_interest_note" => Self::Representative,
            "service" | "notes" => Self::Details,
            _ => Self::Signature,
        }
    }

    /// The form fields this page shows; every other field is carried through it hidden.
    fn shows(self, field: &str) -> bool {
        let shown: &[&str] = match self {
            Self::Purposes => &["purposes", "study", "ethics_reference"],
            Self::Answer => &["answer", "refusal_explained"],
            Self::Representative => &[
                "representative_id",
                "assessed_on",
                "assessed_by",
                "capacity_decision",
                "best_interest_note",
            ],
            Self::Details => &["service", "representatives_may_have_copies", "notes"],
            Self::Signature => &["signature_method", "signed_by", "witness", "drawing"],
            Self::Check => &[],
        };
        shown.contains(&field)
    }

    /// The page after this one; the representative's page only for someone who lacks capacity.
    fn next(self, by_representative: bool) -> Self {
        match self {
            Self::Purposes => Self::Answer,
            Self::Answer if by_representative => Self::Representative,
            Self::Answer | Self::Representative => Self::Details,
            Self::Details => Self::Signature,
            Self::Signature | Self::Check => Self::Check,
        }
    }
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
    /// The course the consent covers, if it covers a course: its title and service.
    course: Option<String>,
    step: Step,
    form: ConsentFields,
}

impl ConsentPage {
    fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    fn error_for(&self, field: &str) -> Option<&str> {
        first_error_for(&self.errors, field)
    }

    fn on(&self, step: &str) -> bool {
        self.step.as_str() == step
    }

    /// The answers given on other pages, carried through this one as hidden fields.
    fn carried(&self) -> Vec<(&'static str, &str)> {
        let form = &self.form;
        let mut carried: Vec<(&'static str, &str)> = vec![
            ("study", &form.study),
            ("ethics_reference", &form.ethics_reference),
            ("answer", &form.answer),
            ("refusal_explained", &form.refusal_explained),
            ("representative_id", &form.representative_id),
            ("assessed_on", &form.assessed_on),
            ("assessed_by", &form.assessed_by),
            ("capacity_decision", &form.capacity_decision),
            ("best_interest_note", &form.best_interest_note),
            ("service", &form.service),
            (
                "representatives_may_have_copies",
                &form.representatives_may_have_copies,
            ),
            ("notes", &form.notes),
            ("signature_method", &form.signature_method),
            ("signed_by", &form.signed_by),
            ("witness", &form.witness),
            ("drawing", &form.drawing),
        ];
        carried.extend(form.purposes.iter().map(|p| ("purposes", p.as_str())));
        carried.retain(|(name, value)| !value.is_empty() && !self.step.shows(name));
        carried
    }

    /// The ticked purposes' words, for the check page.
    fn ticked(&self) -> Vec<&str> {
        self.purposes
            .iter()
            .filter(|p| p.ticked)
            .map(|p| p.label.as_str())
            .collect()
    }

    /// A chosen option's words, for the check page.
    fn representative_name(&self) -> &str {
        self.representatives
            .iter()
            .find(|(id, _)| *id == self.form.representative_id)
            .map_or("", |(_, name)| name.as_str())
    }
}

fn page(
    staff: &SignedIn,
    record: &PersonRecord,
    course: Option<&Course>,
    step: Step,
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
        course: course.map(|c| format!("{} ({})", c.title, c.service)),
        step,
        form,
    }
}

/// The course named by the form, if any; a course that does not exist is an error page.
async fn course_of(
    state: &AppState,
    staff: &SignedIn,
    fields: &ConsentFields,
) -> Result<Option<Course>, Response> {
    let chosen = fields.course_id.trim();
    if chosen.is_empty() {
        return Ok(None);
    }
    let id = Uuid::parse_str(chosen)
        .map(CourseId::from_uuid)
        .map_err(|_| {
            error_page(
                AppError::NotFound {
                    what: "course",
                    id: chosen.to_owned(),
                },
                Some(staff.display_name()),
            )
        })?;
    state
        .custodian
        .course(&staff.0, id)
        .await
        .map(Some)
        .map_err(|error| error_page(error, Some(staff.display_name())))
}

#[derive(Deserialize, Default)]
pub struct Started {
    /// The course just started, when the form covers one.
    #[serde(default)]
    course: String,
}

pub async fn form(
    State(state): State<AppState>,
    staff: SignedIn,
    Path(person): Path<PersonId>,
    Query(started): Query<Started>,
) -> Response {
    let record = match state.custodian.person(&staff.0, person).await {
        Ok(record) => record,
        Err(error) => return error_page(error, Some(staff.display_name())),
    };
    let fields = ConsentFields {
        form_id: Uuid::now_v7().to_string(),
        course_id: started.course,
        ..ConsentFields::default()
    };
    let course = match course_of(&state, &staff, &fields).await {
        Ok(course) => course,
        Err(page) => return page,
    };
    let shown = page(
        &staff,
        &record,
        course.as_ref(),
        Step::Purposes,
        fields,
        Vec::new(),
    );
    render(StatusCode::OK, &shown)
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
    let course = match course_of(&state, &staff, &fields).await {
        Ok(course) => course,
        Err(page) => return page,
    };
    let course = course.as_ref();
    let mut fields = fields;
    // "Change" on the check page: back to that question, with every answer kept.
    if let Some(target) = Step::parse(&fields.goto) {
        fields.goto.clear();
        return render(
            StatusCode::OK,
            &page(&staff, &record, course, target, fields, Vec::new()),
        );
    }
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
        course,
        state.custodian.now(),
        &mut errors,
    );
    // A question page checks only its own answers, then goes on to the next.
    let step = Step::parse(&fields.step).unwrap_or(Step::Check);
    if step != Step::Check {
        errors.retain(|error| Step::asking(error.field) == step);
        let (status, shown) = if errors.is_empty() {
            (StatusCode::OK, step.next(by_representative))
        } else {
            (StatusCode::UNPROCESSABLE_ENTITY, step)
        };
        return render(
            status,
            &page(&staff, &record, course, shown, fields, errors),
        );
    }
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
    if id.is_none() {
        fields.form_id = Uuid::now_v7().to_string();
    }
    // Back to the first question with a problem, showing its problems.
    let first = errors
        .iter()
        .map(|error| Step::asking(error.field))
        .min()
        .unwrap_or(Step::Check);
    errors.retain(|error| Step::asking(error.field) == first);
    let page = page(&staff, &record, course, first, fields, errors);
    render(StatusCode::UNPROCESSABLE_ENTITY, &page)
}

/// Checks every field, noting each problem; the form only when there are none.
fn parse(
    fields: &ConsentFields,
    by_representative: bool,
    course: Option<&Course>,
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
    // A consent for a course covers the course's sessions; otherwise the service's recordings.
    let scope = match course {
        Some(course) => Ok(Scope::Course {
            course_id: course.id,
        }),
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
