//! API tokens: made, listed, revoked, and checked on each request.

use custodian_core::text::ShortText;
use custodian_store::ApiToken;
use time::Duration;
use uuid::Uuid;

use super::*;
use crate::audit_trail::Audit;
use crate::{AppError, AppResult, Custodian};

impl Custodian {
    /// The caller presenting this API token.
    pub async fn authenticate_token(&self, secret: &Secret) -> AppResult<Caller> {
        let now = self.clock.now();
        let mut tx = self.register.write().await?;
        let (account, token) =
            tx.staff_for_token(&secret.digest(), now)
                .await?
                .ok_or(AppError::Unauthenticated(
                    "the API token is not valid: it is unknown, expired or revoked",
                ))?;
        tx.touch_token(token, now).await?;
        tx.commit().await?;
        Ok(Caller::new(account, Credential::Token(token)))
    }

    /// Creates an API token for the caller; the secret is returned once and never stored.
    #[tracing::instrument(skip(self, caller), fields(staff = %caller.member.id))]
    pub async fn create_token(
        &self,
        caller: &Caller,
        name: ShortText,
        lifetime: Option<Duration>,
    ) -> AppResult<(ApiToken, Secret)> {
        caller.ready()?;
        let now = self.clock.now();
        let secret = Secret::random("cst_")?;
        let token = ApiToken {
            id: Uuid::now_v7(),
            staff_id: caller.member.id,
            name,
            created_at: now,
            expires_at: lifetime.map(|l| now + l),
            last_used_at: None,
            revoked_at: None,
        };
        let mut tx = self.register.write().await?;
        tx.insert_token(&token, &secret.digest()).await?;
        Audit::change("auth.token_created")
            .detail(serde_json::json!({ "token_id": token.id, "name": token.name }))
            .write(&mut tx, caller.actor(), now)
            .await?;
        tx.commit().await?;
        Ok((token, secret))
    }

    /// The caller's API tokens.
    pub async fn tokens(&self, caller: &Caller) -> AppResult<Vec<ApiToken>> {
        caller.ready()?;
        let mut tx = self.register.read().await?;
        Ok(tx.tokens_of(caller.member.id).await?)
    }

    /// Revokes one of the caller's API tokens.
    pub async fn revoke_token(&self, caller: &Caller, id: Uuid) -> AppResult<()> {
        caller.ready()?;
        let now = self.clock.now();
        let mut tx = self.register.write().await?;
        if !tx.revoke_token(id, caller.member.id, now).await? {
            return Err(AppError::not_found("token", id));
        }
        Audit::change("auth.token_revoked")
            .detail(serde_json::json!({ "token_id": id }))
            .write(&mut tx, caller.actor(), now)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
