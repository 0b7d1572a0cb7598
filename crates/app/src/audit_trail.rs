//! Writing the audit trail beside each change, and verifying it (S2, X3).

use std::collections::HashMap;

use custodian_core::audit::{
    Actor, AuditEntry, AuditEvent, AuditOutcome, ChainHead, ChainVerifier,
};
use custodian_core::ids::{AuditEventId, PersonId, RecordingId, StaffId};
use custodian_store::RegisterTx;
use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::accounts::Caller;
use crate::{AppResult, Custodian};

/// What one audit event says, before it joins the chain.
pub(crate) struct Audit<'a> {
    pub action: &'a str,
    pub person: Option<PersonId>,
    pub recording: Option<RecordingId>,
    pub outcome: AuditOutcome,
    pub detail: serde_json::Value,
}

impl<'a> Audit<'a> {
    /// A change that succeeded.
    pub fn change(action: &'a str) -> Self {
        Self {
            action,
            person: None,
            recording: None,
            outcome: AuditOutcome::Succeeded,
            detail: serde_json::Value::Null,
        }
    }

    pub fn person(mut self, person: PersonId) -> Self {
        self.person = Some(person);
        self
    }

    pub fn recording(mut self, recording: RecordingId) -> Self {
        self.recording = Some(recording);
        self
    }

    pub fn outcome(mut self, outcome: AuditOutcome) -> Self {
        self.outcome = outcome;
        self
    }

    pub fn detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = detail;
        self
    }

    /// Appends the event in `tx`, so it commits or rolls back with the change it records.
    pub async fn write(
        self,
        tx: &mut RegisterTx,
        actor: Actor,
        at: OffsetDateTime,
    ) -> AppResult<AuditEvent> {
        let detail = if self.detail.is_null() {
            "{}".to_owned()
        } else {
            self.detail.to_string()
        };
        let event = tx
            .append_audit(
                AuditEventId::from_uuid(Uuid::now_v7()),
                AuditEntry {
                    at,
                    actor,
                    action: self.action.to_owned(),
                    person: self.person,
                    recording: self.recording,
                    outcome: self.outcome,
                    detail,
                },
            )
            .await?;
        Ok(event)
    }
}

/// An audit event with the name of whoever acted, as a page shows it.
#[derive(Clone, Debug)]
pub struct HistoryEntry {
    pub event: AuditEvent,
    pub by: String,
}

/// The result of verifying the whole trail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VerifiedTrail {
    /// How many events were checked.
    pub events: u64,
    /// The last event's sequence number and hash: write it down to notice later truncation.
    pub head: ChainHead,
}

/// How many events to read at a time when verifying.
const PAGE: u32 = 5_000;

impl Custodian {
    /// Verifies every event of the audit trail against its hash and its predecessor, and the
    /// last against the recorded head. Names the first bad event.
    #[tracing::instrument(skip(self))]
    pub async fn verify_audit_trail(&self) -> AppResult<VerifiedTrail> {
        let mut tx = self.register.read().await?;
        let recorded = tx.audit_head().await?;
        let mut verifier = ChainVerifier::new();
        let mut after = 0;
        let mut events = 0;
        loop {
            let page = tx.audit_events_after(after, PAGE).await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for event in &page {
                verifier.check(event)?;
                events += 1;
            }
        }
        tx.rollback().await?;
        let head = verifier.finish(recorded)?;
        Ok(VerifiedTrail { events, head })
    }

    /// Verifies the trail for a member of staff allowed to read it (auditors, the IG lead).
    pub async fn verify_audit_trail_as(&self, caller: &Caller) -> AppResult<VerifiedTrail> {
        self.authorize(
            caller,
            custodian_access::Action::ReadAuditTrail,
            crate::access::Target::Organisation,
        )
        .await?;
        self.verify_audit_trail().await
    }

    /// The latest audit events about a person, newest first.
    pub async fn audit_events_about_person(
        &self,
        caller: &Caller,
        person: PersonId,
        limit: u32,
    ) -> AppResult<Vec<AuditEvent>> {
        self.read_person(caller, custodian_access::Action::ViewPerson, person)
            .await?;
        let mut tx = self.register.read().await?;
        Ok(tx.audit_events_about_person(person, limit).await?)
    }

    /// A recording's history for its page: the latest events about it, newest first, each with
    /// the name of whoever acted.
    pub async fn recording_history(
        &self,
        caller: &Caller,
        recording: RecordingId,
        limit: u32,
    ) -> AppResult<Vec<HistoryEntry>> {
        self.recording_for(caller, custodian_access::Action::ViewRecording, recording)
            .await?;
        let mut tx = self.register.read().await?;
        let events = tx.audit_events_about_recording(recording, limit).await?;
        let mut names = HashMap::new();
        let mut history = Vec::with_capacity(events.len());
        for event in events {
            let by = actor_name(&mut tx, &mut names, event.actor).await?;
            history.push(HistoryEntry { event, by });
        }
        Ok(history)
    }

    /// The latest audit events about a recording, newest first.
    pub async fn audit_events_about_recording(
        &self,
        caller: &Caller,
        recording: RecordingId,
        limit: u32,
    ) -> AppResult<Vec<AuditEvent>> {
        self.recording_for(caller, custodian_access::Action::ViewRecording, recording)
            .await?;
        let mut tx = self.register.read().await?;
        Ok(tx.audit_events_about_recording(recording, limit).await?)
    }
}

/// Who acted, as a page names them: their name as the register holds it now (looked up once per
/// member, in `names`), or Custodian itself.
pub(crate) async fn actor_name(
    tx: &mut custodian_store::RegisterTx,
    names: &mut HashMap<StaffId, String>,
    actor: Actor,
) -> AppResult<String> {
    let Actor::Staff(id) = actor else {
        return Ok("Custodian".to_owned());
    };
    if let Some(name) = names.get(&id) {
        return Ok(name.clone());
    }
    let name = tx.staff(id).await?.map_or_else(
        || "A former member of staff".to_owned(),
        |account| account.member.display_name.to_string(),
    );
    names.insert(id, name.clone());
    Ok(name)
}
