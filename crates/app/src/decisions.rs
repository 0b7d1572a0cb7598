//! Asking the decision function about a recording (X1), with the evidence from the register.

use custodian_core::audit::AuditOutcome;
use custodian_core::clock::{Shown, normalise, not_after_now};
use custodian_core::consent::{ConsentTerms, EthicsReference};
use custodian_core::decision::{
    Explanation, Outcome, PersonEvidence, RecordingEvidence, Requester, SessionEvidence, decide,
};
use custodian_core::ids::RecordingId;
use custodian_core::purpose::Purpose;
use custodian_core::session::SessionKind;
use custodian_store::RegisterTx;
use serde::Serialize;
use time::OffsetDateTime;

use crate::accounts::Caller;
use crate::audit_trail::Audit;
use crate::london::london_time;
use crate::{AppError, AppResult, Custodian};

/// A decision in words, as the API and the decision panel show it.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DecisionReport {
    pub recording_id: RecordingId,
    pub purpose: Purpose,
    pub outcome: Outcome,
    /// The moment the question is about: now, or the `at` asked for. The answer rests on the
    /// evidence the register held at that moment.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub reasons: Vec<Explanation>,
}

impl Custodian {
    /// May `recording` be used for `purpose` by the caller, now or, for an investigation, as at
    /// `at` — answered from what the register held then? Every answer is audited.
    #[tracing::instrument(skip(self, caller), fields(staff = %caller.member.id))]
    pub async fn decide(
        &self,
        caller: &Caller,
        recording: RecordingId,
        purpose: Purpose,
        study: Option<EthicsReference>,
        at: Option<OffsetDateTime>,
    ) -> AppResult<DecisionReport> {
        // Access says who may ask; the decision says whether the recording may be used (X1).
        self.recording_for(caller, custodian_access::Action::ViewRecording, recording)
            .await?;
        let now = self.clock.now();
        // About now, everything the register holds counts, even what a server whose clock runs
        // ahead recorded a moment "later"; about a past moment, only what it held then.
        let (at, known_at) = match at {
            Some(at) => {
                let at = not_after_now("at", normalise(at), now)?;
                (at, Some(at))
            }
            None => (now, None),
        };
        let evidence = {
            let mut tx = self.register.read().await?;
            gather_evidence(&mut tx, recording, known_at).await?
        };
        let requester = Requester {
            staff_id: caller.member.id,
            study: study.clone(),
        };
        let decision = decide(&evidence, purpose, &requester, at);
        let reasons = decision.explain(&evidence, &london_time);

        let mut tx = self.register.write().await?;
        Audit::change("decision.asked")
            .recording(recording)
            .outcome(if decision.is_allowed() {
                AuditOutcome::Allowed
            } else {
                AuditOutcome::Refused
            })
            .detail(serde_json::json!({
                "purpose": purpose,
                "study": study,
                "at": Shown(at).to_string(),
                "reasons": decision.reasons.iter().map(|r| r.code).collect::<Vec<_>>(),
            }))
            .write(&mut tx, caller.actor(), now)
            .await?;
        tx.commit().await?;

        Ok(DecisionReport {
            recording_id: recording,
            purpose,
            outcome: decision.outcome,
            at,
            reasons,
        })
    }
}

/// Gathers everything the decision function reads about `recording`, in one snapshot, as the
/// register held it at `known_at`: consents, withdrawals, "still willing" answers and stops
/// recorded after it, copies registered after it and a destruction after it are left out. Ask
/// about now with `None` (everything held, whatever another server's clock said when it was
/// recorded); an investigation asks about the moment of the use.
pub async fn gather_evidence(
    tx: &mut RegisterTx,
    recording: RecordingId,
    known_at: Option<OffsetDateTime>,
) -> AppResult<RecordingEvidence> {
    let recording = tx
        .recording(recording)
        .await?
        .ok_or_else(|| AppError::not_found("recording", recording))?;
    let session = match recording.session_id {
        Some(id) => {
            let session = tx
                .session(id)
                .await?
                .ok_or_else(|| AppError::not_found("session", id))?;
            let confirmations = tx.confirmations_known_at(id, known_at).await?;
            let stops = tx.stops_known_at(id, known_at).await?;
            Some(SessionEvidence::new(session, confirmations, stops))
        }
        None => None,
    };
    let mut required = recording.subjects.clone();
    if let Some(session) = session
        .as_ref()
        .filter(|s| s.session.kind == SessionKind::Family)
    {
        required.extend(
            session
                .session
                .participants
                .iter()
                .filter(|p| !recording.subjects.contains(p)),
        );
    }
    let mut people = Vec::with_capacity(required.len());
    for person in required {
        let found = tx
            .person(person)
            .await?
            .ok_or_else(|| AppError::not_found("person", person))?;
        let consents = tx
            .consents_known_at(person, known_at)
            .await?
            .iter()
            .map(ConsentTerms::from)
            .collect();
        let withdrawals = tx.withdrawals_known_at(person, known_at).await?;
        people.push(PersonEvidence::new(
            person,
            found.name,
            consents,
            withdrawals,
        ));
    }
    let derivatives = tx.derivatives_known_at(recording.id, known_at).await?;
    // A destruction is registered as it happens, so its time is when the register learned of it.
    let destroyed_at = tx
        .destruction(recording.id)
        .await?
        .map(|d| d.destroyed_at)
        .filter(|destroyed| known_at.is_none_or(|known_at| *destroyed <= known_at));
    Ok(RecordingEvidence {
        recording,
        session,
        people,
        derivatives,
        destroyed_at,
    })
}
