//! Registering recordings and derived items (R1, R6); the media arrives with the vault.

use custodian_core::ids::{PersonId, RecordingId, SessionId};
use custodian_core::recording::{DerivationForm, Recording, RecordingForm};
use serde::Serialize;
use uuid::Uuid;

use crate::access::Target;
use crate::accounts::Caller;
use crate::audit_trail::Audit;
use crate::{AppError, AppResult, Custodian};
use custodian_access::Action;

/// The audit action confirming a capture device's copy was deleted (R8).
pub const DEVICE_COPY_DELETED: &str = "recording.device_copy_deleted";

/// What a recording's whole history says of its media: how often it failed an integrity check
/// (R6), and whether the capture device's copy was confirmed deleted (R8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MediaChecks {
    pub integrity_failures: u64,
    pub device_copy_deleted: bool,
}

/// A recording with the items derived from it.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecordingRecord {
    #[serde(flatten)]
    pub recording: Recording,
    pub derivatives: Vec<Recording>,
    /// The stored media, if the recording has any.
    pub media: Option<crate::media::MediaInfo>,
    /// When it comes up for disposal, what then, the rule and why (D2, D4); absent for a
    /// recording registered before retention was tracked, until the sweeper has run.
    pub disposal: Option<crate::retention::DisposalView>,
}

impl Custodian {
    /// Registers a recording made in `session`, if it belongs to one.
    #[tracing::instrument(skip(self, caller, form), fields(staff = %caller.member.id))]
    pub async fn register_recording(
        &self,
        caller: &Caller,
        form: RecordingForm,
        session: Option<SessionId>,
    ) -> AppResult<Recording> {
        for person in &form.subjects {
            self.read_person(caller, Action::MakeRecording, *person)
                .await?;
        }
        let now = self.clock.now();
        let mut tx = self.register.write().await?;
        let session = match session {
            Some(id) => Some(
                tx.session(id)
                    .await?
                    .ok_or_else(|| AppError::not_found("session", id))?,
            ),
            None => None,
        };
        for person in &form.subjects {
            tx.person(*person)
                .await?
                .ok_or_else(|| AppError::not_found("person", person))?;
        }
        let recording = Recording::new(
            RecordingId::from_uuid(Uuid::now_v7()),
            form,
            session.as_ref(),
            now,
        )?;
        tx.insert_recording(&recording, caller.member.id, now)
            .await?;
        crate::retention::on_registered(&mut tx, &recording, now).await?;
        for person in &recording.subjects {
            Audit::change("recording.registered")
                .person(*person)
                .recording(recording.id)
                .detail(
                    serde_json::json!({ "kind": recording.kind, "purposes": recording.purposes }),
                )
                .write(&mut tx, caller.actor(), now)
                .await?;
        }
        tx.commit().await?;
        Ok(recording)
    }

    /// Registers an item derived from `asked.recording`, which stays untouched (R6), made for
    /// `asked.purpose`: a use of the original's content, decided by the gate (X1).
    #[tracing::instrument(skip(self, caller, asked, form), fields(staff = %caller.member.id))]
    pub async fn register_derivative(
        &self,
        caller: &Caller,
        asked: &crate::uses::UseAsked,
        form: DerivationForm,
    ) -> AppResult<Recording> {
        let source = asked.recording;
        let use_of_source = self.authorize_derivation(caller, asked, &form).await?;
        let now = self.clock.now();
        let mut tx = self.register.write().await?;
        let original = tx
            .recording(source)
            .await?
            .ok_or_else(|| AppError::not_found("recording", source))?;
        let derived =
            Recording::derive(RecordingId::from_uuid(Uuid::now_v7()), &original, form, now)?;
        tx.insert_recording(&derived, caller.member.id, now).await?;
        crate::retention::on_registered(&mut tx, &derived, now).await?;
        Audit::change("recording.derived")
            .recording(derived.id)
            .detail(serde_json::json!({
                "source": source,
                "derivation": derived.derivation,
                "use_of_source": use_of_source,
            }))
            .write(&mut tx, caller.actor(), now)
            .await?;
        tx.commit().await?;
        Ok(derived)
    }

