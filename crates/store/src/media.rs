//! Recordings' media in the register: where the ciphertext is, its fingerprint, its wrapped key,
//! and destructions with their certificates.

use custodian_core::ids::{RecordingId, StaffId};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{RegisterTx, StoreError, StoreResult, on_both};

/// A recording's stored media.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaRecord {
    pub recording_id: RecordingId,
    pub object_key: String,
    pub content_type: String,
    pub size: u64,
    pub sha256: [u8; 32],
    /// The content key, encrypted to the key-encryption key; `None` once destroyed.
    pub wrapped_key: Option<Vec<u8>>,
    pub filename: Option<String>,
    pub stored_at: OffsetDateTime,
}

/// A destruction, with its signed certificate (JSON).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DestructionRecord {
    pub recording_id: RecordingId,
    pub destroyed_at: OffsetDateTime,
    pub destroyed_by: StaffId,
    pub reason: String,
    pub rule: String,
    pub certificate: String,
}

#[derive(sqlx::FromRow)]
struct MediaRow {
    recording_id: Uuid,
    object_key: String,
    content_type: String,
    size: i64,
    sha256: Vec<u8>,
    wrapped_key: Option<Vec<u8>>,
    filename: Option<String>,
    stored_at: OffsetDateTime,
}

impl TryFrom<MediaRow> for MediaRecord {
    type Error = StoreError;

    fn try_from(row: MediaRow) -> Result<Self, StoreError> {
        Ok(MediaRecord {
            recording_id: RecordingId::from_uuid(row.recording_id),
            object_key: row.object_key,
            content_type: row.content_type,
            size: u64::try_from(row.size).map_err(|e| StoreError::corrupt("media size", e))?,
            sha256: <[u8; 32]>::try_from(row.sha256.as_slice())
                .map_err(|_| StoreError::corrupt("media hash", "not 32 bytes"))?,
            wrapped_key: row.wrapped_key,
            filename: row.filename,
            stored_at: row.stored_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct DestructionRow {
    recording_id: Uuid,
    destroyed_at: OffsetDateTime,
    destroyed_by: Uuid,
    reason: String,
    rule: String,
    certificate: String,
}

impl RegisterTx {
    /// Records where a recording's media is stored.
    pub async fn insert_media(&mut self, media: &MediaRecord, by: StaffId) -> StoreResult<()> {
        let size = i64::try_from(media.size).map_err(|e| StoreError::corrupt("media size", e))?;
        on_both!(self, conn => sqlx::query(
            "INSERT INTO recording_media (recording_id, object_key, content_type, size, sha256, wrapped_key, filename, stored_at, stored_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(media.recording_id.as_uuid())
        .bind(&media.object_key)
        .bind(&media.content_type)
        .bind(size)
        .bind(media.sha256.as_slice())
        .bind(media.wrapped_key.as_deref())
        .bind(media.filename.as_deref())
        .bind(media.stored_at)
        .bind(by.as_uuid())
        .execute(&mut **conn)
        .await?.rows_affected());
        Ok(())
    }

    /// A recording's media, if it has any.
    pub async fn media(&mut self, recording: RecordingId) -> StoreResult<Option<MediaRecord>> {
        let row: Option<MediaRow> = on_both!(self, conn => sqlx::query_as(
            "SELECT recording_id, object_key, content_type, size, sha256, wrapped_key, filename, stored_at
             FROM recording_media WHERE recording_id = $1",
        )
        .bind(recording.as_uuid())
        .fetch_optional(&mut **conn)
        .await?);
        row.map(MediaRecord::try_from).transpose()
    }

    /// Up to `limit` media records after `after`, in recording order: a page at a time.
    pub async fn media_after(
        &mut self,
        after: Option<RecordingId>,
        limit: u32,
    ) -> StoreResult<Vec<MediaRecord>> {
        let after = after.map_or(Uuid::nil(), |id| id.as_uuid());
        let rows: Vec<MediaRow> = on_both!(self, conn => sqlx::query_as(
            "SELECT recording_id, object_key, content_type, size, sha256, wrapped_key, filename, stored_at
             FROM recording_media WHERE recording_id > $1 ORDER BY recording_id LIMIT $2",
        )
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&mut **conn)
        .await?);
        rows.into_iter().map(MediaRecord::try_from).collect()
    }

    /// Replaces a content key's wrapping (key rotation); false if the key is gone.
    pub async fn rewrap_key(
        &mut self,
        recording: RecordingId,
        wrapped: &[u8],
    ) -> StoreResult<bool> {
        let changed = on_both!(self, conn => sqlx::query(
            "UPDATE recording_media SET wrapped_key = $1 WHERE recording_id = $2 AND wrapped_key IS NOT NULL",
        )
        .bind(wrapped)
        .bind(recording.as_uuid())
        .execute(&mut **conn)
        .await?
        .rows_affected());
        Ok(changed == 1)
    }

    /// Destroys a recording's content key; false if it was already destroyed.
    pub async fn destroy_key(&mut self, recording: RecordingId) -> StoreResult<bool> {
        let changed = on_both!(self, conn => sqlx::query(
            "UPDATE recording_media SET wrapped_key = NULL WHERE recording_id = $1 AND wrapped_key IS NOT NULL",
        )
        .bind(recording.as_uuid())
        .execute(&mut **conn)
        .await?
        .rows_affected());
        Ok(changed == 1)
    }

    /// Records a destruction and its certificate.
    pub async fn insert_destruction(&mut self, destruction: &DestructionRecord) -> StoreResult<()> {
        on_both!(self, conn => sqlx::query(
            "INSERT INTO destructions (recording_id, destroyed_at, destroyed_by, reason, rule, certificate) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(destruction.recording_id.as_uuid())
        .bind(destruction.destroyed_at)
        .bind(destruction.destroyed_by.as_uuid())
        .bind(&destruction.reason)
        .bind(&destruction.rule)
        .bind(&destruction.certificate)
        .execute(&mut **conn)
        .await?.rows_affected());
        Ok(())
    }

    /// A recording's destruction, if it was destroyed.
    pub async fn destruction(
        &mut self,
        recording: RecordingId,
    ) -> StoreResult<Option<DestructionRecord>> {
        let row: Option<DestructionRow> = on_both!(self, conn => sqlx::query_as(
            "SELECT recording_id, destroyed_at, destroyed_by, reason, rule, certificate FROM destructions WHERE recording_id = $1",
        )
        .bind(recording.as_uuid())
        .fetch_optional(&mut **conn)
        .await?);
        Ok(row.map(|row| DestructionRecord {
            recording_id: RecordingId::from_uuid(row.recording_id),
            destroyed_at: row.destroyed_at,
            destroyed_by: StaffId::from_uuid(row.destroyed_by),
            reason: row.reason,
            rule: row.rule,
            certificate: row.certificate,
        }))
    }

    /// A vault setting, such as the key-encryption key's canary.
    pub async fn vault_setting(&mut self, name: &str) -> StoreResult<Option<Vec<u8>>> {
        let value: Option<Vec<u8>> = on_both!(self, conn => sqlx::query_scalar("SELECT value FROM vault_settings WHERE name = $1")
            .bind(name)
            .fetch_optional(&mut **conn)
            .await?);
        Ok(value)
    }

    /// Sets a vault setting.
    pub async fn set_vault_setting(&mut self, name: &str, value: &[u8]) -> StoreResult<()> {
        on_both!(self, conn => sqlx::query(
            "INSERT INTO vault_settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        )
        .bind(name)
        .bind(value)
        .execute(&mut **conn)
        .await?.rows_affected());
        Ok(())
    }
}
