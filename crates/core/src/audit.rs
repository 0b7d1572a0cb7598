//! The audit trail's events and the SHA-256 hash chain that makes any alteration evident (S2, X3).

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::ids::{AuditEventId, PersonId, RecordingId, StaffId};
use crate::vocabulary::vocabulary;

/// A SHA-256 digest in the chain.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, example = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"))]
pub struct AuditHash(pub [u8; 32]);

impl AuditHash {
    /// The "previous hash" of the first event.
    pub const GENESIS: Self = Self([0; 32]);

    /// Reads a hash from its 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(Self)
    }
}

impl fmt::Debug for AuditHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Display for AuditHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl Serialize for AuditHash {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&hex::encode(self.0))
    }
}

/// Who did something.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Actor {
    /// A member of staff.
    Staff(StaffId),
    /// Custodian itself (start-up, sweeps, the demo loader).
    System,
}

vocabulary! {
    /// How an audited act ended.
    pub enum AuditOutcome ("audit outcome") {
        /// A change was made.
        Succeeded = "succeeded", "succeeded";
        /// A use was asked about and allowed.
        Allowed = "allowed", "allowed";
        /// A use or an act was refused.
        Refused = "refused", "refused";
    }
}

/// What the application records; the chain adds the sequence number and hashes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    pub at: OffsetDateTime,
    pub actor: Actor,
    /// What happened, as a stable code such as `consent.recorded` or `decision.asked`.
    pub action: String,
    pub person: Option<PersonId>,
    pub recording: Option<RecordingId>,
    pub outcome: AuditOutcome,
    /// Details as compact JSON, stored and hashed exactly as written.
    pub detail: String,
}

/// The end of the chain: the last sequence number and its hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChainHead {
    pub seq: u64,
    pub hash: AuditHash,
}

impl ChainHead {
    /// The head of an empty chain.
    pub const EMPTY: Self = Self {
        seq: 0,
        hash: AuditHash::GENESIS,
    };
}

/// An event in the chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEvent {
    pub seq: u64,
    pub id: AuditEventId,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub actor: Actor,
    pub action: String,
    pub person: Option<PersonId>,
    pub recording: Option<RecordingId>,
    pub outcome: AuditOutcome,
    pub detail: String,
    pub prev_hash: AuditHash,
    pub hash: AuditHash,
}

impl AuditEvent {
    /// Appends `entry` after `head`, computing its hash.
    pub fn seal(head: ChainHead, id: AuditEventId, entry: AuditEntry) -> Self {
        let mut event = Self {
            seq: head.seq + 1,
            id,
            at: crate::clock::normalise(entry.at),
            actor: entry.actor,
            action: entry.action,
            person: entry.person,
            recording: entry.recording,
            outcome: entry.outcome,
            detail: entry.detail,
            prev_hash: head.hash,
            hash: AuditHash::GENESIS,
        };
        event.hash = event.content_hash();
        event
    }

    /// The hash of the event's content and the previous hash, over a canonical encoding: a
    /// version tag, then each field in a fixed order, variable-length fields prefixed by their
    /// length, so no two different events encode alike.
    pub fn content_hash(&self) -> AuditHash {
        let mut hasher = Sha256::new();
        hasher.update(b"custodian.audit.v1\0");
        hasher.update(self.seq.to_be_bytes());
        hasher.update(self.id.as_uuid().as_bytes());
        let micros = i64::try_from(self.at.unix_timestamp_nanos() / 1_000).unwrap_or(i64::MAX);
        hasher.update(micros.to_be_bytes());
        match self.actor {
            Actor::System => hasher.update([0u8]),
            Actor::Staff(staff) => {
                hasher.update([1u8]);
                hasher.update(staff.as_uuid().as_bytes());
            }
        }
        field(&mut hasher, self.action.as_bytes());
        optional_id(&mut hasher, self.person.map(|p| p.as_uuid()));
        optional_id(&mut hasher, self.recording.map(|r| r.as_uuid()));
        field(&mut hasher, self.outcome.as_str().as_bytes());
        field(&mut hasher, self.detail.as_bytes());
        hasher.update(self.prev_hash.0);
        AuditHash(hasher.finalize().into())
    }

