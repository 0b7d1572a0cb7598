//! Registering persons, their capacity and their representatives.

use custodian_access::Action;
use custodian_core::audit::AuditOutcome;
use custodian_core::ids::{PersonId, RepresentativeId};
use custodian_core::nhs_number::NhsNumber;
use custodian_core::person::{
    Capacity, LocalIdentifier, Person, PersonName, Representative, RepresentativeKind,
};
use custodian_core::text::{ServiceCode, ShortText};
use custodian_store::PersonMatch;
use serde::Serialize;
use time::Date;
use uuid::Uuid;

use crate::access::Target;
use crate::accounts::Caller;
use crate::audit_trail::Audit;
use crate::error_code::ErrorCode;
use crate::{AppError, AppResult, Custodian};

/// A person as entered on the registration form.
#[derive(Clone, Debug)]
pub struct PersonForm {
    pub name: PersonName,
    pub date_of_birth: Date,
    pub nhs_number: Option<NhsNumber>,
    pub local_identifier: Option<LocalIdentifier>,
    pub capacity: Capacity,
    /// The service that will care for them; `None` means the registering member's only service.
    pub service: Option<ServiceCode>,
}

/// A person with the people who may act for them.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PersonRecord {
    #[serde(flatten)]
    pub person: Person,
    pub representatives: Vec<Representative>,
}

/// Name matches read at a time when searching, before access leaves out those the caller may
/// not see.
const SEARCH_PAGE: u32 = 200;

/// Name matches read at most for one search: a query as broad as "a" must not read the whole
/// register of a large organisation.
const SEARCH_SCANS_AT_MOST: u32 = 5_000;

impl Custodian {
    /// Registers a person, refusing a second registration of the same NHS number or local identifier.
    #[tracing::instrument(skip_all, fields(staff = %caller.member.id))]
    pub async fn register_person(&self, caller: &Caller, form: PersonForm) -> AppResult<Person> {
        self.authorize(caller, Action::RegisterPerson, Target::Organisation)
            .await?;
        let service = caring_service(caller, form.service)?;
        let now = self.clock.now();
        let person = Person::new(
            PersonId::from_uuid(Uuid::now_v7()),
            form.name,
            form.date_of_birth,
            form.nhs_number,
            form.local_identifier,
            form.capacity,
            now.date(),
        )?;
        let mut tx = self.register.write().await?;
        let identifiers = [
            person.nhs_number.map(|n| ("NHS number", n.digits())),
            person
                .local_identifier
                .as_ref()
                .map(|l| ("local identifier", l.as_str().to_owned())),
        ];
        for (label, value) in identifiers.into_iter().flatten() {
            let clash =
                tx.search_persons(&value, 5, 0)
                    .await?
                    .into_iter()
                    .find(|(matched, existing)| match matched {
                        PersonMatch::NhsNumber => {
                            existing.nhs_number.map(|n| n.digits()).as_deref()
                                == Some(value.as_str())
                        }
                        PersonMatch::LocalIdentifier => {
                            existing
                                .local_identifier
                                .as_ref()
                                .map(LocalIdentifier::as_str)
                                == Some(value.as_str())
                        }
                        PersonMatch::Name => false,
                    });
            if let Some((_, existing)) = clash {
                drop(tx);
                return Err(self
                    .already_registered(caller, label, existing.id, now)
                    .await?);
            }
        }
        tx.insert_person(&person, caller.member.id, now).await?;
        tx.add_person_service(person.id, &service, now, caller.member.id)
            .await?;
        Audit::change("person.registered")
            .detail(serde_json::json!({ "service": service }))
            .person(person.id)
            .write(&mut tx, caller.actor(), now)
            .await?;
        tx.commit().await?;
        Ok(person)
    }

