//! Plain-English wording for decisions: what each reason means and what would make the use allowed.

use serde::Serialize;
use time::OffsetDateTime;

use super::reason::{Effect, Reason, ReasonCode};
use super::{Decision, RecordingEvidence};
use crate::consent::Disposition;
use crate::ids::{ConsentId, PersonId, RecordingId};
use crate::purpose::Purpose;
use crate::session::SessionKind;

/// A reason in words, for the API and the decision panel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Explanation {
    /// The stable reason code, such as `consent.withdrawn`.
    pub code: &'static str,
    /// The requirement it enforces, such as `C8`.
    pub requirement: &'static str,
    /// `supports` or `blocks`.
    pub effect: &'static str,
    pub person_id: Option<PersonId>,
    pub consent_id: Option<ConsentId>,
    /// A derived copy that may be used instead.
    pub alternative: Option<RecordingId>,
    pub message: String,
    /// What would make the use allowed, for blocking reasons.
    pub remedy: Option<String>,
}

impl Decision {
    /// Words for every reason. `when` formats a moment for the reader (the UI uses Europe/London).
    pub fn explain(
        &self,
        evidence: &RecordingEvidence,
        when: &dyn Fn(OffsetDateTime) -> String,
    ) -> Vec<Explanation> {
        self.reasons
            .iter()
            .map(|reason| explain_reason(reason, self.purpose, evidence, when))
            .collect()
    }
}

/// Formats a moment in UTC, for contexts without a time zone (logs, tests, the CLI).
pub fn explain_utc(at: OffsetDateTime) -> String {
    let format = time::macros::format_description!(
        "[day padding:none] [month repr:long] [year] at [hour]:[minute] UTC"
    );
    at.format(&format).unwrap_or_else(|_| at.to_string())
}

