//! Registering persons, their capacity and their representatives.

use custodian_core::audit::AuditOutcome;
use custodian_core::ids::{PersonId, RepresentativeId};
use custodian_core::nhs_number::NhsNumber;
use custodian_core::person::{
    Capacity, LocalIdentifier, Person, PersonName, Representative, RepresentativeKind,
};
use custodian_core::text::ShortText;
use custodian_store::PersonMatch;
use serde::Serialize;
use time::Date;
use uuid::Uuid;

use crate::accounts::Caller;
use crate::audit_trail::Audit;
use crate::{AppError, AppResult, Custodian};

/// A person as entered on the registration form.
#[derive(Clone, Debug)]
pub struct PersonForm {
    pub name: PersonName,
    pub date_of_birth: Date,
    pub nhs_number: Option<NhsNumber>,
    pub local_identifier: Option<LocalIdentifier>,
    pub capacity: Capacity,
}

/// A person with the people who may act for them.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PersonRecord {
    #[serde(flatten)]
    pub person: Person,
    pub representatives: Vec<Representative>,
}

impl Custodian {
    /// Registers a person, refusing a second registration of the same NHS number or local identifier.
    #[tracing::instrument(skip_all, fields(staff = %caller.member.id))]
    pub async fn register_person(&self, caller: &Caller, form: PersonForm) -> AppResult<Person> {
        caller.ready()?;
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
                tx.search_persons(&value, 5)
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
                return Err(AppError::Conflict {
                    code: "person.already_registered",
                    message: format!(
                        "a person with this {label} is already registered (id {}); open their record instead",
                        existing.id
                    ),
                });
            }
        }
        tx.insert_person(&person, caller.member.id, now).await?;
        Audit::change("person.registered")
            .person(person.id)
            .write(&mut tx, caller.actor(), now)
            .await?;
        tx.commit().await?;
        Ok(person)
    }

    /// A person and their representatives.
    pub async fn person(&self, caller: &Caller, id: PersonId) -> AppResult<PersonRecord> {
        caller.ready()?;
        let mut tx = self.register.read().await?;
        let person = tx
            .person(id)
            .await?
            .ok_or_else(|| AppError::not_found("person", id))?;
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
        caller.ready()?;
        let mut tx = self.register.read().await?;
        let found = tx.search_persons(query, limit.clamp(1, 200)).await?;
        Ok(found.into_iter().map(|(_, person)| person).collect())
    }

    /// Records a new capacity decision for a person (C3).
    #[tracing::instrument(skip(self, caller), fields(staff = %caller.member.id))]
    pub async fn record_capacity(
        &self,
        caller: &Caller,
        id: PersonId,
        capacity: Capacity,
    ) -> AppResult<Person> {
        caller.ready()?;
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
        caller.ready()?;
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
}
