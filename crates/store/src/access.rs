//! The facts access decisions read (which services care for a person, personal connections,
//! emergency access) and the organisation's own access policies.

use custodian_core::audit::AuditEvent;
use custodian_core::ids::{PersonId, StaffId};
use custodian_core::text::ServiceCode;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::audit::EventRow;
use crate::rows::stored;
use crate::{RegisterTx, StoreResult, on_both};

/// What an access decision about one person needs to know, for one member of staff.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PersonAccess {
    /// The services caring for the person.
    pub services: Vec<ServiceCode>,
    /// The member of staff declared a personal connection to them (S3).
    pub connected: bool,
    /// The member of staff holds emergency access to them now.
    pub emergency: bool,
}

/// A declared personal connection (S3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonalConnection {
    pub id: Uuid,
    pub staff_id: StaffId,
    pub person_id: PersonId,
    pub kind: String,
    pub declared_at: OffsetDateTime,
}

/// A grant of emergency ("break-glass") access.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct EmergencyAccess {
    pub id: Uuid,
    pub staff_id: Uuid,
    pub person_id: Uuid,
    pub reason: String,
    /// The member of staff had declared a connection to the person.
    pub connected: bool,
    pub started_at: OffsetDateTime,
    pub ends_at: OffsetDateTime,
    pub reviewed_at: Option<OffsetDateTime>,
    pub reviewed_by: Option<Uuid>,
}

/// An organisation's own access policy as stored.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredPolicy {
    pub name: String,
    pub text: String,
    pub changed_at: OffsetDateTime,
    pub changed_by: Uuid,
}

/// A change to a local policy waiting for a second person's approval.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct PolicyProposal {
    pub name: String,
    /// The new text; none to remove the policy.
    pub text: Option<String>,
    pub proposed_at: OffsetDateTime,
    pub proposed_by: Uuid,
}

impl RegisterTx {
    /// What `staff` needs known about `person` at `now`, in one query.
    pub async fn person_access(
        &mut self,
        staff: StaffId,
        person: PersonId,
        now: OffsetDateTime,
    ) -> StoreResult<PersonAccess> {
        let rows: Vec<(String, String)> = on_both!(self, conn => sqlx::query_as(
            "SELECT 'service' AS kind, service AS value FROM person_services WHERE person_id = $1
             UNION ALL
             SELECT 'connected' AS kind, '' AS value FROM personal_connections
              WHERE person_id = $1 AND staff_id = $2
             UNION ALL
             SELECT 'emergency' AS kind, '' AS value FROM emergency_access
              WHERE person_id = $1 AND staff_id = $2 AND started_at <= $3 AND ends_at > $3",
        )
        .bind(person.as_uuid())
        .bind(staff.as_uuid())
        .bind(now)
        .fetch_all(&mut **conn)
        .await?);
        let mut access = PersonAccess::default();
        for (kind, value) in rows {
            match kind.as_str() {
                "service" => access
                    .services
                    .push(stored("service", ServiceCode::parse(&value))?),
                "connected" => access.connected = true,
                _ => access.emergency = true,
            }
        }
        Ok(access)
    }

    /// Records that `service` cares for `person`; already caring is not an error.
    pub async fn add_person_service(
        &mut self,
        person: PersonId,
        service: &ServiceCode,
        at: OffsetDateTime,
        by: StaffId,
    ) -> StoreResult<bool> {
        let added = on_both!(self, conn => sqlx::query(
            "INSERT INTO person_services (person_id, service, added_at, added_by) VALUES ($1, $2, $3, $4)
             ON CONFLICT DO NOTHING",
        )
        .bind(person.as_uuid())
        .bind(service.as_str())
        .bind(at)
        .bind(by.as_uuid())
        .execute(&mut **conn)
        .await?
        .rows_affected());
        Ok(added == 1)
    }

