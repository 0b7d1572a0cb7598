//! Grants to use a recording's content (X1): issued after a decision, read on every request
//! made under one, and revoked by the changes that could turn the decision.

use custodian_core::grant::{Revocation, UseGrant};
use custodian_core::ids::{PersonId, RecordingId, StaffId, UseGrantId};
use custodian_core::purpose::Purpose;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::rows::stored;
use crate::{RegisterTx, StoreResult, on_both};

#[derive(sqlx::FromRow)]
struct GrantRow {
    id: Uuid,
    staff_id: Uuid,
    recording_id: Uuid,
    purpose: String,
    issued_at: OffsetDateTime,
    expires_at: OffsetDateTime,
    revoked_at: Option<OffsetDateTime>,
    revoked_because: Option<String>,
}

impl RegisterTx {
    /// Records a grant, found later by the SHA-256 of its secret, resting on what `persons`
    /// consented to and may be seen by.
    pub async fn insert_use_grant(
        &mut self,
        grant: &UseGrant,
        token_hash: &[u8; 32],
        study: Option<&str>,
        persons: &[PersonId],
    ) -> StoreResult<()> {
        on_both!(self, conn => sqlx::query(
            "INSERT INTO use_grants (id, token_hash, staff_id, recording_id, purpose, study, issued_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(grant.id.as_uuid())
        .bind(token_hash.as_slice())
        .bind(grant.staff_id.as_uuid())
        .bind(grant.recording_id.as_uuid())
        .bind(grant.purpose.as_str())
        .bind(study)
        .bind(grant.issued_at)
        .bind(grant.expires_at)
        .execute(&mut **conn)
        .await?.rows_affected());
        for person in persons {
            on_both!(self, conn => sqlx::query(
                "INSERT INTO use_grant_persons (person_id, grant_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            )
            .bind(person.as_uuid())
            .bind(grant.id.as_uuid())
            .execute(&mut **conn)
            .await?.rows_affected());
        }
        Ok(())
    }

    /// The grant whose secret hashes to `token_hash`, by its unique index: every byte-range
    /// request under a grant makes this read and its media's.
    pub async fn use_grant(&mut self, token_hash: &[u8; 32]) -> StoreResult<Option<UseGrant>> {
        let row: Option<GrantRow> = on_both!(self, conn => sqlx::query_as(
            "SELECT id, staff_id, recording_id, purpose, issued_at, expires_at, revoked_at, revoked_because
             FROM use_grants WHERE token_hash = $1",
        )
        .bind(token_hash.as_slice())
        .fetch_optional(&mut **conn)
        .await?);
        let Some(row) = row else {
            return Ok(None);
        };
        let revoked = row.revoked_at.map(|at| Revocation {
            at,
            because: row
                .revoked_because
                .unwrap_or_else(|| "the register changed".to_owned()),
        });
        Ok(Some(UseGrant {
            id: UseGrantId::from_uuid(row.id),
            staff_id: StaffId::from_uuid(row.staff_id),
            recording_id: RecordingId::from_uuid(row.recording_id),
            purpose: stored("purpose", Purpose::parse(&row.purpose))?,
            issued_at: row.issued_at,
            expires_at: row.expires_at,
            revoked,
        }))
    }

    /// Revokes every live grant resting on `person`: their consent or access changed.
    pub async fn revoke_use_grants_about(
        &mut self,
        person: PersonId,
        now: OffsetDateTime,
        because: &str,
    ) -> StoreResult<u64> {
        Ok(on_both!(self, conn => sqlx::query(
            "UPDATE use_grants SET revoked_at = $2, revoked_because = $3
             WHERE revoked_at IS NULL AND expires_at > $2
               AND id IN (SELECT grant_id FROM use_grant_persons WHERE person_id = $1)",
        )
        .bind(person.as_uuid())
        .bind(now)
        .bind(because)
        .execute(&mut **conn)
        .await?.rows_affected()))
    }

    /// Revokes every live grant to use `recording`.
    pub async fn revoke_use_grants_of_recording(
        &mut self,
        recording: RecordingId,
        now: OffsetDateTime,
        because: &str,
    ) -> StoreResult<u64> {
        Ok(on_both!(self, conn => sqlx::query(
            "UPDATE use_grants SET revoked_at = $2, revoked_because = $3
             WHERE recording_id = $1 AND revoked_at IS NULL AND expires_at > $2",
        )
        .bind(recording.as_uuid())
        .bind(now)
        .bind(because)
        .execute(&mut **conn)
        .await?.rows_affected()))
    }

    /// Revokes every live grant `staff` holds, or only those resting on `person`.
    pub async fn revoke_use_grants_of_staff(
        &mut self,
        staff: StaffId,
        person: Option<PersonId>,
        now: OffsetDateTime,
        because: &str,
    ) -> StoreResult<u64> {
        Ok(match person {
            None => on_both!(self, conn => sqlx::query(
                "UPDATE use_grants SET revoked_at = $2, revoked_because = $3
                 WHERE staff_id = $1 AND revoked_at IS NULL AND expires_at > $2",
            )
            .bind(staff.as_uuid())
            .bind(now)
            .bind(because)
            .execute(&mut **conn)
            .await?.rows_affected()),
            Some(person) => on_both!(self, conn => sqlx::query(
                "UPDATE use_grants SET revoked_at = $2, revoked_because = $3
                 WHERE staff_id = $1 AND revoked_at IS NULL AND expires_at > $2
                   AND id IN (SELECT grant_id FROM use_grant_persons WHERE person_id = $4)",
            )
            .bind(staff.as_uuid())
            .bind(now)
            .bind(because)
            .bind(person.as_uuid())
            .execute(&mut **conn)
            .await?.rows_affected()),
        })
    }

    /// Revokes every live grant: the rules of access themselves changed.
    pub async fn revoke_all_use_grants(
        &mut self,
        now: OffsetDateTime,
        because: &str,
    ) -> StoreResult<u64> {
        Ok(on_both!(self, conn => sqlx::query(
            "UPDATE use_grants SET revoked_at = $1, revoked_because = $2
             WHERE revoked_at IS NULL AND expires_at > $1",
        )
        .bind(now)
        .bind(because)
        .execute(&mut **conn)
        .await?.rows_affected()))
    }

    /// Deletes grants that expired before `cutoff`: the audit trail keeps each grant's record.
    pub async fn delete_use_grants_expired_before(
        &mut self,
        cutoff: OffsetDateTime,
    ) -> StoreResult<u64> {
        on_both!(self, conn => sqlx::query(
            "DELETE FROM use_grant_persons WHERE grant_id IN (SELECT id FROM use_grants WHERE expires_at < $1)",
        )
        .bind(cutoff)
        .execute(&mut **conn)
        .await?.rows_affected());
        Ok(
            on_both!(self, conn => sqlx::query("DELETE FROM use_grants WHERE expires_at < $1")
        .bind(cutoff)
        .execute(&mut **conn)
        .await?.rows_affected()),
        )
    }
}
