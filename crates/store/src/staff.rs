//! Staff accounts, their signed-in sessions ("sign-ins") and API tokens. Only hashes of
//! session and token secrets are stored, so a copy of the database cannot be used to sign in.

use custodian_core::ids::StaffId;
use custodian_core::staff::{Role, StaffMember, Username};
use custodian_core::text::ServiceCode;
use custodian_core::text::ShortText;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::rows::{short, stored};
use crate::{RegisterTx, StoreError, StoreResult, on_both};

/// A member of staff's account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffAccount {
    pub member: StaffMember,
    /// An Argon2id hash in PHC string format.
    pub password_hash: String,
    /// Set for a one-time password: the account can do nothing but choose a new one.
    pub must_change_password: bool,
    pub created_at: OffsetDateTime,
    pub disabled_at: Option<OffsetDateTime>,
    /// When the account confirmed its authenticator app (a second factor); none if it has not.
    pub totp_enrolled_at: Option<OffsetDateTime>,
}

/// A bearer token a member of staff created for API use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiToken {
    pub id: Uuid,
    pub staff_id: StaffId,
    pub name: ShortText,
    pub created_at: OffsetDateTime,
    pub expires_at: Option<OffsetDateTime>,
    pub last_used_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct StaffRow {
    id: Uuid,
    username: String,
    display_name: String,
    password_hash: String,
    must_change_password: bool,
    created_at: OffsetDateTime,
    disabled_at: Option<OffsetDateTime>,
    totp_enrolled_at: Option<OffsetDateTime>,
}

/// An account with when its sign-in was last used.
#[derive(sqlx::FromRow)]
struct SignInRow {
    #[sqlx(flatten)]
    staff: StaffRow,
    seen_at: OffsetDateTime,
}

impl TryFrom<StaffRow> for StaffAccount {
    type Error = StoreError;