    /// Records a personal connection; declaring one twice keeps the first.
    pub async fn insert_connection(
        &mut self,
        connection: &PersonalConnection,
    ) -> StoreResult<bool> {
        let added = on_both!(self, conn => sqlx::query(
            "INSERT INTO personal_connections (id, staff_id, person_id, kind, declared_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT DO NOTHING",
        )
        .bind(connection.id)
        .bind(connection.staff_id.as_uuid())
        .bind(connection.person_id.as_uuid())
        .bind(&connection.kind)
        .bind(connection.declared_at)
        .execute(&mut **conn)
        .await?
        .rows_affected());
        Ok(added == 1)
    }

    /// The connections `staff` declared, newest first.
    pub async fn connections_of(&mut self, staff: StaffId) -> StoreResult<Vec<PersonalConnection>> {
        let rows: Vec<(Uuid, Uuid, Uuid, String, OffsetDateTime)> = on_both!(self, conn => sqlx::query_as(
            "SELECT id, staff_id, person_id, kind, declared_at FROM personal_connections
             WHERE staff_id = $1 ORDER BY declared_at DESC",
        )
        .bind(staff.as_uuid())
        .fetch_all(&mut **conn)
        .await?);
        Ok(rows
            .into_iter()
            .map(
                |(id, staff_id, person_id, kind, declared_at)| PersonalConnection {
                    id,
                    staff_id: StaffId::from_uuid(staff_id),
                    person_id: PersonId::from_uuid(person_id),
                    kind,
                    declared_at,
                },
            )
            .collect())
    }

    /// When `staff`'s emergency access to `person` in force at `now` ends, if they hold any.
    pub async fn emergency_access_ends(
        &mut self,
        staff: StaffId,
        person: PersonId,
        now: OffsetDateTime,
    ) -> StoreResult<Option<OffsetDateTime>> {
        let ends: Vec<(OffsetDateTime,)> = on_both!(self, conn => sqlx::query_as(
            "SELECT ends_at FROM emergency_access
             WHERE person_id = $1 AND staff_id = $2 AND started_at <= $3 AND ends_at > $3",
        )
        .bind(person.as_uuid())
        .bind(staff.as_uuid())
        .bind(now)
        .fetch_all(&mut **conn)
        .await?);
        Ok(ends.into_iter().map(|(end,)| end).max())
    }

