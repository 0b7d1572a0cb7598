//! Single sign-on: accounts linked to a provider's subject, and sign-ins waiting for the provider.

use custodian_core::ids::StaffId;
use time::OffsetDateTime;

use crate::{RegisterTx, StaffAccount, StoreResult, on_both};

/// A sign-in sent to the provider and not yet back: what the browser's return must match.
#[derive(Clone, PartialEq, Eq)]
pub struct PendingSsoLogin {
    /// The SHA-256 of the random value in the browser's cookie.
    pub browser_hash: Vec<u8>,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
    /// Where to go once signed in: a path on this site.
    pub return_to: String,
    pub expires_at: OffsetDateTime,
}

impl std::fmt::Debug for PendingSsoLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingSsoLogin")
            .field("return_to", &self.return_to)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

#[derive(sqlx::FromRow)]
struct PendingRow {
    browser_hash: Vec<u8>,
    state: String,
    nonce: String,
    pkce_verifier: String,
    return_to: String,
    expires_at: OffsetDateTime,
}

impl RegisterTx {
    /// Links an account to the provider's subject, or unlinks it (`None`); false if no such account.
    pub async fn link_sso(
        &mut self,
        staff: StaffId,
        link: Option<(&str, &str)>,
    ) -> StoreResult<bool> {
        let (issuer, subject) = link.unzip();
        let changed = on_both!(self, conn => sqlx::query("UPDATE staff SET sso_issuer = $1, sso_subject = $2 WHERE id = $3")
            .bind(issuer)
            .bind(subject)
            .bind(staff.as_uuid())
            .execute(&mut **conn)
            .await?
            .rows_affected());
        Ok(changed == 1)
    }

    /// The provider's subject an account is linked to, if any, for the administrator's page.
    pub async fn sso_subject_of(&mut self, staff: StaffId) -> StoreResult<Option<String>> {
        let subject: Option<Option<String>> = on_both!(self, conn => sqlx::query_scalar("SELECT sso_subject FROM staff WHERE id = $1")
            .bind(staff.as_uuid())
            .fetch_optional(&mut **conn)
            .await?);
        Ok(subject.flatten())
    }

    /// The account linked to `subject` at the provider `issuer`, enabled or not.
    pub async fn staff_by_sso(
        &mut self,
        issuer: &str,
        subject: &str,
    ) -> StoreResult<Option<StaffAccount>> {
        let row: Option<crate::staff::StaffRow> = on_both!(self, conn => sqlx::query_as("SELECT * FROM staff WHERE sso_issuer = $1 AND sso_subject = $2")
            .bind(issuer)
            .bind(subject)
            .fetch_optional(&mut **conn)
            .await?);
        self.with_access_optional(row).await
    }

    /// Keeps a sign-in sent to the provider, forgetting any that have expired.
    pub async fn insert_sso_login(
        &mut self,
        pending: &PendingSsoLogin,
        now: OffsetDateTime,
    ) -> StoreResult<()> {
        on_both!(self, conn => sqlx::query("DELETE FROM sso_logins WHERE expires_at <= $1")
            .bind(now)
            .execute(&mut **conn)
            .await?
            .rows_affected());
        on_both!(self, conn => sqlx::query("INSERT INTO sso_logins (browser_hash, state, nonce, pkce_verifier, return_to, expires_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&pending.browser_hash)
            .bind(&pending.state)
            .bind(&pending.nonce)
            .bind(&pending.pkce_verifier)
            .bind(&pending.return_to)
            .bind(pending.expires_at)
            .execute(&mut **conn)
            .await?
            .rows_affected());
        Ok(())
    }

    /// Removes and returns the sign-in this browser started, if it has not expired by `now`:
    /// each can be finished once only.
    pub async fn take_sso_login(
        &mut self,
        browser_hash: &[u8],
        now: OffsetDateTime,
    ) -> StoreResult<Option<PendingSsoLogin>> {
        let row: Option<PendingRow> = on_both!(self, conn => sqlx::query_as("DELETE FROM sso_logins WHERE browser_hash = $1 RETURNING *")
            .bind(browser_hash)
            .fetch_optional(&mut **conn)
            .await?);
        Ok(row
            .filter(|row| row.expires_at > now)
            .map(|row| PendingSsoLogin {
                browser_hash: row.browser_hash,
                state: row.state,
                nonce: row.nonce,
                pkce_verifier: row.pkce_verifier,
                return_to: row.return_to,
                expires_at: row.expires_at,
            }))
    }
}
