//! Managing staff accounts: creating them, and the roles and services that decide what they may do (S2).

use custodian_access::Action;
use custodian_core::audit::Actor;
use custodian_core::ids::StaffId;
use custodian_core::staff::{Role, StaffMember, Username};
use custodian_core::text::{ServiceCode, ShortText};
use custodian_store::StaffAccount;
use uuid::Uuid;

use crate::access::Target;
use crate::accounts::{Caller, Credential, Secret, hash_password};
use crate::audit_trail::Audit;
use crate::error_code::ErrorCode;
use crate::uses::{GrantsResting, revoke_grants};
use crate::{AppError, AppResult, Custodian};

/// A new colleague's account as an administrator enters it.
#[derive(Clone, Debug)]
pub struct NewStaff {
    pub username: Username,
    pub display_name: ShortText,
    pub roles: Vec<Role>,
    pub services: Vec<ServiceCode>,
}

/// Refuses roles that need a service without one: a practitioner or team manager in no
/// service could see no one, which is never what was meant.
fn check_access(roles: &[Role], services: &[ServiceCode]) -> AppResult<()> {
    let needs_service = roles
        .iter()
        .any(|role| matches!(role, Role::Practitioner | Role::TeamManager));
    if needs_service && services.is_empty() {
        return Err(AppError::Rule {
            code: ErrorCode::StaffServiceRequired,
            message: "a practitioner or team manager works in at least one service: name it"
                .to_owned(),
        });
    }
    Ok(())
}

/// Whether `member` holds exactly the roles and services `new` asks for, in any order.
fn same_access(member: &StaffMember, new: &NewStaff) -> bool {
    let sorted = |mut list: Vec<String>| {
        list.sort_unstable();
        list
    };
    let roles = |roles: &[Role]| sorted(roles.iter().map(|r| r.as_str().to_owned()).collect());
    let services =
        |services: &[ServiceCode]| sorted(services.iter().map(|s| s.as_str().to_owned()).collect());
    roles(&member.roles) == roles(&new.roles)
        && services(&member.services) == services(&new.services)
}

impl Custodian {
    /// Creates an account for a colleague, with a one-time password to give them.
    #[tracing::instrument(skip(self, caller), fields(staff = %caller.member.id))]
    pub async fn create_staff(
        &self,
        caller: &Caller,
        new: NewStaff,
    ) -> AppResult<(StaffMember, Secret)> {
        self.authorize(caller, Action::ManageAccounts, Target::Organisation)
            .await?;
        let password = Secret::one_time_password()?;
        let member = self
            .add_member(new, password.expose(), true, caller.actor())
            .await?;
        Ok((member, password))
    }

    /// Replaces a colleague's roles and services; audited with what they were before.
    #[tracing::instrument(skip(self, caller), fields(staff = %caller.member.id))]
    pub async fn set_staff_access(
        &self,
        caller: &Caller,
        id: StaffId,
        roles: Vec<Role>,
        services: Vec<ServiceCode>,
    ) -> AppResult<StaffMember> {
        self.authorize(caller, Action::ManageAccounts, Target::Organisation)
            .await?;
        check_access(&roles, &services)?;
        let now = self.clock.now();
        let mut tx = self.register.write().await?;
        let mut member = tx
            .staff(id)
            .await?
            .ok_or_else(|| AppError::not_found("staff member", id))?
            .member;
        let was_administrator = member.is_administrator();
        if was_administrator
            && !roles.contains(&Role::Administrator)
            && tx.count_administrators().await? <= 1
        {
            return Err(AppError::Rule {
                code: ErrorCode::StaffLastAdministrator,
                message: "this is the last administrator: make someone else one first".to_owned(),
            });
        }
        tx.set_staff_access(id, &roles, &services).await?;
        revoke_grants(
            &mut tx,
            GrantsResting::HeldBy(id),
            now,
            "their roles or services changed",
        )
        .await?;
        Audit::change("staff.access_changed")
            .detail(serde_json::json!({
                "staff_id": id,
                "roles": { "from": member.roles, "to": roles },
                "services": { "from": member.services, "to": services },
            }))
            .write(&mut tx, caller.actor(), now)
            .await?;
        tx.commit().await?;
        member.roles = roles;
        member.services = services;
        Ok(member)
    }