    /// The refusal of a second registration of `existing`. Its id opens a record only to those
    /// who may see it: to anyone else it would say who is cared for where, and name the record to
    /// take emergency access to, so they are told less and the attempt is audited.
    async fn already_registered(
        &self,
        caller: &Caller,
        label: &str,
        existing: PersonId,
        now: time::OffsetDateTime,
    ) -> AppResult<AppError> {
        if self
            .allows(caller, Action::ViewPerson, Target::Person(existing))
            .await?
        {
            return Ok(AppError::Rule {
                code: ErrorCode::PersonAlreadyRegistered,
                message: format!(
                    "a person with this {label} is already registered (id {existing}); open their record instead"
                ),
            });
        }
        let mut tx = self.register.write().await?;
        Audit::change("person.registration_refused")
            .person(existing)
            .outcome(AuditOutcome::Refused)
            .detail(serde_json::json!({
                "identifier": label,
                "reason": "already registered in a service the member does not work in",
            }))
            .write(&mut tx, caller.actor(), now)
            .await?;
        tx.commit().await?;
        Ok(AppError::Rule {
            code: ErrorCode::PersonRegisteredElsewhere,
            message: format!(
                "a person with this {label} is already registered in a service you do not work in; ask your team manager to have them added to your service, or the information-governance lead if you think the {label} is wrong"
            ),
        })
    }

    /// A person and their representatives.
    pub async fn person(&self, caller: &Caller, id: PersonId) -> AppResult<PersonRecord> {
        self.person_to(caller, Action::ViewPerson, id).await
    }

    /// A person and their representatives, for a page that offers `action` on them: refused
    /// unless the caller may do it, so no one is shown a form they may not send.
    pub async fn person_to(
        &self,
        caller: &Caller,
        action: Action,
        id: PersonId,
    ) -> AppResult<PersonRecord> {
        let person = self.read_person(caller, action, id).await?;
        let mut tx = self.register.read().await?;
        let representatives = tx.representatives_of(id).await?;
        Ok(PersonRecord {
            person,
            representatives,
        })
    }

    /// People found by NHS number, local identifier or name, best matches first.
    pub async fn find_persons(
        &self,
        caller: &Caller,
        query: &str,
        limit: u32,
    ) -> AppResult<Vec<Person>> {
        self.authorize(caller, Action::FindPersons, Target::Organisation)
            .await?;
        // Access is asked of each person found, so the limit is applied to those the caller may
        // see, page after page, rather than to the matches (which may all be other teams').
        let wanted = usize::try_from(limit.clamp(1, 200)).unwrap_or(200);
        let mut visible: Vec<Person> = Vec::with_capacity(wanted);
        let mut skip = 0;
        while visible.len() < wanted && skip < SEARCH_SCANS_AT_MOST {
            let found = {
                let mut tx = self.register.read().await?;
                tx.search_persons(query, SEARCH_PAGE, skip).await?
            };
            let names_read = found
                .iter()
                .filter(|(matched, _)| *matched == PersonMatch::Name)
                .count();
            // Only people the caller may see: a personal connection hides someone entirely (S3).
            let found: Vec<Person> = found
                .into_iter()
                .map(|(_, person)| person)
                .filter(|person| visible.iter().all(|seen| seen.id != person.id))
                .collect();
            visible.extend(
                self.visible(caller, Action::ViewPerson, found, |person: &Person| {
                    Target::Person(person.id)
                })
                .await?,
            );
            if names_read < SEARCH_PAGE as usize {
                break;
            }
            skip += SEARCH_PAGE;
        }
        visible.truncate(wanted);
        // A search is a read of whoever it finds (S2): the words asked, and how many came back.
        let query: String = query.chars().take(200).collect();
        let mut tx = self.register.write().await?;
        Audit::change("persons.searched")
            .detail(serde_json::json!({ "query": query, "found": visible.len() }))
            .write(&mut tx, caller.actor(), self.clock.now())
            .await?;
        tx.commit().await?;
        Ok(visible)
    }

