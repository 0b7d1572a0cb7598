//! Second factors: each account's sealed authenticator secret, the time-steps it has used, and half sign-ins awaiting a code.

use custodian_core::ids::StaffId;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{RegisterTx, StoreResult, on_both};

impl RegisterTx {
    /// Keeps `sealed` as the account's authenticator secret, replacing one not yet confirmed.
    pub async fn put_totp_secret(
        &mut self,
        staff: StaffId,
        sealed: &[u8],
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        on_both!(self, conn => sqlx::query("DELETE FROM staff_totp WHERE staff_id = $1")
            .bind(staff.as_uuid())
            .execute(&mut **conn)
            .await?.rows_affected());
        on_both!(self, conn => sqlx::query("INSERT INTO staff_totp (staff_id, sealed_secret, created_at) VALUES ($1, $2, $3)")
            .bind(staff.as_uuid())
            .bind(sealed)
            .bind(at)
            .execute(&mut **conn)
            .await?.rows_affected());
        Ok(())
    }

    /// The account's sealed authenticator secret, confirmed or not.
    pub async fn totp_secret(&mut self, staff: StaffId) -> StoreResult<Option<Vec<u8>>> {
        Ok(
            on_both!(self, conn => sqlx::query_scalar("SELECT sealed_secret FROM staff_totp WHERE staff_id = $1")
            .bind(staff.as_uuid())
            .fetch_optional(&mut **conn)
            .await?),
        )
    }

    /// Every sealed authenticator secret, by account (for rotating the key that seals them).
    pub async fn all_totp_secrets(&mut self) -> StoreResult<Vec<(StaffId, Vec<u8>)>> {
        let rows: Vec<(Uuid, Vec<u8>)> = on_both!(self, conn => sqlx::query_as("SELECT staff_id, sealed_secret FROM staff_totp ORDER BY staff_id")
            .fetch_all(&mut **conn)
            .await?);
        Ok(rows
            .into_iter()
            .map(|(id, sealed)| (StaffId::from_uuid(id), sealed))
            .collect())
    }

    /// Replaces an account's sealed secret with the same secret sealed anew (key rotation).
    pub async fn reseal_totp_secret(&mut self, staff: StaffId, sealed: &[u8]) -> StoreResult<()> {
        on_both!(self, conn => sqlx::query("UPDATE staff_totp SET sealed_secret = $1 WHERE staff_id = $2")
            .bind(sealed)
            .bind(staff.as_uuid())
            .execute(&mut **conn)
            .await?.rows_affected());
        Ok(())
    }

    /// Marks the account enrolled (`Some`) or not (`None`).
    pub async fn set_totp_enrolled(
        &mut self,
        staff: StaffId,
        at: Option<OffsetDateTime>,
    ) -> StoreResult<bool> {
        let changed = on_both!(self, conn => sqlx::query("UPDATE staff SET totp_enrolled_at = $1 WHERE id = $2")
            .bind(at)
            .bind(staff.as_uuid())
            .execute(&mut **conn)
            .await?.rows_affected());
        Ok(changed == 1)
    }

    /// Forgets the account's authenticator: its secret and the steps it used.
    pub async fn delete_totp(&mut self, staff: StaffId) -> StoreResult<()> {
        on_both!(self, conn => sqlx::query("DELETE FROM staff_totp WHERE staff_id = $1")
            .bind(staff.as_uuid())
            .execute(&mut **conn)
            .await?.rows_affected());
        on_both!(self, conn => sqlx::query("DELETE FROM totp_used_steps WHERE staff_id = $1")
            .bind(staff.as_uuid())
            .execute(&mut **conn)
            .await?.rows_affected());
        Ok(())
    }

    /// Notes that the account used the code of `step`; false if it had used it already, so a
    /// code is accepted once however the requests race (the key refuses a second row).
    pub async fn use_totp_step(
        &mut self,
        staff: StaffId,
        step: i64,
        at: OffsetDateTime,
    ) -> StoreResult<bool> {
        let added = on_both!(self, conn => sqlx::query(
            "INSERT INTO totp_used_steps (staff_id, step, used_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(staff.as_uuid())
        .bind(step)
        .bind(at)
        .execute(&mut **conn)
        .await?
        .rows_affected());
        Ok(added == 1)
    }

    /// Records a half sign-in: the password was right, the code is still to come.
    pub async fn insert_pending_sign_in(
        &mut self,
        token_hash: &[u8],
        staff: StaffId,
        at: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> StoreResult<()> {
        on_both!(self, conn => sqlx::query("INSERT INTO sign_in_pending (token_hash, staff_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(token_hash)
            .bind(staff.as_uuid())
            .bind(at)
            .bind(expires_at)
            .execute(&mut **conn)
            .await?.rows_affected());
        Ok(())
    }

    /// The account a half sign-in belongs to, if it has not expired at `now`.
    pub async fn pending_sign_in(
        &mut self,
        token_hash: &[u8],
        now: OffsetDateTime,
    ) -> StoreResult<Option<StaffId>> {
        let id: Option<Uuid> = on_both!(self, conn => sqlx::query_scalar(
            "SELECT staff_id FROM sign_in_pending WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&mut **conn)
        .await?);
        Ok(id.map(StaffId::from_uuid))
    }

    /// Ends a half sign-in (completed, abandoned or refused), and any that expired before `now`.
    pub async fn delete_pending_sign_in(
        &mut self,
        token_hash: &[u8],
        now: OffsetDateTime,
    ) -> StoreResult<()> {
        on_both!(self, conn => sqlx::query("DELETE FROM sign_in_pending WHERE token_hash = $1 OR expires_at <= $2")
            .bind(token_hash)
            .bind(now)
            .execute(&mut **conn)
            .await?.rows_affected());
        Ok(())
    }
}