    /// Records the end-of-recording confirmation (R4): whether the people in it said they are
    /// happy with it. It is evidence about the recording, kept in its history.
    #[tracing::instrument(skip(self, caller), fields(staff = %caller.member.id))]
    pub async fn record_end_confirmation(
        &self,
        caller: &Caller,
        recording: RecordingId,
        happy: bool,
    ) -> AppResult<()> {
        self.recording_for(caller, Action::UpdateRecording, recording)
            .await?;
        let now = self.clock.now();
        let mut tx = self.register.write().await?;
        let found = tx
            .recording(recording)
            .await?
            .ok_or_else(|| AppError::not_found("recording", recording))?;
        for person in &found.subjects {
            Audit::change("recording.end_confirmed")
                .person(*person)
                .recording(recording)
                .detail(serde_json::json!({ "happy": happy }))
                .write(&mut tx, caller.actor(), now)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Records that the copy on the device a recording was made on has been deleted (R8), or,
    /// for a recording made in the browser, that none was ever kept there.
    #[tracing::instrument(skip(self, caller), fields(staff = %caller.member.id))]
    pub async fn confirm_device_copy_deleted(
        &self,
        caller: &Caller,
        recording: RecordingId,
        captured_in_browser: bool,
    ) -> AppResult<()> {
        self.recording_for(caller, Action::UpdateRecording, recording)
            .await?;
        let now = self.clock.now();
        let mut tx = self.register.write().await?;
        let found = tx
            .recording(recording)
            .await?
            .ok_or_else(|| AppError::not_found("recording", recording))?;
        Audit::change(DEVICE_COPY_DELETED)
            .recording(recording)
            .detail(serde_json::json!({
                "device": found.device,
                "captured_in_browser": captured_in_browser,
            }))
            .write(&mut tx, caller.actor(), now)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// What the recording's whole history says of its media.
    pub async fn media_checks(&self, caller: &Caller, id: RecordingId) -> AppResult<MediaChecks> {
        self.recording_for(caller, Action::ViewRecording, id)
            .await?;
        let mut tx = self.register.read().await?;
        let [integrity_failures, deletions] = tx
            .count_actions_about_recording(id, ["media.integrity_failed", DEVICE_COPY_DELETED])
            .await?;
        Ok(MediaChecks {
            integrity_failures,
            device_copy_deleted: deletions > 0,
        })
    }

    /// A recording with its derived items.
    pub async fn recording(&self, caller: &Caller, id: RecordingId) -> AppResult<RecordingRecord> {
        let recording = self
            .recording_for(caller, Action::ViewRecording, id)
            .await?;
        let mut tx = self.register.read().await?;
        Ok(RecordingRecord {
            derivatives: tx.derivatives_of(id).await?,
            media: self.media_info(&mut tx, id).await?,
            disposal: crate::retention::disposal_view(&mut tx, &recording).await?,
            recording,
        })
    }

    /// The recordings a person appears in, latest first.
    pub async fn recordings_of(
        &self,
        caller: &Caller,
        person: PersonId,
    ) -> AppResult<Vec<Recording>> {
        self.read_person(caller, Action::ViewPerson, person).await?;
        let recordings = {
            let mut tx = self.register.read().await?;
            tx.recordings_of(person).await?
        };
        self.visible_recordings(caller, recordings).await
    }

    /// The people in a recording the caller may see, with their names; `None` for those whose
    /// record their role does not show (communications staff see the recording, not the
    /// records). Asked without recording refusals: nothing was refused, only left out.
    pub async fn subjects_shown(
        &self,
        caller: &Caller,
        recording: &Recording,
    ) -> AppResult<Vec<(PersonId, Option<custodian_core::person::PersonName>)>> {
        let mut shown = Vec::with_capacity(recording.subjects.len());
        for person in &recording.subjects {
            let name = if self
                .allows(caller, Action::ViewPerson, Target::Person(*person))
                .await?
            {
                let mut tx = self.register.read().await?;
                tx.person(*person).await?.map(|found| found.name)
            } else {
                None
            };
            shown.push((*person, name));
        }
        Ok(shown)
    }

    /// Loads a recording after checking the caller may do `action` to it.
    pub(crate) async fn recording_for(
        &self,
        caller: &Caller,
        action: Action,
        id: RecordingId,
    ) -> AppResult<Recording> {
        caller.ready()?;
        let recording = {
            let mut tx = self.register.read().await?;
            tx.recording(id)
                .await?
                .ok_or_else(|| AppError::not_found("recording", id))?
        };
        self.authorize(caller, action, Target::Recording(&recording))
            .await?;
        Ok(recording)
    }

    /// The recordings of `recordings` the caller may see: one showing someone they are
    /// connected to is left out (S3).
    pub(crate) async fn visible_recordings(
        &self,
        caller: &Caller,
        recordings: Vec<Recording>,
    ) -> AppResult<Vec<Recording>> {
        self.visible(
            caller,
            Action::ViewRecording,
            recordings,
            |recording: &Recording| Target::Recording(recording),
        )
        .await
    }
}