    /// Records a grant of emergency access.
    pub async fn insert_emergency_access(&mut self, grant: &EmergencyAccess) -> StoreResult<()> {
        on_both!(self, conn => sqlx::query(
            "INSERT INTO emergency_access (id, staff_id, person_id, reason, connected, started_at, ends_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(grant.id)
        .bind(grant.staff_id)
        .bind(grant.person_id)
        .bind(&grant.reason)
        .bind(grant.connected)
        .bind(grant.started_at)
        .bind(grant.ends_at)
        .execute(&mut **conn)
        .await?
        .rows_affected());
        Ok(())
    }

    /// Emergency access the information-governance lead has not yet reviewed, oldest first.
    pub async fn emergency_access_to_review(&mut self) -> StoreResult<Vec<EmergencyAccess>> {
        Ok(on_both!(self, conn => sqlx::query_as(
            "SELECT * FROM emergency_access WHERE reviewed_at IS NULL ORDER BY started_at",
        )
        .fetch_all(&mut **conn)
        .await?))
    }

    /// Marks emergency access reviewed; false if there is no such unreviewed grant.
    pub async fn review_emergency_access(
        &mut self,
        id: Uuid,
        at: OffsetDateTime,
        by: StaffId,
    ) -> StoreResult<bool> {
        let changed = on_both!(self, conn => sqlx::query(
            "UPDATE emergency_access SET reviewed_at = $1, reviewed_by = $2 WHERE id = $3 AND reviewed_at IS NULL",
        )
        .bind(at)
        .bind(by.as_uuid())
        .bind(id)
        .execute(&mut **conn)
        .await?
        .rows_affected());
        Ok(changed == 1)
    }

    /// The organisation's own access policies, by name.
    pub async fn local_policies(&mut self) -> StoreResult<Vec<StoredPolicy>> {
        Ok(on_both!(self, conn => sqlx::query_as(
            "SELECT name, text, changed_at, changed_by FROM local_policies ORDER BY name",
        )
        .fetch_all(&mut **conn)
        .await?))
    }

    /// Adds or replaces a local policy.
    pub async fn put_local_policy(&mut self, policy: &StoredPolicy) -> StoreResult<()> {
        on_both!(self, conn => sqlx::query(
            "INSERT INTO local_policies (name, text, changed_at, changed_by) VALUES ($1, $2, $3, $4)
             ON CONFLICT (name) DO UPDATE SET text = excluded.text, changed_at = excluded.changed_at, changed_by = excluded.changed_by",
        )
        .bind(&policy.name)
        .bind(&policy.text)
        .bind(policy.changed_at)
        .bind(policy.changed_by)
        .execute(&mut **conn)
        .await?
        .rows_affected());
        Ok(())
    }

    /// Removes a local policy; false if there was none by that name.
    pub async fn delete_local_policy(&mut self, name: &str) -> StoreResult<bool> {
        let removed = on_both!(self, conn => sqlx::query("DELETE FROM local_policies WHERE name = $1")
            .bind(name)
            .execute(&mut **conn)
            .await?
            .rows_affected());
        Ok(removed == 1)
    }

    /// Changes to local policies waiting for approval, by name.
    pub async fn policy_proposals(&mut self) -> StoreResult<Vec<PolicyProposal>> {
        Ok(on_both!(self, conn => sqlx::query_as(
            "SELECT name, text, proposed_at, proposed_by FROM policy_proposals ORDER BY name",
        )
        .fetch_all(&mut **conn)
        .await?))
    }

    /// The change waiting for approval to the local policy `name`, if any.
    pub async fn policy_proposal(&mut self, name: &str) -> StoreResult<Option<PolicyProposal>> {
        Ok(on_both!(self, conn => sqlx::query_as(
            "SELECT name, text, proposed_at, proposed_by FROM policy_proposals WHERE name = $1",
        )
        .bind(name)
        .fetch_optional(&mut **conn)
        .await?))
    }

    /// Proposes a change to a local policy, replacing any waiting for the same name.
    pub async fn put_policy_proposal(&mut self, proposal: &PolicyProposal) -> StoreResult<()> {
        on_both!(self, conn => sqlx::query(
            "INSERT INTO policy_proposals (name, text, proposed_at, proposed_by) VALUES ($1, $2, $3, $4)
             ON CONFLICT (name) DO UPDATE SET text = excluded.text, proposed_at = excluded.proposed_at, proposed_by = excluded.proposed_by",
        )
        .bind(&proposal.name)
        .bind(&proposal.text)
        .bind(proposal.proposed_at)
        .bind(proposal.proposed_by)
        .execute(&mut **conn)
        .await?
        .rows_affected());
        Ok(())
    }

    /// Forgets the proposal for `name`; false if there was none.
    pub async fn delete_policy_proposal(&mut self, name: &str) -> StoreResult<bool> {
        let removed = on_both!(self, conn => sqlx::query("DELETE FROM policy_proposals WHERE name = $1")
            .bind(name)
            .execute(&mut **conn)
            .await?
            .rows_affected());
        Ok(removed == 1)
    }

    /// Refused attempts recorded since `since`, oldest first, at most `limit`.
    pub async fn refusals_since(
        &mut self,
        since: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<AuditEvent>> {
        let rows: Vec<EventRow> = on_both!(self, conn => sqlx::query_as(
            "SELECT * FROM audit_events WHERE action = 'access.refused' AND at >= $1 ORDER BY at LIMIT $2",
        )
        .bind(since)
        .bind(i64::from(limit))
        .fetch_all(&mut **conn)
        .await?);
        rows.into_iter().map(AuditEvent::try_from).collect()
    }
}
