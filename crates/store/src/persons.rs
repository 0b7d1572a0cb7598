//! Persons and their representatives in the register.

use custodian_core::ids::{PersonId, RepresentativeId, StaffId};
use custodian_core::nhs_number::NhsNumber;
use custodian_core::person::{
    Capacity, LocalIdentifier, Person, PersonName, Representative, RepresentativeKind,
};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::rows::{short, short_opt, stored};
use crate::{RegisterTx, StoreError, StoreResult, on_both};

#[derive(sqlx::FromRow)]
struct PersonRow {
    id: Uuid,
    given_name: String,
    family_name: String,
    date_of_birth: Date,
    nhs_number: Option<String>,
    local_identifier: Option<String>,
    capacity: String,
}

impl TryFrom<PersonRow> for Person {
    type Error = StoreError;

    fn try_from(row: PersonRow) -> Result<Self, StoreError> {
        Ok(Person {
            id: PersonId::from_uuid(row.id),
            name: stored(
                "person name",
                PersonName::parse(&row.given_name, &row.family_name),
            )?,
            date_of_birth: row.date_of_birth,
            nhs_number: row
                .nhs_number
                .map(|n| stored("NHS number", NhsNumber::parse(&n)))
                .transpose()?,
            local_identifier: row
                .local_identifier
                .map(|l| stored("local identifier", LocalIdentifier::parse(&l)))
                .transpose()?,
            capacity: stored("capacity", Capacity::parse(&row.capacity))?,
        })
    }
}

/// How a search matched a person, best first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum PersonMatch {
    NhsNumber,
    LocalIdentifier,
    Name,
}

#[derive(sqlx::FromRow)]
struct RepresentativeRow {
    id: Uuid,
    person_id: Uuid,
    name: String,
    kind: String,
    contact: Option<String>,
}

impl TryFrom<RepresentativeRow> for Representative {
    type Error = StoreError;

    fn try_from(row: RepresentativeRow) -> Result<Self, StoreError> {
        Ok(Representative {
            id: RepresentativeId::from_uuid(row.id),
            person_id: PersonId::from_uuid(row.person_id),
            name: short("representative name", &row.name)?,
            kind: stored("representative kind", RepresentativeKind::parse(&row.kind))?,
            contact: short_opt("representative contact", row.contact.as_deref())?,
        })
    }
}

