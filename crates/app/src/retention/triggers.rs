//! Recording the events that start retention periods — end of care, death, leaving the service,
//! a deletion request, a transcript, a "no longer relevant" finding, a newer photograph — and a
//! recording's record category, each followed by recalculating the states it can change.

use custodian_access::Action;
use custodian_core::DomainError;
use custodian_core::ids::{PersonId, RecordingId};
use custodian_core::retention::{RecordCategory, Trigger};
use serde::Serialize;
use time::Date;

use crate::accounts::Caller;
use crate::audit_trail::Audit;
use crate::retention::{
    DisposalView, disposal_view, recalculate_person, recalculate_with, schedule_in_force,
};
use crate::{AppError, AppResult, Custodian};

/// An event in a person's care that starts retention periods.
#[derive(Clone, Debug)]
pub struct PersonEvent {
    /// `end_of_care`, `death`, `left_service` or `deletion_requested`.
    pub trigger: String,
    pub on: Date,
}

/// What is learnt about one recording: an event, its record category, or online publication.
#[derive(Clone, Debug, Default)]
pub struct RecordingEvent {
    /// `transcript_made`, `no_longer_relevant` or `superseded`, with its date.
    pub trigger: Option<(String, Date)>,
    /// `adult_care`, `children` or `mental_health`.
    pub record_category: Option<String>,
    /// Whether it has been published online (D10).
    pub published_online: Option<bool>,
}

/// How many recordings an event recalculated.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Recalculated {
    pub recordings: usize,
}

const PERSON_TRIGGERS: &str = "end_of_care, death, left_service, deletion_requested";
const RECORDING_TRIGGERS: &str = "transcript_made, no_longer_relevant, superseded";

fn not_here(input: &str, known: &str) -> DomainError {
    DomainError::UnknownValue {
        what: "retention trigger",
        input: input.chars().take(60).collect(),
        known: known.to_owned(),
    }
}

impl Custodian {
    /// Records an event in a person's care (D3, D4, D6) and recalculates the disposal state of
    /// that person's recordings, and no one else's.
    #[tracing::instrument(skip(self, caller, event), fields(staff = %caller.member.id))]
    pub async fn record_person_event(
        &self,
        caller: &Caller,
        person: PersonId,
        event: PersonEvent,
    ) -> AppResult<Recalculated> {
        let trigger = Trigger::parse(&event.trigger)?;
        self.read_person(caller, Action::UpdatePerson, person)
            .await?;
        let now = self.clock.now();
        let mut tx = self.register.write().await?;
        let mut facts = tx.person_retention(person).await?;
        let slot = match trigger {
            Trigger::EndOfCare => &mut facts.care_ended_on,
            Trigger::Death => &mut facts.died_on,
            Trigger::LeftService => &mut facts.left_service_on,
            Trigger::DeletionRequested => &mut facts.deletion_requested_on,
            _ => return Err(not_here(&event.trigger, PERSON_TRIGGERS).into()),
        };
        let before = slot.replace(event.on);
        tx.set_person_retention(person, &facts).await?;
        let schedule = schedule_in_force(&mut tx).await?;
        let recordings = recalculate_person(&mut tx, &schedule, person, now).await?;
        Audit::change("retention.event_recorded")
            .person(person)
            .detail(serde_json::json!({
                "trigger": trigger.as_str(), "on": event.on, "before": before, "recalculated": recordings,
            }))
            .write(&mut tx, caller.actor(), now)
            .await?;
        tx.commit().await?;
        Ok(Recalculated { recordings })
    }

    /// Records what is learnt about one recording (D1, D2, D4, D5, D8, D10) and recalculates its
    /// disposal state.
    #[tracing::instrument(skip(self, caller, event), fields(staff = %caller.member.id))]
    pub async fn record_recording_event(
        &self,
        caller: &Caller,
        id: RecordingId,
        event: RecordingEvent,
    ) -> AppResult<DisposalView> {
        let trigger = event
            .trigger
            .as_ref()
            .map(|(name, on)| Trigger::parse(name).map(|t| (t, name, *on)))
            .transpose()?;
        let category = event
            .record_category
            .as_deref()
            .map(RecordCategory::parse)
            .transpose()?;
        let recording = self
            .recording_for(caller, Action::UpdateRecording, id)
            .await?;
        let now = self.clock.now();
        let mut tx = self.register.write().await?;
        let mut facts = tx.recording_retention(id).await?;
        if let Some((trigger, name, on)) = trigger {
            let slot = match trigger {
                Trigger::TranscriptMade => &mut facts.transcript_made_on,
                Trigger::NoLongerRelevant => &mut facts.found_no_longer_relevant_on,
                Trigger::Superseded => &mut facts.superseded_on,
                _ => return Err(not_here(name, RECORDING_TRIGGERS).into()),
            };
            *slot = Some(on);
        }
        if let Some(category) = category {
            facts.record_category = Some(category.as_str().to_owned());
        }
        if let Some(published) = event.published_online {
            facts.published_online = published;
        }
        let schedule = schedule_in_force(&mut tx).await?;
        recalculate_with(&mut tx, &schedule, &recording, &facts, now).await?;
        Audit::change("retention.event_recorded")
            .recording(id)
            .detail(serde_json::json!({
                "trigger": trigger.map(|(t, _, on)| (t.as_str(), on)),
                "record_category": category.map(|c| c.as_str()),
                "published_online": event.published_online,
            }))
            .write(&mut tx, caller.actor(), now)
            .await?;
        let view = disposal_view(&mut tx, &recording)
            .await?
            .ok_or_else(|| AppError::Internal("a recalculated state was not stored".to_owned()))?;
        tx.commit().await?;
        Ok(view)
    }
}