fn explain_reason(
    reason: &Reason,
    purpose: Purpose,
    evidence: &RecordingEvidence,
    when: &dyn Fn(OffsetDateTime) -> String,
) -> Explanation {
    let name = reason
        .person
        .and_then(|id| evidence.person(id))
        .map_or_else(|| "A participant".to_owned(), |p| p.name.full());
    let since = reason.since.map(when).unwrap_or_default();
    let use_for = purpose.label();
    let recording = &evidence.recording;
    let copy = |id: RecordingId| format!("recording {id}");

    let (message, remedy) = match reason.code {
        ReasonCode::ConsentGiven => {
            let by = match reason
                .consent
                .and_then(|id| reason.person.and_then(|p| evidence.person(p)).and_then(|p| p.consents().iter().find(|c| c.id == id)))
                .map(|c| c.by_representative)
            {
                Some(true) => "through their representative, in their best interests",
                _ => "themselves",
            };
            (format!("{name} consented to {use_for} on {since} ({by})."), None)
        }
        ReasonCode::NotRequiredForMeeting => {
            let kind = evidence.session.as_ref().map_or("meeting", |s| s.session.kind.label());
            (
                format!("This is a {kind}: attendees were told on {since} that it is recorded, so the meeting record needs no consent."),
                None,
            )
        }
        ReasonCode::IdentificationExemptFromWithdrawal => (
            format!("{name} withdrew consent on {since}, but identification recordings are exempt from withdrawal and are kept with the person's file."),
            None,
        ),
        ReasonCode::ConsentMissing => (
            format!("{name} has not consented to {use_for} for this recording."),
            Some(format!("Ask {name} for consent to {use_for} (or their representative, if they lack capacity to decide).")),
        ),
        ReasonCode::ConsentMissingForPersonalMeeting => {
            let kind = evidence
                .session
                .as_ref()
                .and_then(|s| s.session.personal_meeting_kind)
                .map_or("personal meeting", |k| k.label());
            (
                format!("This is a {kind}, a personal staff meeting, and {name} has not consented to it being used for {use_for}."),
                Some(format!("Ask {name} for consent: personal staff meetings need it, unlike team meetings.")),
            )
        }
        ReasonCode::ChangeOfUse => (
            format!(
                "This recording was made for {}; using it for {use_for} is a change of use, and {name} has not consented to that.",
                recording.purposes.labels()
            ),
            Some(format!("Ask {name} for new consent to {use_for}; consent to the original purpose does not cover it.")),
        ),
        ReasonCode::ConsentRefused => (
            format!("{name} refused consent to {use_for} on {since}."),
            Some(format!(
                "Do not use it for {use_for}. Only a new decision by {name} could change this; refusing never affects their care."
            )),
        ),
        ReasonCode::ConsentWithdrawn => (
            format!("{name} withdrew consent to {use_for} on {since} and asked for {}.", disposition_words(reason.disposition)),
            Some(format!(
                "Do not use it. {} Only new consent from {name} would allow its use.",
                disposition_action(reason.disposition, &name)
            )),
        ),
        ReasonCode::FamilySessionRevoked => (
            format!(
                "{name} withdrew consent on {since}. In a family session one member's withdrawal revokes consent for the whole session, for everyone."
            ),
            Some(format!(
                "Do not use any recording of this session, including redacted copies. {} Only new consent from {name} would change this.",
                disposition_action(reason.disposition, &name)
            )),
        ),
        ReasonCode::GroupMemberWithdrawn => (
            format!("{name} withdrew consent on {since}, and this group recording still contains them."),
            Some(match reason.alternative {
                Some(id) => format!("Use the copy with {name} removed ({}).", copy(id)),
                None => format!(
                    "Make a redacted copy with everything that identifies {name} securely removed, and use that instead."
                ),
            }),
        ),
        ReasonCode::SessionNotConfirmed => (
            format!(
                "{name}'s consent covers the course of sessions, but there is no record that they were still willing for this session to be recorded."
            ),
            Some(format!(
                "Record {name}'s answer to \"are you still willing for this session to be recorded?\"; it must be asked at every session."
            )),
        ),
        ReasonCode::ConfirmedAfterRecording => (
            format!(
                "{name}'s consent covers the course of sessions. They confirmed they were still willing for this session to be recorded on {since}, after this recording started on {}, so the confirmation covers only recordings started after it.",
                when(recording.captured_at)
            ),
            Some(format!(
                "Ask {name} (or their representative, if they lack capacity) for consent to this recording itself: a consent for this recording covers it. In future sessions, ask \"are you still willing for this session to be recorded?\" at the start, before recording."
            )),
        ),
        ReasonCode::SessionNotWilling => (
            format!("On {since} {name} said they were not willing, or not sure, for this session to be recorded."),
            Some("Do not use it: uncertainty means no recording. Talk with them about their concerns before any future session.".to_owned()),
        ),
        ReasonCode::DeletionRequested => {
            let choice = evidence
                .session
                .as_ref()
                .and_then(|s| s.stops.iter().find(|stop| Some(stop.at) == reason.since))
                .map_or("a choice that deletes it", |stop| stop.choice.label());
            (
                format!("The session was stopped on {since} and the choice made was: {choice}."),
                Some("Delete this recording as agreed; it must not be used.".to_owned()),
            )
        }
        ReasonCode::AttendeesNotInformed => {
            let kind = evidence.session.as_ref().map_or(SessionKind::StaffMeeting, |s| s.session.kind);
            (
                format!("There is no record that the attendees of this {} were told it is being recorded.", kind.label()),
                Some("Record when the attendees were told the meeting is recorded (and why).".to_owned()),
            )
        }
        ReasonCode::NeedsDeIdentifiedCopy => (
            "Teaching needs a de-identified copy, with surnames, addresses and other identifying details removed; this recording is not one.".to_owned(),
            Some(match reason.alternative {
                Some(id) => format!("Use the de-identified copy ({}).", copy(id)),
                None => "Make a de-identified copy of this recording and use that; the original stays untouched.".to_owned(),
            }),
        ),
        ReasonCode::StudyNotNamed => (
            "Research use must name the approved study it is for.".to_owned(),
            Some("Give the study's ethics approval reference with the request.".to_owned()),
        ),
        ReasonCode::NoConsentForStudy => (
            format!("{name} has not consented to this study."),
            Some(format!("Ask {name} to complete the study's own consent form, which names its ethics approval reference.")),
        ),
        ReasonCode::NotYetMade => ("The recording had not been made at that time.".to_owned(), None),
        ReasonCode::Destroyed => (
            format!("The recording was destroyed on {since}; its key is gone and nothing can be read."),
            Some("Nothing can make it usable again; its destruction certificate records what it was.".to_owned()),
        ),
    };
    let effect = reason.effect();
    Explanation {
        code: reason.code.as_str(),
        requirement: reason.requirement().as_str(),
        effect: effect.as_str(),
        person_id: reason.person,
        consent_id: reason.consent,
        alternative: reason.alternative,
        message,
        remedy: if effect == Effect::Blocks {
            remedy
        } else {
            None
        },
    }
}

fn disposition_words(disposition: Option<Disposition>) -> &'static str {
    match disposition {
        Some(Disposition::Destroy) => "the recordings to be destroyed",
        Some(Disposition::HandOver) => "the recordings to be handed over to them",
        None => "no particular outcome",
    }
}

fn disposition_action(disposition: Option<Disposition>, name: &str) -> String {
    match disposition {
        Some(Disposition::Destroy) => "Destroy it, as they asked.".to_owned(),
        Some(Disposition::HandOver) => {
            format!("Hand it over to {name}, as they asked, and record the date.")
        }
        None => String::new(),
    }
}