    /// The chain head this event makes.
    pub const fn head(&self) -> ChainHead {
        ChainHead {
            seq: self.seq,
            hash: self.hash,
        }
    }
}

fn field(hasher: &mut Sha256, bytes: &[u8]) {
    let length = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    hasher.update(length.to_be_bytes());
    hasher.update(bytes);
}

fn optional_id(hasher: &mut Sha256, id: Option<uuid::Uuid>) {
    match id {
        None => hasher.update([0u8]),
        Some(id) => {
            hasher.update([1u8]);
            hasher.update(id.as_bytes());
        }
    }
}

/// What is wrong at the first bad place in the chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum ChainProblem {
    /// The event's content no longer matches its hash: it was altered.
    Altered,
    /// The event does not follow the one before it: an event was deleted, inserted or moved.
    Unlinked,
    /// A sequence number is missing or repeated: an event was deleted or inserted.
    OutOfSequence { expected: u64 },
    /// The chain ends before the recorded head: events were deleted from the end.
    Truncated { head_seq: u64 },
    /// The recorded head does not match the last event.
    HeadMismatch,
}

/// The first bad place in the chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("the audit trail is broken at event {seq}: {problem}")]
pub struct ChainBreak {
    /// The sequence number of the first bad event (or where the missing events would be).
    pub seq: u64,
    #[serde(flatten)]
    pub problem: ChainProblem,
}

impl fmt::Display for ChainProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Altered => f.write_str("its content was altered after it was written"),
            Self::Unlinked => f.write_str(
                "it does not follow the event before it (an event was deleted, inserted or moved)",
            ),
            Self::OutOfSequence { expected } => {
                write!(
                    f,
                    "expected event {expected} here (an event was deleted or inserted)"
                )
            }
            Self::Truncated { head_seq } => {
                write!(
                    f,
                    "the trail ends early, but {head_seq} events were recorded (events were deleted from the end)"
                )
            }
            Self::HeadMismatch => {
                f.write_str("the recorded end of the trail does not match its last event")
            }
        }
    }
}

/// Checks events given in stored sequence order, one at a time, so a trail of any length is
/// verified in constant memory.
#[derive(Clone, Debug)]
pub struct ChainVerifier {
    previous: ChainHead,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self::new()
    }
}

impl ChainVerifier {
    /// Starts at the beginning of the chain.
    pub const fn new() -> Self {
        Self {
            previous: ChainHead::EMPTY,
        }
    }

    /// Checks the next event.
    pub fn check(&mut self, event: &AuditEvent) -> Result<(), ChainBreak> {
        let expected = self.previous.seq + 1;
        if event.seq != expected {
            return Err(ChainBreak {
                seq: expected.min(event.seq),
                problem: ChainProblem::OutOfSequence { expected },
            });
        }
        if event.content_hash() != event.hash {
            return Err(ChainBreak {
                seq: event.seq,
                problem: ChainProblem::Altered,
            });
        }
        if event.prev_hash != self.previous.hash {
            return Err(ChainBreak {
                seq: event.seq,
                problem: ChainProblem::Unlinked,
            });
        }
        self.previous = event.head();
        Ok(())
    }

    /// Finishes, comparing the last event with the head recorded beside the trail.
    pub fn finish(self, recorded_head: ChainHead) -> Result<ChainHead, ChainBreak> {
        if recorded_head.seq > self.previous.seq {
            return Err(ChainBreak {
                seq: self.previous.seq + 1,
                problem: ChainProblem::Truncated {
                    head_seq: recorded_head.seq,
                },
            });
        }
        if recorded_head != self.previous {
            return Err(ChainBreak {
                seq: self.previous.seq,
                problem: ChainProblem::HeadMismatch,
            });
        }
        Ok(self.previous)
    }
}

