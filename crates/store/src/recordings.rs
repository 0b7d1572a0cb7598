//! Recordings and derived items in the register (R1, R6).

use custodian_core::ids::{PersonId, RecordingId, SessionId, StaffId};
use custodian_core::recording::{Derivation, DerivationKind, Recording, RecordingKind};
use custodian_core::text::ServiceCode;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::rows::{KnownBy, note, present, purposes_by_owner, purposes_of, short, stored};
use crate::{RegisterTx, StoreError, StoreResult, on_both};

#[derive(sqlx::FromRow)]
struct RecordingRow {
    id: Uuid,
    kind: String,
    service: String,
    session_id: Option<Uuid>,
    made_by: Uuid,
    device: String,
    made_at: OffsetDateTime,
    captured_at: OffsetDateTime,
    location: String,
    source_id: Option<Uuid>,
    original_id: Option<Uuid>,
    derivation_kind: Option<String>,
    de_identified: bool,
    derivation_method: Option<String>,
}

impl RegisterTx {
    /// Registers a recording with its subjects, purposes and, for a derived item, what was removed.
    pub async fn insert_recording(
        &mut self,
        recording: &Recording,
        by: StaffId,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        let derivation = recording.derivation.as_ref();
        on_both!(self, conn => sqlx::query(
            "INSERT INTO recordings (id, kind, service, session_id, made_by, device, made_at, captured_at, location, source_id,
                 original_id, derivation_kind, de_identified, derivation_method, registered_at, registered_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        )
        .bind(recording.id.as_uuid())
        .bind(recording.kind.as_str())
        .bind(recording.service.as_str())
        .bind(recording.session_id.map(|s| s.as_uuid()))
        .bind(recording.made_by.as_uuid())
        .bind(recording.device.as_str())
        .bind(recording.made_at)
        .bind(recording.captured_at)
        .bind(recording.location.as_str())
        .bind(derivation.map(|d| d.source.as_uuid()))
        .bind(derivation.map(|d| d.original.as_uuid()))
        .bind(derivation.map(|d| d.kind.as_str()))
        .bind(derivation.is_some_and(|d| d.de_identified))
        .bind(derivation.and_then(|d| d.method.as_ref()).map(|m| m.as_str().to_owned()))
        .bind(at)
        .bind(by.as_uuid())
        .execute(&mut **conn)
        .await?.rows_affected());
        let subjects: Vec<Uuid> = recording.subjects.iter().map(|p| p.as_uuid()).collect();
        self.insert_ids(
            "recording_subjects",
            "recording_id",
            "person_id",
            recording.id.as_uuid(),
            &subjects,
        )
        .await?;
        let codes: Vec<&str> = recording.purposes.iter().map(|p| p.as_str()).collect();
        self.insert_codes(
            "recording_purposes",
            "recording_id",
            "purpose",
            recording.id.as_uuid(),
            &codes,
        )
        .await?;
        let removed: Vec<Uuid> = derivation
            .map(|d| d.removed_persons.iter().map(|p| p.as_uuid()).collect())
            .unwrap_or_default();
        self.insert_ids(
            "recording_removed_persons",
            "recording_id",
            "person_id",
            recording.id.as_uuid(),
            &removed,
        )
        .await?;
        Ok(())
    }

    /// The recording with `id`.
    pub async fn recording(&mut self, id: RecordingId) -> StoreResult<Option<Recording>> {
        let row: Option<RecordingRow> = on_both!(self, conn => sqlx::query_as(
            "SELECT id, kind, service, session_id, made_by, device, made_at, captured_at, location, source_id, original_id,
                    derivation_kind, de_identified, derivation_method
             FROM recordings WHERE id = $1",
        )
        .bind(id.as_uuid())
        .fetch_optional(&mut **conn)
        .await?);
        let Some(row) = row else { return Ok(None) };
        self.complete(row).await.map(Some)
    }

    /// Items derived from `id`, directly or from its copies, oldest first.
    pub async fn derivatives_of(&mut self, id: RecordingId) -> StoreResult<Vec<Recording>> {
        let ids = self.derivative_ids(id).await?;
        self.recordings(ids).await
    }

