//! Personal connections and emergency access (S3) and the report of refused attempts (S5).

use std::collections::BTreeMap;

use custodian_access::Action;
use custodian_core::audit::AuditEvent;
use custodian_core::ids::PersonId;
use custodian_core::staff::ConnectionKind;
use custodian_core::text::Note;
use custodian_store::{EmergencyAccess, PersonalConnection};
use serde::Serialize;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::access::Target;
use crate::accounts::Caller;
use crate::audit_trail::Audit;
use crate::error_code::ErrorCode;
use crate::uses::{GrantsResting, revoke_grants};
use crate::{AppError, AppResult, Custodian};

/// How long emergency access lasts once taken.
pub const EMERGENCY_ACCESS_LASTS: Duration = Duration::hours(1);

/// The shortest reason accepted for emergency access: a few words, not a letter.
const EMERGENCY_REASON_MIN: usize = 10;

/// Refused attempts, counted three ways for the information-governance lead (S5).
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefusalReport {
    #[serde(with = "time::serde::rfc3339")]
    pub since: OffsetDateTime,
    pub total: u64,
    /// Person id → refusals concerning them.
    pub by_person: BTreeMap<String, u64>,
    /// Staff id → refusals of what they tried.
    pub by_staff: BTreeMap<String, u64>,
    /// Rule (requirement and policy, such as `S3 S3.personal-connection`) → refusals.
    pub by_rule: BTreeMap<String, u64>,
    /// The latest refusals, newest first (at most 50).
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub latest: Vec<AuditEvent>,
}

/// The most refusals one report reads.
const REPORT_LIMIT: u32 = 100_000;