impl RegisterTx {
    /// Adds a person.
    pub async fn insert_person(
        &mut self,
        person: &Person,
        by: StaffId,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        on_both!(self, conn => sqlx::query(
            "INSERT INTO persons (id, given_name, family_name, date_of_birth, nhs_number, local_identifier, capacity, created_at, created_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(person.id.as_uuid())
        .bind(&person.name.given)
        .bind(&person.name.family)
        .bind(person.date_of_birth)
        .bind(person.nhs_number.map(|n| n.digits()))
        .bind(person.local_identifier.as_ref().map(|l| l.as_str().to_owned()))
        .bind(person.capacity.as_str())
        .bind(at)
        .bind(by.as_uuid())
        .execute(&mut **conn)
        .await?.rows_affected());
        Ok(())
    }

    /// The person with `id`.
    pub async fn person(&mut self, id: PersonId) -> StoreResult<Option<Person>> {
        let sql = "SELECT id, given_name, family_name, date_of_birth, nhs_number, local_identifier, capacity FROM persons WHERE id = $1";
        let row: Option<PersonRow> = on_both!(self, conn => sqlx::query_as(sql).bind(id.as_uuid()).fetch_optional(&mut **conn).await?);
        row.map(Person::try_from).transpose()
    }

    /// Records a new capacity decision for a person.
    pub async fn update_capacity(&mut self, id: PersonId, capacity: Capacity) -> StoreResult<bool> {
        let result = on_both!(self, conn => sqlx::query("UPDATE persons SET capacity = $1 WHERE id = $2")
            .bind(capacity.as_str())
            .bind(id.as_uuid())
            .execute(&mut **conn)
            .await?
            .rows_affected());
        Ok(result == 1)
    }

    /// Finds people by NHS number, local identifier, or the start of their family or given name
    /// (case-insensitive), best matches first: identifier matches (on the first page only, when
    /// `skip` is 0), then name matches in name order, skipping `skip` and taking up to `limit`.
    pub async fn search_persons(
        &mut self,
        query: &str,
        limit: u32,
        skip: u32,
    ) -> StoreResult<Vec<(PersonMatch, Person)>> {
        let query = query.trim();
        let mut found: Vec<(PersonMatch, Person)> = Vec::new();
        if skip > 0 {
            return self.persons_named(query, limit, skip, found).await;
        }
        if let Ok(nhs) = NhsNumber::parse(query) {
            let sql = "SELECT id, given_name, family_name, date_of_birth, nhs_number, local_identifier, capacity FROM persons WHERE nhs_number = $1";
            let rows: Vec<PersonRow> = on_both!(self, conn => sqlx::query_as(sql).bind(nhs.digits()).fetch_all(&mut **conn).await?);
            for row in rows {
                found.push((PersonMatch::NhsNumber, row.try_into()?));
            }
        }
        let sql = "SELECT id, given_name, family_name, date_of_birth, nhs_number, local_identifier, capacity FROM persons WHERE local_identifier = $1";
        let rows: Vec<PersonRow> =
            on_both!(self, conn => sqlx::query_as(sql).bind(query).fetch_all(&mut **conn).await?);
        for row in rows {
            found.push((PersonMatch::LocalIdentifier, row.try_into()?));
        }
        self.persons_named(query, limit, 0, found).await
    }

    /// `found`, then the people whose names match `query` in name order, skipping the first
    /// `skip` of them and taking at most `limit`.
    async fn persons_named(
        &mut self,
        query: &str,
        limit: u32,
        skip: u32,
        mut found: Vec<(PersonMatch, Person)>,
    ) -> StoreResult<Vec<(PersonMatch, Person)>> {
        let words: Vec<String> = query
            .split_whitespace()
            .filter(|w| {
                w.chars()
                    .all(|c| c.is_alphabetic() || c == '-' || c == '\'')
            })
            .map(|w| format!("{}%", w.to_lowercase()))
            .collect();
        if let (Some(first), last) = (words.first(), words.last()) {
            // One word: either name starts with it. Two or more: given name starts with the first
            // and family name with the last ("alex bro" finds Alex Brown).
            let (given, family) = if words.len() == 1 {
                (first, first)
            } else {
                (first, last.unwrap_or(first))
            };
            let sql = if words.len() == 1 {
                "SELECT id, given_name, family_name, date_of_birth, nhs_number, local_identifier, capacity FROM persons
                 WHERE lower(given_name) LIKE $1 OR lower(family_name) LIKE $2 ORDER BY family_name, given_name, id LIMIT $3 OFFSET $4"
            } else {
                "SELECT id, given_name, family_name, date_of_birth, nhs_number, local_identifier, capacity FROM persons
                 WHERE lower(given_name) LIKE $1 AND lower(family_name) LIKE $2 ORDER BY family_name, given_name, id LIMIT $3 OFFSET $4"
            };
            let rows: Vec<PersonRow> = on_both!(self, conn => sqlx::query_as(sql)
                .bind(given)
                .bind(family)
                .bind(i64::from(limit))
                .bind(i64::from(skip))
                .fetch_all(&mut **conn)
                .await?);
            for row in rows {
                let person = Person::try_from(row)?;
                if !found.iter().any(|(_, p)| p.id == person.id) {
                    found.push((PersonMatch::Name, person));
                }
            }
        }
        Ok(found)
    }

    /// How many people are registered.
    pub async fn count_persons(&mut self) -> StoreResult<u64> {
        let count: i64 = on_both!(self, conn => sqlx::query_scalar("SELECT count(*) FROM persons").fetch_one(&mut **conn).await?);
        Ok(u64::try_from(count).unwrap_or_default())
    }

    /// Adds a representative.
    pub async fn insert_representative(
        &mut self,
        representative: &Representative,
        by: StaffId,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        on_both!(self, conn => sqlx::query(
            "INSERT INTO representatives (id, person_id, name, kind, contact, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(representative.id.as_uuid())
        .bind(representative.person_id.as_uuid())
        .bind(representative.name.as_str())
        .bind(representative.kind.as_str())
        .bind(representative.contact.as_ref().map(|c| c.as_str().to_owned()))
        .bind(at)
        .bind(by.as_uuid())
        .execute(&mut **conn)
        .await?.rows_affected());
        Ok(())
    }

    /// The representative with `id`.
    pub async fn representative(
        &mut self,
        id: RepresentativeId,
    ) -> StoreResult<Option<Representative>> {
        let sql = "SELECT id, person_id, name, kind, contact FROM representatives WHERE id = $1";
        let row: Option<RepresentativeRow> = on_both!(self, conn => sqlx::query_as(sql).bind(id.as_uuid()).fetch_optional(&mut **conn).await?);
        row.map(Representative::try_from).transpose()
    }

    /// A person's representatives, oldest first.
    pub async fn representatives_of(
        &mut self,
        person: PersonId,
    ) -> StoreResult<Vec<Representative>> {
        let sql = "SELECT id, person_id, name, kind, contact FROM representatives WHERE person_id = $1 ORDER BY created_at, id";
        let rows: Vec<RepresentativeRow> = on_both!(self, conn => sqlx::query_as(sql).bind(person.as_uuid()).fetch_all(&mut **conn).await?);
        rows.into_iter().map(Representative::try_from).collect()
    }
}
