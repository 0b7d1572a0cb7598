//! A recorded consent, and the person's copy of it as a PDF (C2).

use askama::Template;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use custodian_app::london::london_time;
use custodian_app::persons::PersonRecord;
use custodian_app::reads::Read;
use custodian_core::consent::{
    Consent, ConsentAnswer, ConsentGiver, Disposition, Scope, SignatureMethod, Withdrawal,
    Withdrawer,
};
use custodian_core::ids::{ConsentId, RepresentativeId, WithdrawalId};

use super::consent_copy::{self, WithdrawalView};
use super::persons::PersonSummary;
use super::render;
use super::signed_in::SignedIn;
use crate::AppState;
use crate::extract::Path;
use crate::pages::PageResult;

/// What a consent covers, in words: "the service CAMHS-NORTH", "one session".
pub fn scope_words(scope: &Scope) -> String {
    match scope {
        Scope::Service { service } => format!("the service {service}"),
        Scope::Course { .. } => "one course of sessions".to_owned(),
        Scope::Session { .. } => "one session".to_owned(),
        Scope::Recording { .. } => "one recording".to_owned(),
    }
}

/// A consent in the words the page and the copy use.
pub struct ConsentView {
    pub id: String,
    pub given: bool,
    pub answer: &'static str,
    pub purposes: Vec<(String, &'static str)>,
    pub covers: String,
    pub decided_by: String,
    pub signed_at: String,
    pub signature: String,
    pub drawing: Option<custodian_core::signature::SignatureDrawing>,
    pub representatives_may_have_copies: bool,
}

impl ConsentView {
    pub fn new(consent: &Consent, record: &PersonRecord) -> Self {
        let person = record.person.name.full();
        let decided_by = match &consent.given_by {
            ConsentGiver::Person => format!("{person} decided for themselves."),
            ConsentGiver::Representative {
                representative_id,
                capacity_decision,
                ..
            } => {
                let representative = representative_named(record, *representative_id);
                format!(
                    "{representative} decided in {person}'s best interests, because {person} \
                     could not decide about recording for themselves (assessed on {} by {}).",
                    super::long_date(capacity_decision.assessed_on),
                    capacity_decision.assessed_by
                )
            }
        };
        let signature = &consent.signature;
        let signature_words = match signature.method {
            SignatureMethod::Drawn => format!("Signed on screen by {}.", signature.signed_by),
            SignatureMethod::TypedWithWitness => format!(
                "Name typed by {}, witnessed by {}.",
                signature.signed_by,
                signature
                    .witness
                    .as_ref()
                    .map_or("a member of staff", |w| w.as_str())
            ),
            SignatureMethod::Paper => format!(
                "Signed on paper by {}; the paper form is kept on file.",
                signature.signed_by
            ),
        };
        let covers = scope_words(&consent.scope);
        let given = consent.answer == ConsentAnswer::Given;
        Self {
            id: consent.id.to_string(),
            given,
            answer: if given {
                "Consent was given for the purposes below."
            } else {
                "Consent was refused for the purposes below: no recordings will be made or used for them."
            },
            purposes: consent
                .purposes
                .iter()
                .map(|p| (super::sentence(p.label()), p.explanation()))
                .collect(),
            covers,
            decided_by,
            signed_at: london_time(consent.signed_at),
            signature: signature_words,
            drawing: signature.drawing.clone(),
            representatives_may_have_copies: consent.representatives_may_have_copies,
        }
    }
}

#[derive(Template)]
#[template(path = "consent.html")]
struct ConsentPage {
    title: &'static str,
    signed_in_as: Option<super::signed_in::Who>,
    person: PersonSummary,
    consent: ConsentView,
    /// Each withdrawal of this consent (C8).
    withdrawals: Vec<WithdrawalView>,
}

impl ConsentPage {
    /// The drawn strokes as SVG path data (numbers only, so nothing to escape).
    fn svg_path(&self) -> Option<String> {
        let drawing = self.consent.drawing.as_ref()?;
        let mut path = String::new();
        for stroke in drawing.strokes() {
            for (index, (x, y)) in stroke.iter().enumerate() {
                let command = if index == 0 { 'M' } else { 'L' };
                path.push_str(&format!("{command}{x} {y} "));
            }
            if let [(x, y)] = stroke.as_slice() {
                path.push_str(&format!("L{x}.5 {y} "));
            }
        }
        Some(path)
    }
}

/// "Jo Testperson (lasting power of attorney)", or "their representative" if not on record.
fn representative_named(record: &PersonRecord, id: RepresentativeId) -> String {
    record
        .representatives
        .iter()
        .find(|r| r.id == id)
        .map_or_else(
            || "their representative".to_owned(),
            |r| format!("{} ({})", r.name, r.kind.label()),
        )
}

/// "Withdrawn from teaching and research on 3 March 2026 at 14:05 GMT by …; recordings: destroy".
fn withdrawal_words(withdrawal: &Withdrawal, record: &PersonRecord) -> String {
    let by = match &withdrawal.withdrawn_by {
        Withdrawer::Person { .. } => record.person.name.full(),
        Withdrawer::Representative { representative_id } => {
            representative_named(record, *representative_id)
        }
    };
    format!(
        "Withdrawn from {} on {} by {by}. For recordings already made, they chose to {}.",
        withdrawal.purposes.labels(),
        london_time(withdrawal.at),
        withdrawal.existing_recordings.label()
    )
}

/// A consent and the person it is about, or the page saying why not.
pub(super) async fn load(
    state: &AppState,
    staff: &SignedIn,
    id: ConsentId,
) -> PageResult<(Consent, PersonRecord)> {
    let consent = state.custodian.consent(&staff.caller, id).await?;
    let record = state
        .custodian
        .person(&staff.caller, consent.person_id)
        .await?;
    Ok((consent, record))
}

/// The withdrawals of `consent`, in words, oldest first.
async fn withdrawals_of(
    state: &AppState,
    staff: &SignedIn,
    consent: &Consent,
    record: &PersonRecord,
) -> PageResult<Vec<WithdrawalView>> {
    let history = state
        .custodian
        .consent_history(&staff.caller, consent.person_id)
        .await?;
    Ok(history
        .withdrawals
        .iter()
        .filter(|w| w.consent_id == consent.id)
        .map(|w| WithdrawalView {
            id: w.id.to_string(),
            words: withdrawal_words(w, record),
            destroy: w.existing_recordings == Disposition::Destroy,
        })
        .collect())
}

pub async fn show(
    State(state): State<AppState>,
    staff: SignedIn,
    Path(id): Path<ConsentId>,
) -> PageResult {
    let (consent, record) = load(&state, &staff, id).await?;
    let withdrawals = withdrawals_of(&state, &staff, &consent, &record).await?;
    let read = Read::ConsentViewed {
        consent: id,
        person: consent.person_id,
    };
    state.custodian.note_read(&staff.caller, read).await?;
    let page = ConsentPage {
        title: "Consent recorded",
        signed_in_as: Some(staff.who()),
        person: PersonSummary::from(&record.person),
        consent: ConsentView::new(&consent, &record),
        withdrawals,
    };
    Ok(render(StatusCode::OK, &page))
}

/// The person's copy, to print or send them.
pub async fn copy(
    State(state): State<AppState>,
    staff: SignedIn,
    Path(id): Path<ConsentId>,
) -> PageResult {
    let (consent, record) = load(&state, &staff, id).await?;
    let read = Read::ConsentCopyDownloaded {
        consent: id,
        person: consent.person_id,
        withdrawal: None,
    };
    state.custodian.note_read(&staff.caller, read).await?;
    let person = PersonSummary::from(&record.person);
    let view = ConsentView::new(&consent, &record);
    Ok(pdf(format!("consent-{id}.pdf"), move || {
        consent_copy::render(&person, &view)
    })
    .await)
}

/// The person's confirmation of a withdrawal (C8), to print or send them.
pub async fn withdrawal_copy(
    State(state): State<AppState>,
    staff: SignedIn,
    Path((id, withdrawal)): Path<(ConsentId, WithdrawalId)>,
) -> PageResult {
    let (consent, record) = load(&state, &staff, id).await?;
    let withdrawals = withdrawals_of(&state, &staff, &consent, &record).await?;
    let wanted = withdrawal.to_string();
    let Some(found) = withdrawals.into_iter().find(|w| w.id == wanted) else {
        return Err(custodian_app::AppError::NotFound {
            what: "withdrawal",
            id: wanted,
        }
        .into());
    };
    let read = Read::ConsentCopyDownloaded {
        consent: id,
        person: consent.person_id,
        withdrawal: Some(withdrawal),
    };
    state.custodian.note_read(&staff.caller, read).await?;
    let person = PersonSummary::from(&record.person);
    let view = ConsentView::new(&consent, &record);
    Ok(pdf(format!("withdrawal-{withdrawal}.pdf"), move || {
        consent_copy::render_withdrawal(&person, &view, &found)
    })
    .await)
}

/// A PDF made off the request threads (laying out and compressing is CPU work), as a download.
async fn pdf(
    filename: String,
    make: impl FnOnce() -> Result<Vec<u8>, String> + Send + 'static,
) -> Response {
    match tokio::task::spawn_blocking(make).await {
        Ok(Ok(pdf)) => (
            [
                (header::CONTENT_TYPE, "application/pdf".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{filename}\""),
                ),
                (header::CACHE_CONTROL, "no-store".to_owned()),
            ],
            pdf,
        )
            .into_response(),
        Ok(Err(reason)) => {
            tracing::error!(%reason, filename, "a copy for the person could not be made");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "The copy could not be made; it has been logged.",
            )
                .into_response()
        }
        Err(error) => {
            tracing::error!(%error, "making a copy for the person failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