    fn try_from(row: StaffRow) -> Result<Self, StoreError> {
        Ok(StaffAccount {
            member: StaffMember {
                id: StaffId::from_uuid(row.id),
                username: stored("username", Username::parse(&row.username))?,
                display_name: short("display name", &row.display_name)?,
                // Filled in by `with_access`, from their own tables.
                roles: Vec::new(),
                services: Vec::new(),
            },
            password_hash: row.password_hash,
            must_change_password: row.must_change_password,
            created_at: row.created_at,
            disabled_at: row.disabled_at,
            totp_enrolled_at: row.totp_enrolled_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct TokenRow {
    id: Uuid,
    staff_id: Uuid,
    name: String,
    created_at: OffsetDateTime,
    expires_at: Option<OffsetDateTime>,
    last_used_at: Option<OffsetDateTime>,
    revoked_at: Option<OffsetDateTime>,
}

impl TryFrom<TokenRow> for ApiToken {
    type Error = StoreError;

    fn try_from(row: TokenRow) -> Result<Self, StoreError> {
        Ok(ApiToken {
            id: row.id,
            staff_id: StaffId::from_uuid(row.staff_id),
            name: short("token name", &row.name)?,
            created_at: row.created_at,
            expires_at: row.expires_at,
            last_used_at: row.last_used_at,
            revoked_at: row.revoked_at,
        })
    }
}

impl RegisterTx {
    /// Adds an account.
    pub async fn insert_staff(&mut self, account: &StaffAccount) -> StoreResult<()> {
        on_both!(self, conn => sqlx::query(
            "INSERT INTO staff (id, username, display_name, password_hash, must_change_password, created_at, disabled_at, totp_enrolled_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(account.member.id.as_uuid())
        .bind(account.member.username.as_str())
        .bind(account.member.display_name.as_str())
        .bind(&account.password_hash)
        .bind(account.must_change_password)
        .bind(account.created_at)
        .bind(account.disabled_at)
        .bind(account.totp_enrolled_at)
        .execute(&mut **conn)
        .await?.rows_affected());
        self.set_staff_access(
            account.member.id,
            &account.member.roles,
            &account.member.services,
        )
        .await
    }

    /// Replaces a member of staff's roles and services.
    pub async fn set_staff_access(
        &mut self,
        id: StaffId,
        roles: &[Role],
        services: &[ServiceCode],
    ) -> StoreResult<()> {
        on_both!(self, conn => sqlx::query("DELETE FROM staff_roles WHERE staff_id = $1")
            .bind(id.as_uuid())
            .execute(&mut **conn)
            .await?
            .rows_affected());
        on_both!(self, conn => sqlx::query("DELETE FROM staff_services WHERE staff_id = $1")
            .bind(id.as_uuid())
            .execute(&mut **conn)
            .await?
            .rows_affected());
        for role in roles {
            on_both!(self, conn => sqlx::query("INSERT INTO staff_roles (staff_id, role) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(id.as_uuid())
                .bind(role.as_str())
                .execute(&mut **conn)
                .await?
                .rows_affected());
        }
        for service in services {
            on_both!(self, conn => sqlx::query("INSERT INTO staff_services (staff_id, service) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(id.as_uuid())
                .bind(service.as_str())
                .execute(&mut **conn)
                .await?
                .rows_affected());
        }
        Ok(())
    }

    /// The account of `row` with its roles and services, read in one query.
    async fn with_access(&mut self, row: StaffRow) -> StoreResult<StaffAccount> {
        let mut account = StaffAccount::try_from(row)?;
        let rows: Vec<(String, String)> = on_both!(self, conn => sqlx::query_as(
            "SELECT 'role' AS kind, role AS value FROM staff_roles WHERE staff_id = $1
             UNION ALL
             SELECT 'service' AS kind, service AS value FROM staff_services WHERE staff_id = $1
             ORDER BY kind, value",
        )
        .bind(account.member.id.as_uuid())
        .fetch_all(&mut **conn)
        .await?);
        for (kind, value) in rows {
            if kind == "role" {
                account
                    .member
                    .roles
                    .push(stored("role", Role::parse(&value))?);
            } else {
                account
                    .member
                    .services
                    .push(stored("service", ServiceCode::parse(&value))?);
            }
        }
        Ok(account)
    }

    pub(crate) async fn with_access_optional(
        &mut self,
        row: Option<StaffRow>,
    ) -> StoreResult<Option<StaffAccount>> {
        match row {
            Some(row) => self.with_access(row).await.map(Some),
            None => Ok(None),
        }
    }

    /// How many enabled administrator accounts exist.
    pub async fn count_administrators(&mut self) -> StoreResult<u64> {
        let count: i64 = on_both!(self, conn => sqlx::query_scalar(
            "SELECT count(*) FROM staff s JOIN staff_roles r ON r.staff_id = s.id
             WHERE r.role = 'administrator' AND s.disabled_at IS NULL",
        )
        .fetch_one(&mut **conn)
        .await?);
        Ok(u64::try_from(count).unwrap_or_default())
    }

    /// The account signing in as `username`.
    pub async fn staff_by_username(
        &mut self,
        username: &Username,
    ) -> StoreResult<Option<StaffAccount>> {
        let row: Option<StaffRow> = on_both!(self, conn => sqlx::query_as("SELECT * FROM staff WHERE username = $1")
            .bind(username.as_str())
            .fetch_optional(&mut **conn)
            .await?);
        self.with_access_optional(row).await
    }

    /// The account with `id`.
    pub async fn staff(&mut self, id: StaffId) -> StoreResult<Option<StaffAccount>> {
        let row: Option<StaffRow> = on_both!(self, conn => sqlx::query_as("SELECT * FROM staff WHERE id = $1")
            .bind(id.as_uuid())
            .fetch_optional(&mut **conn)
            .await?);
        self.with_access_optional(row).await
    }

    /// Every account, by username.
    pub async fn all_staff(&mut self) -> StoreResult<Vec<StaffAccount>> {
        let rows: Vec<StaffRow> = on_both!(self, conn => sqlx::query_as("SELECT * FROM staff ORDER BY username").fetch_all(&mut **conn).await?);
        let mut accounts = Vec::with_capacity(rows.len());
        for row in rows {
            accounts.push(self.with_access(row).await?);
        }
        Ok(accounts)
    }

    /// Replaces an account's password hash.
    pub async fn set_password(
        &mut self,
        id: StaffId,
        password_hash: &str,
        must_change: bool,
    ) -> StoreResult<bool> {
        let changed = on_both!(self, conn => sqlx::query("UPDATE staff SET password_hash = $1, must_change_password = $2 WHERE id = $3")
            .bind(password_hash)
            .bind(must_change)
            .bind(id.as_uuid())
            .execute(&mut **conn)
            .await?
            .rows_affected());
        Ok(changed == 1)
    }

    /// Records a sign-in, identified by the hash of its cookie secret.
    pub async fn insert_sign_in(
        &mut self,
        token_hash: &[u8],
        staff: StaffId,
        at: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> StoreResult<()> {
        on_both!(self, conn => sqlx::query("INSERT INTO staff_sessions (token_hash, staff_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(token_hash)
            .bind(staff.as_uuid())
            .bind(at)
            .bind(expires_at)
            .execute(&mut **conn)
            .await?.rows_affected());
        Ok(())
    }

    /// The enabled account signed in with this cookie secret hash, if the sign-in is still valid
    /// at `now` and was last used after `idle_since`; with when it was last used.
    pub async fn staff_for_sign_in(
        &mut self,
        token_hash: &[u8],
        now: OffsetDateTime,
        idle_since: OffsetDateTime,
    ) -> StoreResult<Option<(StaffAccount, OffsetDateTime)>> {
        let row: Option<SignInRow> = on_both!(self, conn => sqlx::query_as(
            "SELECT s.*, COALESCE(t.last_seen_at, t.created_at) AS seen_at
             FROM staff s JOIN staff_sessions t ON t.staff_id = s.id
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND t.expires_at > $2
               AND COALESCE(t.last_seen_at, t.created_at) > $3 AND s.disabled_at IS NULL",
        )
        .bind(token_hash)
        .bind(now)
        .bind(idle_since)
        .fetch_optional(&mut **conn)
        .await?);
        match row {
            Some(row) => Ok(Some((self.with_access(row.staff).await?, row.seen_at))),
            None => Ok(None),
        }
    }

    /// Notes that a sign-in was used at `at`, which keeps it from timing out while idle.
    pub async fn touch_sign_in(
        &mut self,
        token_hash: &[u8],
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        on_both!(self, conn => sqlx::query("UPDATE staff_sessions SET last_seen_at = $1 WHERE token_hash = $2")
            .bind(at)
            .bind(token_hash)
            .execute(&mut **conn)
            .await?.rows_affected());
        Ok(())
    }

    /// Notes a wrong password for `staff` at `at`.
    pub async fn insert_sign_in_failure(
        &mut self,
        staff: StaffId,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        on_both!(self, conn => sqlx::query("INSERT INTO sign_in_failures (staff_id, at) VALUES ($1, $2)")
            .bind(staff.as_uuid())
            .bind(at)
            .execute(&mut **conn)
            .await?.rows_affected());
        Ok(())
    }

    /// How many wrong passwords `staff` gave since `since`, and when the last was.
    pub async fn sign_in_failures_since(
        &mut self,
        staff: StaffId,
        since: OffsetDateTime,
    ) -> StoreResult<(u64, Option<OffsetDateTime>)> {
        let (count, last): (i64, Option<OffsetDateTime>) = on_both!(self, conn => sqlx::query_as(
            "SELECT COUNT(*), MAX(at) FROM sign_in_failures WHERE staff_id = $1 AND at > $2",
        )
        .bind(staff.as_uuid())
        .bind(since)
        .fetch_one(&mut **conn)
        .await?);
        Ok((u64::try_from(count).unwrap_or(0), last))
    }

    /// Notes a sign-in at `at` under a name no account has (by the name's digest), forgetting
    /// such notes from before `forget_before`.
    pub async fn insert_unknown_sign_in_failure(
        &mut self,
        name_digest: &[u8; 32],
        at: OffsetDateTime,
        forget_before: OffsetDateTime,
    ) -> StoreResult<()> {
        on_both!(self, conn => sqlx::query("DELETE FROM unknown_sign_in_failures WHERE at < $1")
            .bind(forget_before)
            .execute(&mut **conn)
            .await?.rows_affected());
        on_both!(self, conn => sqlx::query("INSERT INTO unknown_sign_in_failures (name_digest, at) VALUES ($1, $2)")
            .bind(name_digest.as_slice())
            .bind(at)
            .execute(&mut **conn)
            .await?.rows_affected());
        Ok(())
    }

    /// How many sign-ins under the unknown name with this digest failed since `since`, and when
    /// the last did.
    pub async fn unknown_sign_in_failures_since(
        &mut self,
        name_digest: &[u8; 32],
        since: OffsetDateTime,
    ) -> StoreResult<(u64, Option<OffsetDateTime>)> {
        let (count, last): (i64, Option<OffsetDateTime>) = on_both!(self, conn => sqlx::query_as(
            "SELECT COUNT(*), MAX(at) FROM unknown_sign_in_failures WHERE name_digest = $1 AND at > $2",
        )
        .bind(name_digest.as_slice())
        .bind(since)
        .fetch_one(&mut **conn)
        .await?);
        Ok((u64::try_from(count).unwrap_or(0), last))
    }

    /// Forgets `staff`'s wrong passwords, after they sign in.
    pub async fn clear_sign_in_failures(&mut self, staff: StaffId) -> StoreResult<()> {
        on_both!(self, conn => sqlx::query("DELETE FROM sign_in_failures WHERE staff_id = $1")
            .bind(staff.as_uuid())
            .execute(&mut **conn)
            .await?.rows_affected());
        Ok(())
    }

    /// Ends one sign-in.
    pub async fn revoke_sign_in(
        &mut self,
        token_hash: &[u8],
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        on_both!(self, conn => sqlx::query("UPDATE staff_sessions SET revoked_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL")
            .bind(at)
            .bind(token_hash)
            .execute(&mut **conn)
            .await?.rows_affected());
        Ok(())
    }

    /// Ends every sign-in of a member of staff (after a password change).
    pub async fn revoke_all_sign_ins(
        &mut self,
        staff: StaffId,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        on_both!(self, conn => sqlx::query("UPDATE staff_sessions SET revoked_at = $1 WHERE staff_id = $2 AND revoked_at IS NULL")
            .bind(at)
            .bind(staff.as_uuid())
            .execute(&mut **conn)
            .await?.rows_affected());
        Ok(())
    }

    /// Revokes every live API token of a member of staff (after a password change); how many.
    pub async fn revoke_all_tokens(
        &mut self,
        staff: StaffId,
        at: OffsetDateTime,
    ) -> StoreResult<u64> {
        let revoked = on_both!(self, conn => sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE staff_id = $2 AND revoked_at IS NULL")
            .bind(at)
            .bind(staff.as_uuid())
            .execute(&mut **conn)
            .await?.rows_affected());
        Ok(revoked)
    }

    /// Adds an API token, identified by the hash of its secret.
    pub async fn insert_token(&mut self, token: &ApiToken, token_hash: &[u8]) -> StoreResult<()> {
        on_both!(self, conn => sqlx::query(
            "INSERT INTO api_tokens (id, staff_id, name, token_hash, created_at, expires_at, last_used_at, revoked_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(token.id)
        .bind(token.staff_id.as_uuid())
        .bind(token.name.as_str())
        .bind(token_hash)
        .bind(token.created_at)
        .bind(token.expires_at)
        .bind(token.last_used_at)
        .bind(token.revoked_at)
        .execute(&mut **conn)
        .await?.rows_affected());
        Ok(())
    }

    /// The enabled account owning this token secret hash, with the token's id, if the token is valid at `now`.
    pub async fn staff_for_token(
        &mut self,
        token_hash: &[u8],
        now: OffsetDateTime,
    ) -> StoreResult<Option<(StaffAccount, Uuid)>> {
        let token: Option<(Uuid, Uuid)> = on_both!(self, conn => sqlx::query_as(
            "SELECT id, staff_id FROM api_tokens
             WHERE token_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&mut **conn)
        .await?);
        let Some((token_id, staff_id)) = token else {
            return Ok(None);
        };
        Ok(self
            .staff(StaffId::from_uuid(staff_id))
            .await?
            .filter(|account| account.disabled_at.is_none())
            .map(|account| (account, token_id)))
    }

    /// Notes when a token was last used.
    pub async fn touch_token(&mut self, id: Uuid, at: OffsetDateTime) -> StoreResult<()> {
        on_both!(self, conn => sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(at)
            .bind(id)
            .execute(&mut **conn)
            .await?.rows_affected());
        Ok(())
    }

    /// A member of staff's tokens, newest first.
    pub async fn tokens_of(&mut self, staff: StaffId) -> StoreResult<Vec<ApiToken>> {
        let rows: Vec<TokenRow> = on_both!(self, conn => sqlx::query_as(
            "SELECT id, staff_id, name, created_at, expires_at, last_used_at, revoked_at FROM api_tokens
             WHERE staff_id = $1 ORDER BY created_at DESC, id",
        )
        .bind(staff.as_uuid())
        .fetch_all(&mut **conn)
        .await?);
        rows.into_iter().map(ApiToken::try_from).collect()
    }

    /// Revokes one of a member of staff's tokens; false if they have no such live token.
    pub async fn revoke_token(
        &mut self,
        id: Uuid,
        staff: StaffId,
        at: OffsetDateTime,
    ) -> StoreResult<bool> {
        let changed = on_both!(self, conn => sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND staff_id = $3 AND revoked_at IS NULL",
        )
        .bind(at)
        .bind(id)
        .bind(staff.as_uuid())
        .execute(&mut **conn)
        .await?
        .rows_affected());
        Ok(changed == 1)
    }
}