/// Verifies a whole chain held in memory.
pub fn verify_chain<'a>(
    events: impl IntoIterator<Item = &'a AuditEvent>,
    recorded_head: ChainHead,
) -> Result<ChainHead, ChainBreak> {
    let mut verifier = ChainVerifier::new();
    for event in events {
        verifier.check(event)?;
    }
    verifier.finish(recorded_head)
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;
    use uuid::Uuid;

    use super::*;

    fn chain(length: u64) -> (Vec<AuditEvent>, ChainHead) {
        let mut head = ChainHead::EMPTY;
        let mut events = Vec::new();
        for n in 0..length {
            let event = AuditEvent::seal(
                head,
                AuditEventId::from_uuid(Uuid::from_u128(u128::from(n) + 1)),
                AuditEntry {
                    at: datetime!(2026-11-23 09:00 UTC) + time::Duration::seconds(n as i64),
                    actor: Actor::Staff(StaffId::from_uuid(Uuid::from_u128(7))),
                    action: "consent.recorded".to_owned(),
                    person: Some(PersonId::from_uuid(Uuid::from_u128(9))),
                    recording: None,
                    outcome: AuditOutcome::Succeeded,
                    detail: format!(r#"{{"n":{n}}}"#),
                },
            );
            head = event.head();
            events.push(event);
        }
        (events, head)
    }

    #[test]
    fn s2_an_untouched_chain_verifies() {
        let (events, head) = chain(5);
        assert_eq!(verify_chain(&events, head), Ok(head));
        assert_eq!(verify_chain(&[], ChainHead::EMPTY), Ok(ChainHead::EMPTY));
    }

    #[test]
    fn s2_an_altered_event_is_named() {
        let (mut events, head) = chain(5);
        events[2].detail = r#"{"n":99}"#.to_owned();
        let broken = verify_chain(&events, head).unwrap_err();
        assert_eq!((broken.seq, broken.problem), (3, ChainProblem::Altered));
    }

    #[test]
    fn s2_an_altered_event_with_a_recomputed_hash_breaks_the_next_link() {
        let (mut events, head) = chain(5);
        events[2].outcome = AuditOutcome::Refused;
        events[2].hash = events[2].content_hash();
        let broken = verify_chain(&events, head).unwrap_err();
        assert_eq!((broken.seq, broken.problem), (4, ChainProblem::Unlinked));
    }

    #[test]
    fn s2_a_deleted_event_is_found() {
        let (mut events, head) = chain(5);
        events.remove(1);
        let broken = verify_chain(&events, head).unwrap_err();
        assert_eq!(broken.seq, 2);
        assert_eq!(broken.problem, ChainProblem::OutOfSequence { expected: 2 });
    }

    #[test]
    fn s2_deleting_the_last_events_is_found_from_the_head() {
        let (mut events, head) = chain(5);
        events.truncate(3);
        let broken = verify_chain(&events, head).unwrap_err();
        assert_eq!(broken.problem, ChainProblem::Truncated { head_seq: 5 });
        assert_eq!(broken.seq, 4);
    }

    #[test]
    fn s2_swapping_two_events_is_found() {
        let (mut events, head) = chain(5);
        events.swap(1, 2);
        let (a, b) = (events[1].seq, events[2].seq);
        events[1].seq = b;
        events[2].seq = a;
        let broken = verify_chain(&events, head).unwrap_err();
        assert_eq!(broken.seq, 2);
        assert_eq!(broken.problem, ChainProblem::Altered);
    }

    #[test]
    fn encoding_distinguishes_moved_bytes_between_fields() {
        let (events, _) = chain(1);
        let mut moved = events[0].clone();
        moved.action = "consent.recorde".to_owned();
        moved.detail = format!("d{}", moved.detail);
        assert_ne!(moved.content_hash(), events[0].content_hash());
    }
}
