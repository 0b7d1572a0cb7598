//! The decision function (X1): may this recording be used for this purpose, by this member of
//! staff, at this time — and every reason why, each naming its rule and what would change it.

mod evidence;
mod explain;
mod reason;
mod subject;

use serde::Serialize;
use time::OffsetDateTime;

use crate::clock::sort_key;
use crate::ids::PersonId;
use crate::purpose::Purpose;
use crate::recording::Recording;
use crate::session::{Session, SessionKind};

pub use evidence::{PersonEvidence, RecordingEvidence, Requester, SessionEvidence};
pub use explain::{Explanation, explain_utc};
pub use reason::{Effect, Outcome, Reason, ReasonCode};
use subject::{Question, earliest_derivative};

#[cfg(test)]
mod properties;
#[cfg(test)]
mod tests;

/// The answer: allowed or refused, with every reason.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub outcome: Outcome,
    pub purpose: Purpose,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Blocking reasons first, then supporting ones, in a stable order.
    pub reasons: Vec<Reason>,
}

impl Decision {
    /// Whether the use is allowed.
    pub fn is_allowed(&self) -> bool {
        self.outcome == Outcome::Allowed
    }

    /// The reasons that block the use.
    pub fn blocking(&self) -> impl Iterator<Item = &Reason> {
        self.reasons.iter().filter(|r| r.effect() == Effect::Blocks)
    }
}

/// Decides whether `evidence.recording` may be used for `purpose` by `requester` at time `at`.
///
/// The use is allowed only when nothing blocks it and something supports it: each required
/// person's consent or, for a meeting record, the exemption of C12. Pure: the same evidence,
/// purpose and time always give the same decision, whatever order the events are stored in.
pub fn decide(
    evidence: &RecordingEvidence,
    purpose: Purpose,
    requester: &Requester,
    at: OffsetDateTime,
) -> Decision {
    let recording = &evidence.recording;
    let session = evidence.session.as_ref();
    let kind = session.map(|s| s.session.kind);
    let mut reasons = Vec::with_capacity(8);

    if recording.made_at > at {
        reasons.push(Reason::new(ReasonCode::NotYetMade));
    }
    if let Some(destroyed) = evidence.destroyed_at.filter(|destroyed| *destroyed <= at) {
        reasons.push(Reason::new(ReasonCode::Destroyed).since(destroyed));
    }
    if let Some(session) = session {
        stops_that_delete(session, recording, at, &mut reasons);
    }
    if purpose == Purpose::Teaching && !recording.is_de_identified() {
        let copy = earliest_derivative(evidence, at, Recording::is_de_identified);
        reasons.push(Reason::new(ReasonCode::NeedsDeIdentifiedCopy).instead(copy));
    }
    let study = match (purpose, &requester.study) {
        (Purpose::Research, None) => {
            reasons.push(Reason::new(ReasonCode::StudyNotNamed));
            None
        }
        (Purpose::Research, Some(study)) => Some(study),
        _ => None,
    };

    let meeting_record = purpose == Purpose::Administrative
        && matches!(
            kind,
            Some(SessionKind::StaffMeeting | SessionKind::CaseConference)
        );
    if meeting_record {
        let informed = session
            .and_then(|s| s.session.attendees_informed_at)
            .filter(|informed| *informed <= at);
        reasons.push(match informed {
            Some(informed) => Reason::new(ReasonCode::NotRequiredForMeeting).since(informed),
            None => Reason::new(ReasonCode::AttendeesNotInformed),
        });
    } else {
        let question = Question {
            evidence,
            session,
            purpose,
            at,
            until: sort_key(at),
            study,
            identification_exempt: purpose == Purpose::Identification
                && recording.made_for(Purpose::Identification),
        };
        let revokers = match session {
            Some(s) if s.session.kind == SessionKind::Family => {
                family_revocations(&question, &s.session, &mut reasons)
            }
            _ => Vec::new(),
        };
        for person in required_people(recording, session) {
            question.consent_reasons(person, &revokers, &mut reasons);
        }
    }

    reasons.sort_unstable_by_key(|r| {
        (
            r.effect() == Effect::Supports,
            r.code,
            r.person,
            r.consent,
            r.since,
        )
    });
    reasons.dedup();
    let allowed = !reasons.is_empty() && reasons.iter().all(|r| r.effect() == Effect::Supports);
    Decision {
        outcome: if allowed {
            Outcome::Allowed
        } else {
            Outcome::Refused
        },
        purpose,
        at,
        reasons,
    }
}

/// The people whose consent the recording needs: its subjects and, in a family session, every
/// member of the family (C7: all members must consent).
fn required_people<'a>(
    recording: &'a Recording,
    session: Option<&'a SessionEvidence>,
) -> impl Iterator<Item = PersonId> + 'a {
    let family_members = session
        .filter(|s| s.session.kind == SessionKind::Family)
        .map(|s| s.session.participants.as_slice())
        .unwrap_or_default();
    recording.subjects.iter().copied().chain(
        family_members
            .iter()
            .copied()
            .filter(|member| recording.subjects.binary_search(member).is_err()),
    )
}

/// C9: stops whose choice means this recording must be deleted.
fn stops_that_delete(
    session: &SessionEvidence,
    recording: &Recording,
    at: OffsetDateTime,
    reasons: &mut Vec<Reason>,
) {
    for stop in session.stops.iter().filter(|stop| stop.at <= at) {
        if stop.choice.deletes(recording.captured_at, stop.at) {
            let mut reason = Reason::new(ReasonCode::DeletionRequested).since(stop.at);
            reason.person = stop.requested_by;
            reasons.push(reason);
        }
    }
}

/// C7: in a family session, a withdrawal by a member with capacity (or by the representative of
/// one without) revokes consent for the whole session, whatever the purpose. Returns who withdrew.
fn family_revocations(
    question: &Question<'_>,
    session: &Session,
    reasons: &mut Vec<Reason>,
) -> Vec<PersonId> {
    let mut revokers = Vec::new();
    for member in &session.participants {
        let Some(evidence) = question.evidence.person(*member) else {
            continue;
        };
        let revocation = evidence
            .withdrawals()
            .iter()
            .filter(|w| w.at <= question.at && w.withdrawn_by.revokes_family_session())
            .filter(|w| {
                evidence
                    .consents()
                    .iter()
                    .any(|c| c.id == w.consent_id && question.scope_covers(&c.scope))
            })
            .min_by_key(|w| (sort_key(w.at), w.id));
        if let Some(withdrawal) = revocation {
            revokers.push(*member);
            reasons.push(
                Reason::new(ReasonCode::FamilySessionRevoked)
                    .about(*member)
                    .resting_on(withdrawal.consent_id)
                    .since(withdrawal.at)
                    .choosing(withdrawal.existing_recordings),
            );
        }
    }
    revokers
}
