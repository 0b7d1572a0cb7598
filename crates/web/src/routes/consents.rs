//! Consent forms and withdrawals (C1–C4, C8, C10, C14).

use axum::extract::State;
use axum::http::StatusCode;
use custodian_app::consents::{ConsentHistory, WithdrawalRequest, WithdrawnBy};
use custodian_app::reads::Read;
use custodian_core::DomainError;
use custodian_core::consent::{
    CapacityDecision, Consent, ConsentAnswer, ConsentForm, ConsentGiver, Disposition,
    EthicsReference, ResearchApproval, Scope, Signature, SignatureMethod, Withdrawal,
};
use custodian_core::ids::{
    ConsentId, CourseId, PersonId, RecordingId, RepresentativeId, SessionId,
};
use custodian_core::signature::SignatureDrawing;
use custodian_core::text::{Note, ServiceCode, ShortText};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiResult, Problem};
use crate::extract::{Body, Path, Staff};
use crate::input::{date, moment, optional_note, optional_short, purposes, purposes_or_none};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(consent_history, record_consent))
        .routes(routes!(consent))
        .routes(routes!(withdraw))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CapacityDecisionInput {
    /// `YYYY-MM-DD`.
    assessed_on: String,
    assessed_by: String,
    decision: String,
}

/// Who answered: `{"kind": "person"}` or a representative with the capacity decision (C3).
#[derive(Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum GiverInput {
    Person,
    Representative {
        representative_id: RepresentativeId,
        capacity_decision: CapacityDecisionInput,
        best_interest_note: String,
    },
}

/// What the consent covers.
#[derive(Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ScopeInput {
    /// On admission: every recording made by this service.
    Service {
        service: String,
    },
    /// A course of sessions (each session then needs a "still willing" confirmation, C5).
    Course {
        course_id: CourseId,
    },
    Session {
        session_id: SessionId,
    },
    Recording {
        recording_id: RecordingId,
    },
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignatureInput {
    /// `drawn`, `typed_with_witness` or `paper`.
    method: String,
    signed_by: String,
    witness: Option<String>,
    /// Required for a drawn signature: strokes `x,y x,y;x,y …` in a 600 × 200 box.
    #[schema(example = "10,150 40,60 80,150;120,100 160,100")]
    drawing: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResearchInput {
    study: String,
    #[schema(example = "23/NE/0123")]
    ethics_reference: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewConsent {
    /// `given` or `refused`.
    answer: String,
    /// Purpose codes, such as `clinical` and `teaching` (C1).
    purposes: Vec<String>,
    given_by: GiverInput,
    scope: ScopeInput,
    /// When the form was signed (RFC 3339); not in the future.
    signed_at: String,
    signature: SignatureInput,
    /// Whether representatives may have copies (C14).
    #[serde(default)]
    representatives_may_have_copies: bool,
    /// Required with the research purpose (C10).
    research: Option<ResearchInput>,
    /// The person was told that refusing does not affect their care (C4); must be true.
    told_refusal_does_not_affect_care: bool,
    notes: Option<String>,
}

impl NewConsent {
    fn parse(self) -> Result<ConsentForm, DomainError> {
        let given_by = match self.given_by {
            GiverInput::Person => ConsentGiver::Person,
            GiverInput::Representative {
                representative_id,
                capacity_decision,
                best_interest_note,
            } => ConsentGiver::Representative {
                representative_id,
                capacity_decision: CapacityDecision {
                    assessed_on: date(
                        "given_by.capacity_decision.assessed_on",
                        &capacity_decision.assessed_on,
                    )?,
                    assessed_by: ShortText::parse(
                        "given_by.capacity_decision.assessed_by",
                        &capacity_decision.assessed_by,
                    )?,
                    decision: Note::parse(
                        "given_by.capacity_decision.decision",
                        &capacity_decision.decision,
                    )?,
                },
                best_interest_note: Note::parse(
                    "given_by.best_interest_note",
                    &best_interest_note,
                )?,
            },
        };
        let scope = match self.scope {
            ScopeInput::Service { service } => Scope::Service {
                service: ServiceCode::parse(&service)?,
            },
            ScopeInput::Course { course_id } => Scope::Course { course_id },
            ScopeInput::Session { session_id } => Scope::Session { session_id },
            ScopeInput::Recording { recording_id } => Scope::Recording { recording_id },
        };
        let research = self
            .research
            .map(|r| -> Result<_, DomainError> {
                Ok(ResearchApproval {
                    study: ShortText::parse("research.study", &r.study)?,
                    ethics_reference: EthicsReference::parse(&r.ethics_reference)?,
                })
            })
            .transpose()?;
        Ok(ConsentForm {
            answer: ConsentAnswer::parse(&self.answer)?,
            purposes: purposes(&self.purposes)?,
            given_by,
            scope,
            signed_at: moment("signed_at", &self.signed_at)?,
            signature: Signature {
                method: SignatureMethod::parse(&self.signature.method)?,
                signed_by: ShortText::parse("signature.signed_by", &self.signature.signed_by)?,
                witness: optional_short("signature.witness", self.signature.witness.as_deref())?,
                drawing: self
                    .signature
                    .drawing
                    .as_deref()
                    .map(SignatureDrawing::parse)
                    .transpose()?,
            },
            representatives_may_have_copies: self.representatives_may_have_copies,
            research,
            told_refusal_does_not_affect_care: self.told_refusal_does_not_affect_care,
            notes: optional_note("notes", self.notes.as_deref())?,
        })
    }
}

/// Record a completed consent form (given or refused) for the person.
#[utoipa::path(post, path = "/persons/{id}/consents", tag = "consent", params(("id" = PersonId, Path)),
    request_body = NewConsent,
    responses((status = CREATED, body = Consent), (status = UNPROCESSABLE_ENTITY, body = Problem), (status = NOT_FOUND, body = Problem)))]