impl Custodian {
    /// Declares the caller's personal connection to a person (S3). From then on they are refused
    /// that person everywhere; declaring twice keeps the first.
    #[tracing::instrument(skip(self, caller), fields(staff = %caller.member.id))]
    pub async fn declare_connection(
        &self,
        caller: &Caller,
        person: PersonId,
        kind: ConnectionKind,
    ) -> AppResult<()> {
        self.authorize(caller, Action::DeclareConnection, Target::Organisation)
            .await?;
        let now = self.clock.now();
        let mut tx = self.register.write().await?;
        tx.person(person)
            .await?
            .ok_or_else(|| AppError::not_found("person", person))?;
        let added = tx
            .insert_connection(&PersonalConnection {
                id: Uuid::now_v7(),
                staff_id: caller.member.id,
                person_id: person,
                kind: kind.as_str().to_owned(),
                declared_at: now,
            })
            .await?;
        if added {
            revoke_grants(
                &mut tx,
                GrantsResting::HeldByOn(caller.member.id, person),
                now,
                "a personal connection was declared",
            )
            .await?;
            Audit::change("access.connection_declared")
                .person(person)
                .detail(serde_json::json!({ "kind": kind }))
                .write(&mut tx, caller.actor(), now)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The connections the caller declared.
    pub async fn my_connections(&self, caller: &Caller) -> AppResult<Vec<PersonalConnection>> {
        caller.ready()?;
        let mut tx = self.register.read().await?;
        Ok(tx.connections_of(caller.member.id).await?)
    }

    /// Takes emergency ("break-glass") access to a person's record where a policy allows it
    /// (S3): it needs a written reason, lasts [`EMERGENCY_ACCESS_LASTS`], and waits for the
    /// information-governance lead's review.
    #[tracing::instrument(skip(self, caller, reason), fields(staff = %caller.member.id))]
    pub async fn take_emergency_access(
        &self,
        caller: &Caller,
        person: PersonId,
        reason: Note,
    ) -> AppResult<EmergencyAccess> {
        if reason.as_str().chars().count() < EMERGENCY_REASON_MIN {
            return Err(AppError::Rule {
                code: ErrorCode::AccessReasonRequired,
                message: format!(
                    "say in at least {EMERGENCY_REASON_MIN} characters why you need emergency access: the information-governance lead reads it"
                ),
            });
        }
        let now = self.clock.now();
        let access = {
            let mut tx = self.register.read().await?;
            tx.person(person)
                .await?
                .ok_or_else(|| AppError::not_found("person", person))?;
            tx.person_access(caller.member.id, person, now).await?
        };
        self.authorize(caller, Action::BreakGlass, Target::Person(person))
            .await?;
        let grant = EmergencyAccess {
            id: Uuid::now_v7(),
            staff_id: caller.member.id.as_uuid(),
            person_id: person.as_uuid(),
            reason: reason.as_str().to_owned(),
            connected: access.connected,
            started_at: now,
            ends_at: now + EMERGENCY_ACCESS_LASTS,
            reviewed_at: None,
            reviewed_by: None,
        };
        let mut tx = self.register.write().await?;
        tx.insert_emergency_access(&grant).await?;
        Audit::change("access.emergency_taken")
            .person(person)
            .detail(serde_json::json!({
                "grant_id": grant.id,
                "reason": grant.reason,
                "connected": grant.connected,
                "ends_at": grant.ends_at,
            }))
            .write(&mut tx, caller.actor(), now)
            .await?;
        tx.commit().await?;
        tracing::warn!(person = %person, connected = grant.connected, "emergency access taken");
        Ok(grant)
    }

    /// Emergency access waiting for the information-governance lead's review.
    pub async fn emergency_access_to_review(
        &self,
        caller: &Caller,
    ) -> AppResult<Vec<EmergencyAccess>> {
        self.authorize(caller, Action::OverseeAccess, Target::Organisation)
            .await?;
        let mut tx = self.register.read().await?;
        Ok(tx.emergency_access_to_review().await?)
    }

    /// Marks emergency access as reviewed by the information-governance lead.
    pub async fn review_emergency_access(&self, caller: &Caller, id: Uuid) -> AppResult<()> {
        self.authorize(caller, Action::OverseeAccess, Target::Organisation)
            .await?;
        let now = self.clock.now();
        let mut tx = self.register.write().await?;
        if !tx
            .review_emergency_access(id, now, caller.member.id)
            .await?
        {
            return Err(AppError::not_found("unreviewed emergency access", id));
        }
        Audit::change("access.emergency_reviewed")
            .detail(serde_json::json!({ "grant_id": id }))
            .write(&mut tx, caller.actor(), now)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Refused attempts since `since`, by person, member of staff and rule (S5).
    pub async fn refusal_report(
        &self,
        caller: &Caller,
        since: OffsetDateTime,
    ) -> AppResult<RefusalReport> {
        self.authorize(caller, Action::OverseeAccess, Target::Organisation)
            .await?;
        let mut tx = self.register.read().await?;
        let events = tx.refusals_since(since, REPORT_LIMIT).await?;
        let mut report = RefusalReport {
            since,
            total: 0,
            by_person: BTreeMap::new(),
            by_staff: BTreeMap::new(),
            by_rule: BTreeMap::new(),
            latest: Vec::new(),
        };
        for event in &events {
            report.total += 1;
            let detail: serde_json::Value = serde_json::from_str(&event.detail).unwrap_or_default();
            if let Some(persons) = detail.get("persons").and_then(|p| p.as_array()) {
                for person in persons.iter().filter_map(|p| p.as_str()) {
                    *report.by_person.entry(person.to_owned()).or_default() += 1;
                }
            }
            if let custodian_core::audit::Actor::Staff(staff) = event.actor {
                *report.by_staff.entry(staff.to_string()).or_default() += 1;
            }
            let rule = format!(
                "{} {}",
                detail
                    .get("requirement")
                    .and_then(|r| r.as_str())
                    .unwrap_or("S2"),
                detail
                    .get("policy")
                    .and_then(|p| p.as_str())
                    .unwrap_or("no policy allows it"),
            );
            *report.by_rule.entry(rule).or_default() += 1;
        }
        report.latest = events.into_iter().rev().take(50).collect();
        Ok(report)
    }
}