    /// Records a new capacity decision for a person (C3).
    #[tracing::instrument(skip(self, caller), fields(staff = %caller.member.id))]
    pub async fn record_capacity(
        &self,
        caller: &Caller,
        id: PersonId,
        capacity: Capacity,
    ) -> AppResult<Person> {
        self.read_person(caller, Action::UpdatePerson, id).await?;
        let now = self.clock.now();
        let mut tx = self.register.write().await?;
        let mut person = tx
            .person(id)
            .await?
            .ok_or_else(|| AppError::not_found("person", id))?;
        let before = person.capacity;
        tx.update_capacity(id, capacity).await?;
        person.capacity = capacity;
        Audit::change("person.capacity_recorded")
            .person(id)
            .outcome(AuditOutcome::Succeeded)
            .detail(serde_json::json!({ "from": before, "to": capacity }))
            .write(&mut tx, caller.actor(), now)
            .await?;
        tx.commit().await?;
        Ok(person)
    }

    /// Adds someone who may act for a person (C3).
    #[tracing::instrument(skip(self, caller, name, contact), fields(staff = %caller.member.id))]
    pub async fn add_representative(
        &self,
        caller: &Caller,
        person: PersonId,
        name: ShortText,
        kind: RepresentativeKind,
        contact: Option<ShortText>,
    ) -> AppResult<Representative> {
        self.read_person(caller, Action::UpdatePerson, person)
            .await?;
        let now = self.clock.now();
        let representative = Representative {
            id: RepresentativeId::from_uuid(Uuid::now_v7()),
            person_id: person,
            name,
            kind,
            contact,
        };
        let mut tx = self.register.write().await?;
        tx.person(person)
            .await?
            .ok_or_else(|| AppError::not_found("person", person))?;
        tx.insert_representative(&representative, caller.member.id, now)
            .await?;
        Audit::change("representative.added")
            .person(person)
            .detail(serde_json::json!({ "representative_id": representative.id, "kind": kind }))
            .write(&mut tx, caller.actor(), now)
            .await?;
        tx.commit().await?;
        Ok(representative)
    }

    /// Loads a person after checking the caller may do `action` to them: a person who does not
    /// exist is "not found" before access is asked, so a refusal always names a real person.
    pub(crate) async fn read_person(
        &self,
        caller: &Caller,
        action: Action,
        id: PersonId,
    ) -> AppResult<Person> {
        caller.ready()?;
        let person = {
            let mut tx = self.register.read().await?;
            tx.person(id)
                .await?
                .ok_or_else(|| AppError::not_found("person", id))?
        };
        self.authorize(caller, action, Target::Person(id)).await?;
        Ok(person)
    }

    /// Adds a person to another service's caseload, so that service's staff see them (S2).
    #[tracing::instrument(skip(self, caller), fields(staff = %caller.member.id))]
    pub async fn assign_service(
        &self,
        caller: &Caller,
        person: PersonId,
        service: ServiceCode,
    ) -> AppResult<()> {
        self.read_person(caller, Action::AssignService, person)
            .await?;
        let now = self.clock.now();
        let mut tx = self.register.write().await?;
        if tx
            .add_person_service(person, &service, now, caller.member.id)
            .await?
        {
            Audit::change("person.service_assigned")
                .person(person)
                .detail(serde_json::json!({ "service": service }))
                .write(&mut tx, caller.actor(), now)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// The service a new registration joins: the one named, which must be the registering member's
/// own, or their only one.
fn caring_service(caller: &Caller, named: Option<ServiceCode>) -> AppResult<ServiceCode> {
    let own = &caller.member.services;
    match named {
        Some(service) if own.contains(&service) => Ok(service),
        Some(service) => Err(AppError::Rule {
            code: ErrorCode::PersonNotYourService,
            message: format!(
                "you can register people only into your own services ({}), not {service}; ask a team manager of {service} to add them",
                own.iter().map(ServiceCode::as_str).collect::<Vec<_>>().join(", ")
            ),
        }),
        None => match own.as_slice() {
            [only] => Ok(only.clone()),
            [] => Err(AppError::Rule {
                code: ErrorCode::PersonNoService,
                message: "you work in no service, so a person you register would be cared for by no one; ask an administrator to add you to your service".to_owned(),
            }),
            _ => Err(AppError::Rule {
                code: ErrorCode::PersonServiceRequired,
                message: format!(
                    "you work in several services ({}): say which one will care for this person",
                    own.iter().map(ServiceCode::as_str).collect::<Vec<_>>().join(", ")
                ),
            }),
        },
    }
}
