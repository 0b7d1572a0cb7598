//! What the access pages show beyond the use cases themselves: whether to offer an act, the
//! services caring for a person, an account as its administrator sees it, and the names a
//! report of refusals needs (S2, S3, S5).

use std::collections::BTreeMap;

use custodian_access::Action;
use custodian_core::ids::{PersonId, StaffId};
use custodian_core::person::PersonName;
use custodian_core::staff::StaffMember;
use custodian_core::text::ServiceCode;
use time::OffsetDateTime;

use crate::access::Target;
use crate::accounts::Caller;
use crate::{AppError, AppResult, Custodian};

/// A member of staff's account as their administrator manages it.
#[derive(Clone, Debug)]
pub struct AccountView {
    pub member: StaffMember,
    /// Still holding a one-time password: they have not signed in and chosen their own.
    pub must_change_password: bool,
    pub disabled_at: Option<OffsetDateTime>,
    /// When they set up an authenticator app, if they have one.
    pub totp_enrolled_at: Option<OffsetDateTime>,
    /// The single sign-on provider's subject the account is linked to, if any.
    pub sso_subject: Option<String>,
}

/// A person's page's facts about access to them.
#[derive(Clone, Debug)]
pub struct AccessToPerson {
    /// The services caring for them, whose staff may see them (S2).
    pub services: Vec<ServiceCode>,
    /// The viewer holds emergency access to them now (S3).
    pub emergency: bool,
}

impl Custodian {
    /// Whether `caller` may try `action` on `person`, without recording anything: for a page
    /// deciding whether to offer an act (emergency access, adding a service). Sending the act
    /// is checked again, and audited, by its use case.
    pub async fn offers(
        &self,
        caller: &Caller,
        action: Action,
        person: PersonId,
    ) -> AppResult<bool> {
        caller.ready()?;
        self.allows(caller, action, Target::Person(person)).await
    }

    /// Whether `caller` may try `action`, an act on the organisation as a whole, without
    /// recording anything: for a page deciding which links to show.
    pub async fn offers_to_organisation(&self, caller: &Caller, action: Action) -> AppResult<bool> {
        caller.ready()?;
        self.allows(caller, action, Target::Organisation).await
    }

    /// The services caring for a person, and whether the caller sees them under emergency
    /// access, for those who may see them.
    pub async fn access_to_person(
        &self,
        caller: &Caller,
        person: PersonId,
    ) -> AppResult<AccessToPerson> {
        self.read_person(caller, Action::ViewPerson, person).await?;
        let mut tx = self.register.read().await?;
        let access = tx
            .person_access(caller.member.id, person, self.clock.now())
            .await?;
        let mut services = access.services;
        // In a steady order, whichever the database answers in.
        services.sort();
        Ok(AccessToPerson {
            services,
            emergency: access.emergency,
        })
    }

    /// One account, for administrators.
    pub async fn staff_account(&self, caller: &Caller, id: StaffId) -> AppResult<AccountView> {
        self.authorize(caller, Action::ManageAccounts, Target::Organisation)
            .await?;
        let mut tx = self.register.read().await?;
        let account = tx
            .staff(id)
            .await?
            .ok_or_else(|| AppError::not_found("staff member", id))?;
        let sso_subject = tx.sso_subject_of(id).await?;
        Ok(AccountView {
            member: account.member,
            must_change_password: account.must_change_password,
            disabled_at: account.disabled_at,
            totp_enrolled_at: account.totp_enrolled_at,
            sso_subject,
        })
    }

    /// The display names of members of staff, for those who oversee access: who took
    /// emergency access, who was refused. Ids of no account are left out.
    pub async fn staff_names(
        &self,
        caller: &Caller,
        ids: &[StaffId],
    ) -> AppResult<BTreeMap<StaffId, String>> {
        self.authorize(caller, Action::OverseeAccess, Target::Organisation)
            .await?;
        let mut tx = self.register.read().await?;
        let mut names = BTreeMap::new();
        for id in ids {
            if let Some(account) = tx.staff(*id).await? {
                names.insert(*id, account.member.display_name.to_string());
            }
        }
        Ok(names)
    }

    /// The names of the people `caller` may see among `persons`; the others are left out
    /// without a refusal being recorded: nothing was asked of their records.
    pub async fn names_shown(
        &self,
        caller: &Caller,
        persons: &[PersonId],
    ) -> AppResult<BTreeMap<PersonId, PersonName>> {
        caller.ready()?;
        let mut names = BTreeMap::new();
        for person in persons {
            if self
                .allows(caller, Action::ViewPerson, Target::Person(*person))
                .await?
            {
                let mut tx = self.register.read().await?;
                if let Some(found) = tx.person(*person).await? {
                    names.insert(*person, found.name);
                }
            }
        }
        Ok(names)
    }
}
