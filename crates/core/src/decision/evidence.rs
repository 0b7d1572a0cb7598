//! What the decision function reads, laid out so that a decision touches as little as possible.

use crate::clock::{SortKey, sort_key};
use crate::consent::{ConsentAnswer, ConsentTerms, EthicsReference, Withdrawal};
use crate::ids::{ConfirmationId, ConsentId, PersonId, StaffId};
use crate::person::PersonName;
use crate::purpose::{Purpose, PurposeSet};
use crate::recording::Recording;
use crate::session::{Confirmation, Session, Stop};

/// Who is asking, and in what capacity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Requester {
    pub staff_id: StaffId,
    /// For research use: the ethics approval reference of the study the use is for (C10).
    pub study: Option<EthicsReference>,
}

/// Everything the rules look at to decide about one recording. Events may be given in any
/// order and may include events after the time asked about: decisions ignore those.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordingEvidence {
    pub recording: Recording,
    pub session: Option<SessionEvidence>,
    /// The recording's subjects and, for a family session, every participant. Other people are ignored.
    pub people: Vec<PersonEvidence>,
    /// Items derived from this recording, offered as alternatives (a de-identified or redacted copy).
    pub derivatives: Vec<Recording>,
    /// When the recording's media was destroyed, if it was.
    pub destroyed_at: Option<time::OffsetDateTime>,
}

impl RecordingEvidence {
    /// The evidence about `person`, if any was gathered.
    pub fn person(&self, person: PersonId) -> Option<&PersonEvidence> {
        self.people.iter().find(|p| p.person_id == person)
    }
}

/// A session with what happened in it, as far as decisions need.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionEvidence {
    pub session: Session,
    /// Sorted by person, then time: one person's answers are found by binary search, earliest first.
    confirmations: Vec<Confirmation>,
    pub stops: Vec<Stop>,
}

impl SessionEvidence {
    /// Gathers a session's confirmations and stops, in any order.
    pub fn new(session: Session, mut confirmations: Vec<Confirmation>, stops: Vec<Stop>) -> Self {
        confirmations.sort_unstable_by_key(confirmation_order);
        Self {
            session,
            confirmations,
            stops,
        }
    }

    /// Adds a "still willing" answer.
    pub fn add_confirmation(&mut self, confirmation: Confirmation) {
        let key = confirmation_order(&confirmation);
        let at = self
            .confirmations
            .partition_point(|c| confirmation_order(c) < key);
        self.confirmations.insert(at, confirmation);
    }

    /// Every "still willing" answer, by person then time.
    pub fn confirmations(&self) -> &[Confirmation] {
        &self.confirmations
    }

    /// `person`'s answers, earliest first.
    pub(super) fn confirmations_of(&self, person: PersonId) -> &[Confirmation] {
        let start = self.confirmations.partition_point(|c| c.person_id < person);
        let rest = self.confirmations.get(start..).unwrap_or_default();
        let end = rest.partition_point(|c| c.person_id == person);
        rest.get(..end).unwrap_or_default()
    }
}

fn confirmation_order(confirmation: &Confirmation) -> (PersonId, SortKey, ConfirmationId) {
    (
        confirmation.person_id,
        sort_key(confirmation.at),
        confirmation.id,
    )
}

/// One person's consents and withdrawals, as far as decisions need.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonEvidence {
    pub person_id: PersonId,
    pub name: PersonName,
    /// Sorted by signature time, then id: the consents signed by a given time are a prefix.
    consents: Vec<ConsentTerms>,
    /// Each consent's answer and purposes packed in one word (see [`packed`]), in the order of
    /// `consents`: scanning for the purpose asked about is then one mask and compare per consent,
    /// with no data-dependent branch to mispredict, within a few cache lines.
    answers: Vec<u32>,
    withdrawals: Vec<Withdrawal>,
    /// Every purpose any withdrawal names, so most decisions can skip the withdrawals entirely.
    withdrawn_purposes: PurposeSet,
}

