//! One required person's consent, as it stands for one purpose, one recording and one moment.

use time::OffsetDateTime;

use super::evidence::{RecordingEvidence, SessionEvidence};
use super::reason::{Reason, ReasonCode};
use crate::clock::{SortKey, sort_key};
use crate::consent::{ConsentAnswer, ConsentTerms, EthicsReference, Scope, Withdrawal};
use crate::ids::{PersonId, RecordingId};
use crate::purpose::Purpose;
use crate::recording::Recording;
use crate::session::SessionKind;

/// What evaluating one person's consent needs to know about the question.
pub(super) struct Question<'a> {
    pub evidence: &'a RecordingEvidence,
    pub session: Option<&'a SessionEvidence>,
    pub purpose: Purpose,
    pub at: OffsetDateTime,
    /// `at` as a sort key, compared against every event.
    pub until: SortKey,
    pub study: Option<&'a EthicsReference>,
    /// C8: identification recordings asked about for identification ignore withdrawals.
    pub identification_exempt: bool,
}

impl Question<'_> {
    /// Whether a consent with `scope` covers this recording.
    pub fn scope_covers(&self, scope: &Scope) -> bool {
        let recording = &self.evidence.recording;
        match scope {
            Scope::Service { service } => *service == recording.service,
            Scope::Course { course_id } => self
                .session
                .is_some_and(|s| s.session.course_id == Some(*course_id)),
            Scope::Session { session_id } => recording.session_id == Some(*session_id),
            Scope::Recording { recording_id } => recording.descends_from(*recording_id),
        }
    }

    /// Adds the reasons about one required person's consent.
    pub fn consent_reasons(
        &self,
        person: PersonId,
        family_revokers: &[PersonId],
        reasons: &mut Vec<Reason>,
    ) {
        let answers = self
            .session
            .map(|s| s.confirmations_of(person))
            .unwrap_or_default();
        let answered = |willing: bool| {
            answers
                .iter()
                .take_while(|c| sort_key(c.at) <= self.until)
                .find(|c| c.willing == willing)
        };
        if let Some(declined) = answered(false) {
            reasons.push(
                Reason::new(ReasonCode::SessionNotWilling)
                    .about(person)
                    .since(declined.at),
            );
        }
        let Some(evidence) = self.evidence.person(person) else {
            reasons.push(self.missing_consent().about(person));
            return;
        };
        let signed = evidence.signed_by(self.until);

        // The latest refusal by the time asked about cancels every grant signed at or before it
        // (a grant at the same moment too: a tie goes to the refusal).
        let refusal = evidence
            .latest_answering(signed, ConsentAnswer::Refused, self.purpose)
            .find(|c| self.scope_covers(&c.scope));
        let first_unrefused = refusal.map_or(0, |r| evidence.signed_by(sort_key(r.signed_at)));

        let withdrawals = evidence.withdrawals();
        let withdraws_this =
            |w: &&Withdrawal| w.purposes.contains(self.purpose) && sort_key(w.at) <= self.until;
        let withdrawal_of = |consent: &ConsentTerms| {
            withdrawals
                .iter()
                .filter(|w| w.consent_id == consent.id && withdraws_this(w))
                .min_by_key(|w| (sort_key(w.at), w.id))
        };
        let may_be_withdrawn = evidence.may_have_withdrawn(self.purpose)
            && withdrawals.iter().any(|w| withdraws_this(&w));
        // C5: "still willing" is asked at the start of a session, before recording; an answer
        // given only after this recording started covers later recordings, not this one. Copies
        // share their source's capture time, so they are covered exactly when it is.
        let willing = answered(true);
        let captured = sort_key(self.evidence.recording.captured_at);
        let confirmed = willing.is_some_and(|c| sort_key(c.at) <= captured);

        // Grants are visited earliest first, so the first valid one is the one to cite; what
        // blocked the earlier ones matters only if none is valid.
        let mut given = None;
        let mut withdrawn: Option<&Withdrawal> = None;
        let mut unconfirmed: Option<&ConsentTerms> = None;
        let mut other_study = false;
        for consent in
            evidence.earliest_answering(first_unrefused, signed, ConsentAnswer::Given, self.purpose)
        {
            if !self.scope_covers(&consent.scope) {
                continue;
            }
            if self.study.is_some() && consent.ethics_reference.as_ref() != self.study {
                other_study = true;
                continue;
            }
            let withdrawal = if may_be_withdrawn {
                withdrawal_of(consent)
            } else {
                None
            };
            if let (Some(withdrawal), false) = (withdrawal, self.identification_exempt) {
                if withdrawn.is_none_or(|w| {
                    (sort_key(withdrawal.at), withdrawal.id) < (sort_key(w.at), w.id)
                }) {
                    withdrawn = Some(withdrawal);
                }
                continue;
            }
            if matches!(consent.scope, Scope::Course { .. }) && !confirmed {
                unconfirmed = unconfirmed.or(Some(consent));
                continue;
            }
            given = Some((consent, withdrawal));
            break;
        }

        if let Some((consent, exempted)) = given {
            reasons.push(
                Reason::new(ReasonCode::ConsentGiven)
                    .about(person)
                    .resting_on(consent.id)
                    .since(consent.signed_at),
            );
            if let Some(withdrawal) = exempted {
                reasons.push(
                    Reason::new(ReasonCode::IdentificationExemptFromWithdrawal)
                        .about(person)
                        .resting_on(withdrawal.consent_id)
                        .since(withdrawal.at),
                );
            }
            return;
        }
        let reason = if let Some(withdrawal) = withdrawn {
            let kind = self.session.map(|s| s.session.kind);
            if kind == Some(SessionKind::Family) && family_revokers.contains(&person) {
                return;
            }
            let reason = Reason::new(ReasonCode::ConsentWithdrawn)
                .resting_on(withdrawal.consent_id)
                .since(withdrawal.at)
                .choosing(withdrawal.existing_recordings);
            if kind == Some(SessionKind::Group) {
                let copy_without_them = earliest_derivative(self.evidence, self.at, |d| {
                    d.subjects.binary_search(&person).is_err()
                });
                Reason {
                    code: ReasonCode::GroupMemberWithdrawn,
                    ..reason
                }
                .instead(copy_without_them)
            } else {
                reason
            }
        } else if let Some(consent) = unconfirmed {
            match willing {
                // The earliest willing answer is the one after the recording started: none came before.
                Some(late) => Reason::new(ReasonCode::ConfirmedAfterRecording)
                    .resting_on(consent.id)
                    .since(late.at),
                None => Reason::new(ReasonCode::SessionNotConfirmed).resting_on(consent.id),
            }
        } else if let Some(refusal) = refusal {
            Reason::new(ReasonCode::ConsentRefused)
                .resting_on(refusal.id)
                .since(refusal.signed_at)
        } else if other_study {
            Reason::new(ReasonCode::NoConsentForStudy)
        } else {
            self.missing_consent()
        };
        reasons.push(reason.about(person));
    }

    /// The reason for having no consent at all: which rule it breaks depends on the setting.
    fn missing_consent(&self) -> Reason {
        if self
            .session
            .is_some_and(|s| s.session.kind == SessionKind::PersonalStaffMeeting)
        {
            Reason::new(ReasonCode::ConsentMissingForPersonalMeeting)
        } else if !self.evidence.recording.made_for(self.purpose) {
            Reason::new(ReasonCode::ChangeOfUse)
        } else {
            Reason::new(ReasonCode::ConsentMissing)
        }
    }
}

/// The earliest derived copy existing at `at` that satisfies `fits`.
pub(super) fn earliest_derivative(
    evidence: &RecordingEvidence,
    at: OffsetDateTime,
    fits: impl Fn(&Recording) -> bool,
) -> Option<RecordingId> {
    evidence
        .derivatives
        .iter()
        .filter(|d| d.made_at <= at && fits(d))
        .min_by_key(|d| (sort_key(d.made_at), d.id))
        .map(|d| d.id)
}
