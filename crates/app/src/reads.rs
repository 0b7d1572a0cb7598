//! Reads of people's records written down (S2): opening a record, searching, viewing a consent
//! and downloading its copy, beside the uses of recordings the gate audits; and the
//! information-governance lead's list of who looked at a person, when and why.

use std::collections::HashMap;

use custodian_access::Action;
use custodian_core::audit::{Actor, AuditEvent};
use custodian_core::ids::{ConsentId, PersonId, StaffId, WithdrawalId};
use serde::Serialize;
use time::OffsetDateTime;

use crate::access::Target;
use crate::accounts::Caller;
use crate::audit_trail::{Audit, actor_name};
use crate::uses::{USE_GRANTED, USE_REFUSED};
use crate::{AppResult, Custodian};

/// Something of a person's the caller read.
#[derive(Clone, Copy, Debug)]
pub enum Read {
    /// Their record: the page, or `GET /persons/{id}`.
    PersonOpened(PersonId),
    /// One of their consents.
    ConsentViewed {
        consent: ConsentId,
        person: PersonId,
    },
    /// The person's copy of a consent, or of a withdrawal of it, as a PDF.
    ConsentCopyDownloaded {
        consent: ConsentId,
        person: PersonId,
        withdrawal: Option<WithdrawalId>,
    },
}

/// The events that are someone looking at a person's record or using their recordings.
const LOOKS: [&str; 7] = [
    "person.viewed",
    "consent.viewed",
    "consent.copy_downloaded",
    USE_GRANTED,
    USE_REFUSED,
    "decision.asked",
    "access.emergency_taken",
];

/// One look at a person's record, as the IG lead's list shows it.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Look {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<uuid::Uuid>))]
    pub staff_id: Option<StaffId>,
    /// Their name as the register holds it now.
    pub by: String,
    /// The audit event's action, such as `person.viewed` or `media.use_granted`.
    pub action: String,
    /// What they did, in words.
    pub what: String,
    /// The purpose named, for a use of a recording or a decision.
    pub purpose: Option<String>,
}

impl Custodian {
    /// Writes down that the caller read something of a person's (S2).
    pub async fn note_read(&self, caller: &Caller, read: Read) -> AppResult<()> {
        let now = self.clock.now();
        let (action, person, detail) = match read {
            Read::PersonOpened(person) => ("person.viewed", person, serde_json::json!({})),
            Read::ConsentViewed { consent, person } => (
                "consent.viewed",
                person,
                serde_json::json!({ "consent_id": consent }),
            ),
            Read::ConsentCopyDownloaded {
                consent,
                person,
                withdrawal,
            } => (
                "consent.copy_downloaded",
                person,
                serde_json::json!({ "consent_id": consent, "withdrawal_id": withdrawal }),
            ),
        };
        let mut tx = self.register.write().await?;
        Audit::change(action)
            .person(person)
            .detail(detail)
            .write(&mut tx, caller.actor(), now)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Who looked at `person`'s record or used their recordings, latest first, at most `limit`:
    /// for those who oversee access (the IG lead) and may see the person.
    pub async fn who_looked(
        &self,
        caller: &Caller,
        person: PersonId,
        limit: u32,
    ) -> AppResult<Vec<Look>> {
        self.authorize(caller, Action::OverseeAccess, Target::Organisation)
            .await?;
        self.read_person(caller, Action::ViewPerson, person).await?;
        let mut tx = self.register.read().await?;
        let events = tx
            .audit_events_about_person_of(person, &LOOKS, limit.clamp(1, 1000))
            .await?;
        let mut names = HashMap::new();
        let mut looks = Vec::with_capacity(events.len());
        for event in events {
            let by = actor_name(&mut tx, &mut names, event.actor).await?;
            looks.push(look(event, by));
        }
        Ok(looks)
    }
}

/// An event as a look, in words.
fn look(event: AuditEvent, by: String) -> Look {
    let staff_id = match event.actor {
        Actor::Staff(id) => Some(id),
        Actor::System => None,
    };
    let purpose = serde_json::from_str::<serde_json::Value>(&event.detail)
        .ok()
        .and_then(|detail| {
            detail
                .get("purpose")
                .and_then(|p| p.as_str())
                .map(str::to_owned)
        });
    let for_purpose = purpose
        .as_deref()
        .map(|code| format!(" for {}", purpose_words(code)))
        .unwrap_or_default();
    let what = match event.action.as_str() {
        "person.viewed" => "Opened the record".to_owned(),
        "consent.viewed" => "Viewed a consent".to_owned(),
        "consent.copy_downloaded" => "Downloaded the person's copy of a consent".to_owned(),
        USE_GRANTED => format!("Opened a recording{for_purpose}"),
        USE_REFUSED => format!("Was refused a recording{for_purpose}"),
        "decision.asked" => format!("Asked whether a recording may be used{for_purpose}"),
        "access.emergency_taken" => "Took emergency access".to_owned(),
        other => other.to_owned(),
    };
    Look {
        at: event.at,
        staff_id,
        by,
        action: event.action,
        what,
        purpose,
    }
}

/// A purpose code in words, or the code itself if it is not one Custodian knows.
fn purpose_words(code: &str) -> String {
    custodian_core::purpose::Purpose::parse(code)
        .map_or_else(|_| code.to_owned(), |purpose| purpose.label().to_owned())
}
