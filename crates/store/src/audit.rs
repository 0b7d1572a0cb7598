//! The audit trail in the register: appended in the same transaction as the change it records.

use custodian_core::audit::{Actor, AuditEntry, AuditEvent, AuditHash, AuditOutcome, ChainHead};
use custodian_core::ids::{AuditEventId, PersonId, RecordingId, StaffId};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::rows::stored;
use crate::{RegisterTx, StoreError, StoreResult, on_both};

#[derive(sqlx::FromRow)]
pub(crate) struct EventRow {
    seq: i64,
    id: Uuid,
    at: OffsetDateTime,
    actor_kind: String,
    actor_id: Option<Uuid>,
    action: String,
    person_id: Option<Uuid>,
    recording_id: Option<Uuid>,
    outcome: String,
    detail: String,
    prev_hash: Vec<u8>,
    hash: Vec<u8>,
}

impl TryFrom<EventRow> for AuditEvent {
    type Error = StoreError;

    fn try_from(row: EventRow) -> Result<Self, StoreError> {
        let actor = match (row.actor_kind.as_str(), row.actor_id) {
            ("staff", Some(id)) => Actor::Staff(StaffId::from_uuid(id)),
            ("system", None) => Actor::System,
            (kind, _) => return Err(StoreError::corrupt("audit actor", kind)),
        };
        let hash = |bytes: &[u8]| {
            AuditHash::from_slice(bytes)
                .ok_or_else(|| StoreError::corrupt("audit hash", "not 32 bytes"))
        };
        Ok(AuditEvent {
            seq: u64::try_from(row.seq).map_err(|e| StoreError::corrupt("audit sequence", e))?,
            id: AuditEventId::from_uuid(row.id),
            at: row.at,
            actor,
            action: row.action,
            person: row.person_id.map(PersonId::from_uuid),
            recording: row.recording_id.map(RecordingId::from_uuid),
            outcome: stored("audit outcome", AuditOutcome::parse(&row.outcome))?,
            detail: row.detail,
            prev_hash: hash(&row.prev_hash)?,
            hash: hash(&row.hash)?,
        })
    }
}