impl PersonEvidence {
    /// Gathers a person's consents and withdrawals, in any order.
    pub fn new(
        person_id: PersonId,
        name: PersonName,
        mut consents: Vec<ConsentTerms>,
        withdrawals: Vec<Withdrawal>,
    ) -> Self {
        consents.sort_unstable_by_key(consent_order);
        Self {
            person_id,
            name,
            answers: consents
                .iter()
                .map(|c| packed(c.answer, c.purposes))
                .collect(),
            consents,
            withdrawn_purposes: withdrawals
                .iter()
                .fold(PurposeSet::EMPTY, |all, w| all.union(w.purposes)),
            withdrawals,
        }
    }

    /// Adds a consent (given or refused).
    pub fn add_consent(&mut self, consent: ConsentTerms) {
        let key = consent_order(&consent);
        let at = self.consents.partition_point(|c| consent_order(c) < key);
        self.answers
            .insert(at, packed(consent.answer, consent.purposes));
        self.consents.insert(at, consent);
    }

    /// Adds a withdrawal.
    pub fn add_withdrawal(&mut self, withdrawal: Withdrawal) {
        self.withdrawn_purposes = self.withdrawn_purposes.union(withdrawal.purposes);
        self.withdrawals.push(withdrawal);
    }

    /// The person's consents, given and refused, in the order they were signed.
    pub fn consents(&self) -> &[ConsentTerms] {
        &self.consents
    }

    /// The person's withdrawals.
    pub fn withdrawals(&self) -> &[Withdrawal] {
        &self.withdrawals
    }

    /// How many consents were signed at or before `until`.
    pub(super) fn signed_by(&self, until: SortKey) -> usize {
        // Most questions are about now, after every consent was signed.
        match self.consents.last() {
            Some(last) if sort_key(last.signed_at) <= until => self.consents.len(),
            _ => self
                .consents
                .partition_point(|c| sort_key(c.signed_at) <= until),
        }
    }

    /// The consents answering `answer` for `purpose` among the first `signed`, latest first.
    pub(super) fn latest_answering(
        &self,
        signed: usize,
        answer: ConsentAnswer,
        purpose: Purpose,
    ) -> impl Iterator<Item = &ConsentTerms> {
        let (mask, wanted) = wanted(answer, purpose);
        let mut end = signed.min(self.answers.len());
        std::iter::from_fn(move || {
            let found = self
                .answers
                .get(..end)?
                .iter()
                .rposition(|bits| bits & mask == wanted)?;
            end = found;
            self.consents.get(found)
        })
    }

    /// The consents answering `answer` for `purpose` from index `start` up to `signed`, earliest first.
    pub(super) fn earliest_answering(
        &self,
        start: usize,
        signed: usize,
        answer: ConsentAnswer,
        purpose: Purpose,
    ) -> impl Iterator<Item = &ConsentTerms> {
        let (mask, wanted) = wanted(answer, purpose);
        let end = signed.min(self.answers.len());
        let mut next = start;
        std::iter::from_fn(move || {
            let offset = self
                .answers
                .get(next..end)?
                .iter()
                .position(|bits| bits & mask == wanted)?;
            let found = next + offset;
            next = found + 1;
            self.consents.get(found)
        })
    }

    /// Whether any withdrawal names `purpose`.
    pub(super) fn may_have_withdrawn(&self, purpose: Purpose) -> bool {
        self.withdrawn_purposes.contains(purpose)
    }
}

/// The top bit marks a refusal; the others are the purposes.
const REFUSED: u32 = 1 << 31;
const _: () = assert!(
    Purpose::ALL.len() < 31,
    "purposes must leave the top bit free"
);

fn refusal_bit(answer: ConsentAnswer) -> u32 {
    if answer == ConsentAnswer::Refused {
        REFUSED
    } else {
        0
    }
}

fn packed(answer: ConsentAnswer, purposes: PurposeSet) -> u32 {
    purposes.bits() | refusal_bit(answer)
}

/// The mask and value that select consents answering `answer` for `purpose`.
fn wanted(answer: ConsentAnswer, purpose: Purpose) -> (u32, u32) {
    let purpose = PurposeSet::only(purpose).bits();
    (purpose | REFUSED, purpose | refusal_bit(answer))
}

fn consent_order(consent: &ConsentTerms) -> (SortKey, ConsentId) {
    (sort_key(consent.signed_at), consent.id)
}
