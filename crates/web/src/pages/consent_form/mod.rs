//! The consent form (C1–C4, C14): purposes in plain words, who answers, and the signature.

mod answers;
mod step;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use custodian_access::Action;
use custodian_app::AppError;
use custodian_app::london::london_time;
use custodian_app::persons::PersonRecord;
use custodian_core::consent::Scope;
use custodian_core::ids::{ConsentId, CourseId, PersonId, SessionId};
use custodian_core::person::Capacity;
use custodian_core::purpose::Purpose;
use custodian_core::session::{Course, Session};
use serde::Deserialize;
use uuid::Uuid;

use crate::AppState;
use crate::extract::Path;
use crate::pages::PageResult;
use crate::pages::checked::Checked;
use crate::pages::signed_in::SignedIn;
use crate::pages::views::PersonSummary;
use crate::pages::{FieldError, FormErrors, form_errors, render};

use answers::{field_error, parse};
use step::Step;

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
    /// The one session the consent covers, when asked from the session's page.
    #[serde(default)]
    session_id: String,
    /// The question page this was sent from; none means the whole form at once.
    #[serde(default)]
    step: String,
    /// A "Change" link on the check page: the question page to go back to.
    #[serde(default)]
    goto: String,
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
    signed_in_as: Option<crate::pages::signed_in::Who>,
    errors: Vec<FieldError>,
    person: PersonSummary,
    /// A representative answers for a person who lacks capacity (C3).
    by_representative: bool,
    representatives: Vec<(String, String)>,
    purposes: Vec<PurposeChoice>,
    /// What the consent covers, in words, when narrower than a service.
    covering: Option<String>,
    step: Step,
    form: ConsentFields,
}

form_errors!(ConsentPage);

impl ConsentPage {
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
    covered: Option<&Covered>,
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
        signed_in_as: Some(staff.who()),
        errors,
        person: PersonSummary::from(&record.person),
        by_representative: record.person.capacity == Capacity::LacksCapacity,
        representatives: super::views::representative_choices(record),
        purposes,
        covering: covered.map(Covered::words),
        step,
        form,
    }
}

/// What a consent covers when it is narrower than a service: a course of sessions (C5), or one
/// session.
pub enum Covered {
    Course(Course),
    Session(Session),
}

impl Covered {
    fn scope(&self) -> Scope {
        match self {
            Self::Course(course) => Scope::Course {
                course_id: course.id,
            },
            Self::Session(session) => Scope::Session {
                session_id: session.id,
            },
        }
    }

    fn words(&self) -> String {
        match self {
            Self::Course(course) => format!("the course {} ({})", course.title, course.service),
            Self::Session(session) => format!(
                "the session {}, {}",
                session.title,
                london_time(session.starts_at)
            ),
        }
    }
}

/// The course or session named by the form, if any; one that does not exist is an error page.
async fn covered_by(
    state: &AppState,
    staff: &SignedIn,
    fields: &ConsentFields,
) -> PageResult<Option<Covered>> {
    let unknown = |what: &'static str, id: &str| AppError::NotFound {
        what,
        id: id.to_owned(),
    };
    let (course, session) = (fields.course_id.trim(), fields.session_id.trim());
    if !course.is_empty() {
        let id = Uuid::parse_str(course)
            .map(CourseId::from_uuid)
            .map_err(|_| unknown("course", course))?;
        let found = state.custodian.course(&staff.caller, id).await?;
        return Ok(Some(Covered::Course(found)));
    }
    if !session.is_empty() {
        let id = Uuid::parse_str(session)
            .map(SessionId::from_uuid)
            .map_err(|_| unknown("session", session))?;
        let found = state.custodian.session(&staff.caller, id).await?;
        return Ok(Some(Covered::Session(found.session)));
    }
    Ok(None)
}

#[derive(Deserialize, Default)]
pub struct Started {
    /// The course just started, when the form covers one.
    #[serde(default)]
    course: String,
    /// The one session the form covers, when asked from a session's page.
    #[serde(default)]
    session: String,
}

pub async fn form(
    State(state): State<AppState>,
    staff: SignedIn,
    Path(person): Path<PersonId>,
    Query(started): Query<Started>,
) -> PageResult {
    let record = state
        .custodian
        .person_to(&staff.caller, Action::RecordConsent, person)
        .await?;
    let fields = ConsentFields {
        form_id: Uuid::now_v7().to_string(),
        course_id: started.course,
        session_id: started.session,
        ..ConsentFields::default()
    };
    let covered = covered_by(&state, &staff, &fields).await?;
    let shown = page(
        &staff,
        &record,
        covered.as_ref(),
        Step::Purposes,
        fields,
        Vec::new(),
    );
    Ok(render(StatusCode::OK, &shown))
}

pub async fn submit(
    State(state): State<AppState>,
    staff: SignedIn,
    Path(person): Path<PersonId>,
    Checked(fields): Checked<ConsentFields>,
) -> PageResult {
    let record = state
        .custodian
        .person_to(&staff.caller, Action::RecordConsent, person)
        .await?;
    let covered = covered_by(&state, &staff, &fields).await?;
    let covered = covered.as_ref();
    let mut fields = fields;
    // "Change" on the check page: back to that question, with every answer kept.
    if let Some(target) = Step::parse(&fields.goto) {
        fields.goto.clear();
        return Ok(render(
            StatusCode::OK,
            &page(&staff, &record, covered, target, fields, Vec::new()),
        ));
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
        covered.map(Covered::scope),
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
        return Ok(render(
            status,
            &page(&staff, &record, covered, shown, fields, errors),
        ));
    }
    if let (Some(form), Some(id)) = (parsed, id) {
        match state
            .custodian
            .record_consent_once(&staff.caller, person, id, form)
            .await
        {
            Ok(consent) => {
                return Ok(Redirect::to(&format!("/consents/{}", consent.id)).into_response());
            }
            Err(AppError::Invalid(error)) => errors.push(field_error(&error)),
            Err(error) => return Err(error.into()),
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
    let page = page(&staff, &record, covered, first, fields, errors);
    Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page))
}