impl RegisterTx {
    /// Appends an event to the chain. Locks the chain head until the transaction ends, so
    /// concurrent writers append one after another and sequence numbers follow commit order.
    pub async fn append_audit(
        &mut self,
        id: AuditEventId,
        entry: AuditEntry,
    ) -> StoreResult<AuditEvent> {
        let (seq, previous): (i64, Vec<u8>) = on_both!(self, conn => sqlx::query_as(
            "UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash",
        )
        .fetch_one(&mut **conn)
        .await?);
        let head = ChainHead {
            seq: u64::try_from(seq - 1).map_err(|e| StoreError::corrupt("audit head", e))?,
            hash: AuditHash::from_slice(&previous)
                .ok_or_else(|| StoreError::corrupt("audit head", "hash is not 32 bytes"))?,
        };
        let event = AuditEvent::seal(head, id, entry);
        let (actor_kind, actor_id) = match event.actor {
            Actor::Staff(staff) => ("staff", Some(staff.as_uuid())),
            Actor::System => ("system", None),
        };
        on_both!(self, conn => sqlx::query(
            "INSERT INTO audit_events (seq, id, at, actor_kind, actor_id, action, person_id, recording_id, outcome, detail, prev_hash, hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(seq)
        .bind(event.id.as_uuid())
        .bind(event.at)
        .bind(actor_kind)
        .bind(actor_id)
        .bind(&event.action)
        .bind(event.person.map(|p| p.as_uuid()))
        .bind(event.recording.map(|r| r.as_uuid()))
        .bind(event.outcome.as_str())
        .bind(&event.detail)
        .bind(event.prev_hash.0.as_slice())
        .bind(event.hash.0.as_slice())
        .execute(&mut **conn)
        .await?.rows_affected());
        // The trigger `audit_head_follows_events` moves the head to this event.
        Ok(event)
    }

    /// The recorded end of the chain.
    pub async fn audit_head(&mut self) -> StoreResult<ChainHead> {
        let (seq, hash): (i64, Vec<u8>) = on_both!(self, conn => sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(&mut **conn).await?);
        Ok(ChainHead {
            seq: u64::try_from(seq).map_err(|e| StoreError::corrupt("audit head", e))?,
            hash: AuditHash::from_slice(&hash)
                .ok_or_else(|| StoreError::corrupt("audit head", "hash is not 32 bytes"))?,
        })
    }

    /// Up to `limit` events after sequence number `after`, in sequence order: verify the trail
    /// a page at a time so memory stays flat however long it grows.
    pub async fn audit_events_after(
        &mut self,
        after: u64,
        limit: u32,
    ) -> StoreResult<Vec<AuditEvent>> {
        let rows: Vec<EventRow> = on_both!(self, conn => sqlx::query_as(
            "SELECT * FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(i64::try_from(after).unwrap_or(i64::MAX))
        .bind(i64::from(limit))
        .fetch_all(&mut **conn)
        .await?);
        rows.into_iter().map(AuditEvent::try_from).collect()
    }

    /// The latest events about a person, newest first.
    pub async fn audit_events_about_person(
        &mut self,
        person: PersonId,
        limit: u32,
    ) -> StoreResult<Vec<AuditEvent>> {
        let rows: Vec<EventRow> = on_both!(self, conn => sqlx::query_as(
            "SELECT * FROM audit_events WHERE person_id = $1 ORDER BY seq DESC LIMIT $2",
        )
        .bind(person.as_uuid())
        .bind(i64::from(limit))
        .fetch_all(&mut **conn)
        .await?);
        rows.into_iter().map(AuditEvent::try_from).collect()
    }

    /// The latest events about a person whose action is one of `actions`, newest first.
    pub async fn audit_events_about_person_of(
        &mut self,
        person: PersonId,
        actions: &[&str],
        limit: u32,
    ) -> StoreResult<Vec<AuditEvent>> {
        let placeholders: Vec<String> = (0..actions.len()).map(|n| format!("${}", n + 3)).collect();
        let sql = format!(
            "SELECT * FROM audit_events WHERE person_id = $1 AND action IN ({}) ORDER BY seq DESC LIMIT $2",
            placeholders.join(", ")
        );
        let rows: Vec<EventRow> = on_both!(self, conn => {
            // Only numbered placeholders are formatted in; the actions are bound.
            let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                .bind(person.as_uuid())
                .bind(i64::from(limit));
            for action in actions {
                query = query.bind(*action);
            }
            query.fetch_all(&mut **conn).await?
        });
        rows.into_iter().map(AuditEvent::try_from).collect()
    }

    /// How many times each of two actions was recorded about a recording, over its whole
    /// history (however many other events came since).
    pub async fn count_actions_about_recording(
        &mut self,
        recording: RecordingId,
        actions: [&str; 2],
    ) -> StoreResult<[u64; 2]> {
        let [first, second] = actions;
        let (a, b): (i64, i64) = on_both!(self, conn => sqlx::query_as(
            "SELECT COALESCE(SUM(CASE WHEN action = $2 THEN 1 ELSE 0 END), 0),
                    COALESCE(SUM(CASE WHEN action = $3 THEN 1 ELSE 0 END), 0)
             FROM audit_events WHERE recording_id = $1",
        )
        .bind(recording.as_uuid())
        .bind(first)
        .bind(second)
        .fetch_one(&mut **conn)
        .await?);
        Ok([a, b].map(|n| u64::try_from(n).unwrap_or(0)))
    }

    /// The latest events about a recording, newest first.
    pub async fn audit_events_about_recording(
        &mut self,
        recording: RecordingId,
        limit: u32,
    ) -> StoreResult<Vec<AuditEvent>> {
        let rows: Vec<EventRow> = on_both!(self, conn => sqlx::query_as(
            "SELECT * FROM audit_events WHERE recording_id = $1 ORDER BY seq DESC LIMIT $2",
        )
        .bind(recording.as_uuid())
        .bind(i64::from(limit))
        .fetch_all(&mut **conn)
        .await?);
        rows.into_iter().map(AuditEvent::try_from).collect()
    }
}
