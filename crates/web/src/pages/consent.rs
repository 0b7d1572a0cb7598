//! A recorded consent, and the person's copy of it as a PDF (C2).

use askama::Template;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use custodian_app::london::london_time;
use custodian_app::persons::PersonRecord;
use custodian_app::reads::Read;
use custodian_core::consent::{Consent, Disposition, Withdrawal, Withdrawer};
use custodian_core::ids::{ConsentId, WithdrawalId};

use super::consent_copy::{self, WithdrawalView};
use super::render;
use super::signed_in::SignedIn;
use super::views::PersonSummary;
use super::views::{ConsentView, representative_named};
use crate::AppState;
use crate::extract::Path;
use crate::pages::PageResult;

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