    /// Creates `new` with `password` already chosen, as `ensure_administrator` does for the
    /// first administrator: for benchmarks and demonstrations that must act as a member of
    /// staff without an administrator's round of one-time passwords. Audited like any account.
    pub async fn create_member_with_password(
        &self,
        new: NewStaff,
        password: &str,
    ) -> AppResult<StaffMember> {
        self.add_member(new, password, false, Actor::System).await
    }

    /// The account a program acts as through the use cases (the demo loader): made on first use
    /// with a random password nobody is shown, so nobody can sign in as it; audited as the
    /// system's act. Its roles and services bound what the program may do like anyone's. An
    /// existing account of that name is used only if it has exactly those roles and services, so
    /// the name of someone's own account does not hand a program their access.
    pub async fn service_account(&self, new: NewStaff) -> AppResult<Caller> {
        let existing = self
            .register
            .read()
            .await?
            .staff_by_username(&new.username)
            .await?;
        let member = match existing {
            Some(account) if same_access(&account.member, &new) => account.member,
            Some(_) => {
                return Err(AppError::Rule {
                    code: ErrorCode::StaffUsernameTaken,
                    message: format!(
                        "the username `{}` belongs to an account with other roles or services; a program cannot act as it",
                        new.username
                    ),
                });
            }
            None => {
                let password = Secret::random("svc_")?;
                self.add_member(new, password.expose(), true, Actor::System)
                    .await?
            }
        };
        Ok(Caller {
            member,
            credential: Credential::SignIn,
            must_change_password: false,
            must_enrol_totp: false,
        })
    }

    /// Adds `new` with `password` (one they must replace at first sign-in, if `must_change`),
    /// refusing a username already taken; audited as done by `actor`.
    pub(crate) async fn add_member(
        &self,
        new: NewStaff,
        password: &str,
        must_change: bool,
        actor: Actor,
    ) -> AppResult<StaffMember> {
        check_access(&new.roles, &new.services)?;
        let now = self.clock.now();
        let account = StaffAccount {
            member: StaffMember {
                id: StaffId::from_uuid(Uuid::now_v7()),
                username: new.username,
                display_name: new.display_name,
                roles: new.roles,
                services: new.services,
            },
            password_hash: hash_password(password)?,
            must_change_password: must_change,
            created_at: now,
            disabled_at: None,
            totp_enrolled_at: None,
        };
        let mut tx = self.register.write().await?;
        if tx
            .staff_by_username(&account.member.username)
            .await?
            .is_some()
        {
            return Err(AppError::Rule {
                code: ErrorCode::StaffUsernameTaken,
                message: format!(
                    "the username `{}` is taken; choose another",
                    account.member.username
                ),
            });
        }
        tx.insert_staff(&account).await?;
        Audit::change("staff.created")
            .detail(serde_json::json!({
                "staff_id": account.member.id,
                "username": account.member.username,
                "roles": account.member.roles,
                "services": account.member.services,
            }))
            .write(&mut tx, actor, now)
            .await?;
        tx.commit().await?;
        Ok(account.member)
    }

    /// Every staff account, for administrators.
    pub async fn staff_members(&self, caller: &Caller) -> AppResult<Vec<StaffMember>> {
        self.authorize(caller, Action::ManageAccounts, Target::Organisation)
            .await?;
        let mut tx = self.register.read().await?;
        Ok(tx
            .all_staff()
            .await?
            .into_iter()
            .map(|a| a.member)
            .collect())
    }
}