    /// The items derived from `id`, directly or from its copies, that the register held at
    /// `known_at` (registered at or before it), oldest first.
    pub async fn derivatives_known_at(
        &mut self,
        id: RecordingId,
        known_at: Option<OffsetDateTime>,
    ) -> StoreResult<Vec<Recording>> {
        let ids = self
            .derivative_ids_known_by(id, KnownBy::as_of(known_at))
            .await?;
        self.recordings(ids).await
    }

    /// The ids of the items derived from `id`, directly or from its copies, oldest first.
    pub(crate) async fn derivative_ids(&mut self, id: RecordingId) -> StoreResult<Vec<Uuid>> {
        self.derivative_ids_known_by(id, KnownBy::EVERYTHING).await
    }

    async fn derivative_ids_known_by(
        &mut self,
        id: RecordingId,
        known: KnownBy,
    ) -> StoreResult<Vec<Uuid>> {
        let rows: Vec<(Uuid, OffsetDateTime)> = on_both!(self, conn => sqlx::query_as(
            "SELECT id, registered_at FROM recordings
             WHERE (source_id = $1 OR original_id = $1) AND ($2 IS NULL OR registered_at <= $2)
             ORDER BY made_at, id",
        )
        .bind(id.as_uuid())
        .bind(known.bound())
        .fetch_all(&mut **conn)
        .await?);
        Ok(rows
            .into_iter()
            .filter(|(_, registered_at)| known.holds(*registered_at))
            .map(|(id, _)| id)
            .collect())
    }

    /// The recordings a person appears in, latest first.
    pub async fn recordings_of(&mut self, person: PersonId) -> StoreResult<Vec<Recording>> {
        self.latest_recordings_of(person, u32::MAX).await
    }

    /// The latest `limit` recordings a person appears in, latest first (for pages).
    pub async fn latest_recordings_of(
        &mut self,
        person: PersonId,
        limit: u32,
    ) -> StoreResult<Vec<Recording>> {
        let ids: Vec<Uuid> = on_both!(self, conn => sqlx::query_scalar(
            "SELECT r.id FROM recordings r JOIN recording_subjects s ON s.recording_id = r.id
             WHERE s.person_id = $1 ORDER BY r.made_at DESC, r.id LIMIT $2",
        )
        .bind(person.as_uuid())
        .bind(i64::from(limit))
        .fetch_all(&mut **conn)
        .await?);
        self.recordings(ids).await
    }