async fn record_consent(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<PersonId>,
    Body(request): Body<NewConsent>,
) -> ApiResult<(StatusCode, axum::Json<Consent>)> {
    let consent = state
        .custodian
        .record_consent(&caller, id, request.parse()?)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(consent)))
}

/// The person's consents and withdrawals.
#[utoipa::path(get, path = "/persons/{id}/consents", tag = "consent", params(("id" = PersonId, Path)),
    responses((status = OK, body = ConsentHistory), (status = NOT_FOUND, body = Problem)))]
async fn consent_history(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<PersonId>,
) -> ApiResult<axum::Json<ConsentHistory>> {
    Ok(axum::Json(
        state.custodian.consent_history(&caller, id).await?,
    ))
}

/// A consent form.
#[utoipa::path(get, path = "/consents/{id}", tag = "consent", params(("id" = ConsentId, Path)),
    responses((status = OK, body = Consent), (status = NOT_FOUND, body = Problem)))]
async fn consent(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<ConsentId>,
) -> ApiResult<axum::Json<Consent>> {
    let consent = state.custodian.consent(&caller, id).await?;
    let read = Read::ConsentViewed {
        consent: id,
        person: consent.person_id,
    };
    state.custodian.note_read(&caller, read).await?;
    Ok(axum::Json(consent))
}

/// Who withdrew: `{"kind": "person"}` or `{"kind": "representative", "representative_id": …}`.
#[derive(Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WithdrawerInput {
    Person,
    Representative { representative_id: RepresentativeId },
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWithdrawal {
    /// When the person withdrew (RFC 3339); not before the consent was signed, not in the future.
    at: String,
    /// The purposes withdrawn; leave empty to withdraw every purpose of the consent.
    #[serde(default)]
    purposes: Vec<String>,
    withdrawn_by: WithdrawerInput,
    /// `destroy` or `hand_over`: what the person chose for existing recordings (C8).
    existing_recordings: String,
    note: Option<String>,
}

/// Withdraw a consent, wholly or for some purposes (C8).
#[utoipa::path(post, path = "/consents/{id}/withdrawals", tag = "consent", params(("id" = ConsentId, Path)),
    request_body = NewWithdrawal,
    responses((status = CREATED, body = Withdrawal), (status = UNPROCESSABLE_ENTITY, body = Problem), (status = NOT_FOUND, body = Problem)))]
async fn withdraw(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<ConsentId>,
    Body(request): Body<NewWithdrawal>,
) -> ApiResult<(StatusCode, axum::Json<Withdrawal>)> {
    let withdrawal_request = WithdrawalRequest {
        at: moment("at", &request.at)?,
        purposes: purposes_or_none(&request.purposes)?,
        withdrawn_by: match request.withdrawn_by {
            WithdrawerInput::Person => WithdrawnBy::Person,
            WithdrawerInput::Representative { representative_id } => {
                WithdrawnBy::Representative(representative_id)
            }
        },
        existing_recordings: Disposition::parse(&request.existing_recordings)?,
        note: optional_note("note", request.note.as_deref())?,
    };
    let withdrawal = state
        .custodian
        .withdraw_consent(&caller, id, withdrawal_request)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(withdrawal)))
}