    /// Recordings `staff` made since `since` whose media never arrived, latest first.
    pub async fn recordings_without_media_by(
        &mut self,
        staff: StaffId,
        since: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<Recording>> {
        let ids: Vec<Uuid> = on_both!(self, conn => sqlx::query_scalar(
            "SELECT r.id FROM recordings r LEFT JOIN recording_media m ON m.recording_id = r.id
             WHERE r.made_by = $1 AND r.made_at >= $2 AND m.recording_id IS NULL
             ORDER BY r.made_at DESC, r.id LIMIT $3",
        )
        .bind(staff.as_uuid())
        .bind(since)
        .bind(i64::from(limit))
        .fetch_all(&mut **conn)
        .await?);
        self.recordings(ids).await
    }

    /// Recordings whose media `staff` uploaded since `since` with no confirmation that the copy
    /// on the capture device was deleted (R8), latest upload first.
    pub async fn recordings_awaiting_device_deletion_by(
        &mut self,
        staff: StaffId,
        since: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<Recording>> {
        let ids: Vec<Uuid> = on_both!(self, conn => sqlx::query_scalar(
            "SELECT m.recording_id FROM recording_media m
             WHERE m.stored_by = $1 AND m.stored_at >= $2
               AND NOT EXISTS (SELECT 1 FROM audit_events a
                               WHERE a.recording_id = m.recording_id AND a.action = 'recording.device_copy_deleted')
             ORDER BY m.stored_at DESC, m.recording_id LIMIT $3",
        )
        .bind(staff.as_uuid())
        .bind(since)
        .bind(i64::from(limit))
        .fetch_all(&mut **conn)
        .await?);
        self.recordings(ids).await
    }

    /// Recordings whose media failed an integrity check since `since`, latest failure first.
    pub async fn recordings_failing_integrity_since(
        &mut self,
        since: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<Recording>> {
        // No `recording_id IS NOT NULL` here: SQLite would then walk every event about any
        // recording through that column's index instead of the partial index of failures.
        let ids: Vec<Option<Uuid>> = on_both!(self, conn => sqlx::query_scalar(
            "SELECT recording_id FROM audit_events
             WHERE action = 'media.integrity_failed' AND at >= $1
             GROUP BY recording_id ORDER BY MAX(seq) DESC LIMIT $2",
        )
        .bind(since)
        .bind(i64::from(limit))
        .fetch_all(&mut **conn)
        .await?);
        self.recordings(ids.into_iter().flatten().collect()).await
    }

    /// The recordings made in a session, in the order they were made.
    pub async fn recordings_in(&mut self, session: SessionId) -> StoreResult<Vec<Recording>> {
        let ids: Vec<Uuid> = on_both!(self, conn => sqlx::query_scalar(
            "SELECT id FROM recordings WHERE session_id = $1 ORDER BY made_at, id",
        )
        .bind(session.as_uuid())
        .fetch_all(&mut **conn)
        .await?);
        self.recordings(ids).await
    }

    async fn recordings(&mut self, ids: Vec<Uuid>) -> StoreResult<Vec<Recording>> {
        let mut recordings = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(recording) = self.recording(RecordingId::from_uuid(id)).await? {
                recordings.push(recording);
            }
        }
        Ok(recordings)
    }

    /// Adds a recording's subjects, purposes and removed persons to its row.
    async fn complete(&mut self, row: RecordingRow) -> StoreResult<Recording> {
        let subjects: Vec<Uuid> = on_both!(self, conn => sqlx::query_scalar(
            "SELECT person_id FROM recording_subjects WHERE recording_id = $1",
        )
        .bind(row.id)
        .fetch_all(&mut **conn)
        .await?);
        let purposes: Vec<(Uuid, String)> = on_both!(self, conn => sqlx::query_as(
            "SELECT recording_id, purpose FROM recording_purposes WHERE recording_id = $1",
        )
        .bind(row.id)
        .fetch_all(&mut **conn)
        .await?);
        let removed: Vec<Uuid> = on_both!(self, conn => sqlx::query_scalar(
            "SELECT person_id FROM recording_removed_persons WHERE recording_id = $1",
        )
        .bind(row.id)
        .fetch_all(&mut **conn)
        .await?);
        let sorted = |ids: Vec<Uuid>| {
            let mut persons: Vec<PersonId> = ids.into_iter().map(PersonId::from_uuid).collect();
            persons.sort_unstable();
            persons
        };
        let derivation = match row.derivation_kind {
            Some(kind) => Some(Derivation {
                source: RecordingId::from_uuid(present("derivation source", row.source_id)?),
                original: RecordingId::from_uuid(present("derivation original", row.original_id)?),
                kind: stored("derivation kind", DerivationKind::parse(&kind))?,
                de_identified: row.de_identified,
                removed_persons: sorted(removed),
                method: note("derivation method", row.derivation_method.as_deref())?,
            }),
            None => None,
        };
        let purposes = purposes_of(&purposes_by_owner(purposes)?, row.id);
        if purposes.is_empty() {
            return Err(StoreError::corrupt("recording purposes", "none"));
        }
        Ok(Recording {
            id: RecordingId::from_uuid(row.id),
            kind: stored("recording kind", RecordingKind::parse(&row.kind))?,
            service: stored("recording service", ServiceCode::parse(&row.service))?,
            session_id: row.session_id.map(SessionId::from_uuid),
            subjects: sorted(subjects),
            purposes,
            made_by: StaffId::from_uuid(row.made_by),
            device: short("device", &row.device)?,
            made_at: row.made_at,
            captured_at: row.captured_at,
            location: short("location", &row.location)?,
            derivation,
        })
    }
}
