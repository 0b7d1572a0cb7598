//! The recording page: what it is, who is in it, playback, history, and "Can I use this for …?" (X1).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use custodian_app::london::london_time;
use custodian_app::recordings::DEVICE_COPY_DELETED;
use custodian_app::uses::{GRANT_REFUSED, USE_GRANTED, USE_REFUSED, UseAsked};
use custodian_app::{AppError, HistoryEntry};
use custodian_core::consent::EthicsReference;
use custodian_core::decision::Outcome;
use custodian_core::ids::RecordingId;
use custodian_core::purpose::Purpose;
use custodian_core::recording::{Recording, RecordingKind};
use custodian_core::retention::PhysicalMedium;
use custodian_core::staff::Role;
use serde::Deserialize;

use super::signed_in::SignedIn;
use super::{FieldError, FormErrors, form_errors, render};
use crate::AppState;
use crate::extract::Path;
use crate::pages::PageResult;
use crate::pages::checked::{Checked, NoFields};

/// How many events of its history the page shows.
const HISTORY: u32 = 50;

/// The questions asked of the page, if any: what to check the use of (the decision panel) and
/// what to open it for (the player).
#[derive(Deserialize, Default)]
pub struct Question {
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    study: String,
    /// The purpose to open the recording for: the player loads only once it is chosen (X1).
    #[serde(default)]
    open: String,
}

/// The player: what the viewer may open it for, and, once asked, the content or the refusal.
pub struct Player {
    /// The purposes the viewer's role may open it for, as (code, label), its own first.
    offered: Vec<(&'static str, String)>,
    /// The purpose chosen, or offered as the obvious one.
    chosen: String,
    /// The content's address under the grant the gate issued, once opened.
    src: Option<String>,
    /// What it was opened for, in words.
    opened_for: String,
    /// Why it may not be opened for the purpose chosen.
    refusal: Option<Answer>,
}

/// The decision panel's answer in words.
pub struct Answer {
    allowed: bool,
    headline: String,
    reasons: Vec<AnswerReason>,
}

pub struct AnswerReason {
    blocks: bool,
    requirement: String,
    message: String,
    remedy: Option<String>,
    alternative: Option<String>,
}

/// A line of the recording's history.
pub struct HistoryLine {
    when: String,
    what: String,
    by: String,
    refused: bool,
}

#[derive(Template)]
#[template(path = "recording.html")]
struct RecordingPage {
    title: String,
    signed_in_as: Option<super::signed_in::Who>,
    errors: Vec<FieldError>,
    id: String,
    kind: RecordingKind,
    facts: Vec<(&'static str, String)>,
    session_id: Option<String>,
    /// Each person in it: the link to their record, if the viewer may see it, and a name.
    subjects: Vec<(Option<String>, String)>,
    purposes: Vec<String>,
    derived_from: Option<String>,
    derivatives: Vec<(String, String)>,
    media: Option<MediaFacts>,
    player: Player,
    disposal: Option<DisposalFacts>,
    /// The physical media it is on, each in a sentence (D9).
    physical_media: Vec<String>,
    /// Whether the viewer may place a legal hold on it (D7), from this page.
    may_place_hold: bool,
    history: Vec<HistoryLine>,
    /// Whether anyone has confirmed the capture device's copy is gone (R8), and that device.
    device_copy_deleted: bool,
    device: String,
    choices: Vec<(&'static str, String)>,
    question: Question,
    answer: Option<Answer>,
}

form_errors!(RecordingPage);

/// When the recording comes up for disposal, what then, and why (D2, D4), and what holds it (D7).
pub struct DisposalFacts {
    due: String,
    action: String,
    rule: String,
    reason: String,
    held_by: Vec<String>,
}

/// The stored original and its integrity (R6).
pub struct MediaFacts {
    content_type: String,
    size: String,
    sha256: String,
    stored_at: String,
    destroyed: bool,
    integrity_failures: u64,
}

pub async fn show(
    State(state): State<AppState>,
    staff: SignedIn,
    Path(id): Path<RecordingId>,
    Query(question): Query<Question>,
) -> PageResult {
    let custodian = &state.custodian;
    let record = custodian.recording(&staff.caller, id).await?;
    let mut errors = Vec::new();
    let answer = match ask(&state, &staff, id, &question).await {
        Ok(answer) => answer,
        Err(Asked::Invalid(error)) => {
            errors.push(error);
            None
        }
        Err(Asked::Failed(error)) => return Err(error.into()),
    };
    // Read after asking, so the question just asked shows in the history.
    let history = custodian
        .recording_history(&staff.caller, id, HISTORY)
        .await?;
    let checks = custodian.media_checks(&staff.caller, id).await?;
    let physical_media = match custodian.physical_media_of(&staff.caller, id).await {
        Ok(media) => media.iter().map(medium_words).collect(),
        Err(error) => return Err(error.into()),
    };
    let subjects = match custodian
        .subjects_shown(&staff.caller, &record.recording)
        .await
    {
        Ok(shown) => shown
            .into_iter()
            .map(|(person, name)| match name {
                Some(name) => (Some(person.to_string()), name.full()),
                None => (
                    None,
                    "a person whose record your role does not show".to_owned(),
                ),
            })
            .collect(),
        Err(error) => return Err(error.into()),
    };
    let player = match open(&state, &staff, &record, &question).await {
        Ok(player) => player,
        Err(Asked::Invalid(error)) => {
            errors.push(error);
            match open(&state, &staff, &record, &Question::default()).await {
                Ok(player) => player,
                Err(Asked::Invalid(_)) => Player::closed(),
                Err(Asked::Failed(error)) => return Err(error.into()),
            }
        }
        Err(Asked::Failed(error)) => return Err(error.into()),
    };
    let may_place_hold = custodian
        .offers_to_organisation(&staff.caller, custodian_access::Action::PlaceLegalHold)
        .await?;
    let recording = &record.recording;
    let page = RecordingPage {
        title: format!(
            "{} made {}",
            super::sentence(recording.kind.label()),
            london_time(recording.made_at)
        ),
        signed_in_as: Some(staff.who()),
        errors,
        id: recording.id.to_string(),
        kind: recording.kind,
        facts: facts(recording),
        session_id: recording.session_id.map(|s| s.to_string()),
        subjects,
        purposes: recording
            .purposes
            .iter()
            .map(|p| super::sentence(p.label()))
            .collect(),
        derived_from: recording.derivation.as_ref().map(|d| d.source.to_string()),
        derivatives: record
            .derivatives
            .iter()
            .map(|d| (d.id.to_string(), derivative_words(d)))
            .collect(),
        media: record.media.as_ref().map(|media| MediaFacts {
            content_type: media.content_type.clone(),
            size: custodian_core::text::human_size(media.size),
            sha256: media.sha256.clone(),
            stored_at: london_time(media.stored_at),
            destroyed: media.destroyed,
            integrity_failures: checks.integrity_failures,
        }),
        player,
        disposal: record.disposal.as_ref().map(|d| DisposalFacts {
            due: d.due_on.map_or_else(
                || "Not yet: it waits for an event".to_owned(),
                |due| due.to_string(),
            ),
            action: super::sentence(&d.action.replace('_', " ")),
            rule: d.rule.clone().unwrap_or_else(|| "none".to_owned()),
            reason: d.reason.clone(),
            held_by: d
                .held_by
                .iter()
                .map(|h| format!("{} {}", super::sentence(h.kind.label()), h.reference))
                .collect(),
        }),
        physical_media,
        may_place_hold,
        history: history.iter().map(history_line).collect(),
        device: recording.device.to_string(),
        device_copy_deleted: checks.device_copy_deleted,
        choices: Purpose::ALL
            .iter()
            .map(|p| (p.as_str(), super::sentence(p.label())))
            .collect(),
        question,
        answer,
    };
    Ok(render(StatusCode::OK, &page))
}

enum Asked {
    Invalid(FieldError),
    Failed(AppError),
}

impl Player {
    /// A player offering nothing: no media, or destroyed.
    fn closed() -> Self {
        Self {
            offered: Vec::new(),
            chosen: String::new(),
            src: None,
            opened_for: String::new(),
            refusal: None,
        }
    }
}

/// What the player offers and, if a purpose was chosen, opens: through the gate, which decides
/// access and consent for that purpose and audits it (X1). Nothing loads before a purpose is
/// chosen; clinical or therapeutic use is offered as the obvious choice only to the recording's
/// own care team when it was made for that.
async fn open(
    state: &AppState,
    staff: &SignedIn,
    record: &custodian_app::recordings::RecordingRecord,
    question: &Question,
) -> Result<Player, Asked> {
    let recording = &record.recording;
    if record.media.as_ref().is_none_or(|media| media.destroyed) {
        return Ok(Player::closed());
    }
    let offered = state
        .custodian
        .purposes_to_open(&staff.caller, recording)
        .await
        .map_err(Asked::Failed)?;
    let member = &staff.caller.member;
    let obvious = (member.has_role(Role::Practitioner) || member.has_role(Role::TeamManager))
        && member.services.contains(&recording.service)
        && recording.purposes.contains(Purpose::Clinical)
        && offered.contains(&Purpose::Clinical);
    let mut player = Player {
        offered: offered
            .iter()
            .map(|p| (p.as_str(), super::sentence(p.label())))
            .collect(),
        chosen: if obvious {
            Purpose::Clinical.as_str().to_owned()
        } else {
            String::new()
        },
        src: None,
        opened_for: String::new(),
        refusal: None,
    };
    if question.open.is_empty() {
        return Ok(player);
    }
    let purpose = Purpose::parse(&question.open)
        .ok()
        .filter(|p| offered.contains(p))
        .ok_or_else(|| {
            Asked::Invalid(FieldError::new(
                "open",
                "Choose what you are opening it for from the list",
            ))
        })?;
    player.chosen = purpose.as_str().to_owned();
    let study = study_of(question)?;
    let asked = UseAsked {
        recording: recording.id,
        purpose,
        study: study.clone(),
    };
    match state.custodian.authorize_use(&staff.caller, &asked).await {
        Ok(permit) => {
            let grant = permit.grant().ok_or_else(|| {
                Asked::Failed(AppError::Internal(
                    "the gate allowed a use without issuing a grant".to_owned(),
                ))
            })?;
            let study = study
                .map(|s| format!("&study={}", urlencoding(s.as_str())))
                .unwrap_or_default();
            player.src = Some(format!(
                "/api/v1/recordings/{}/media?purpose={}{study}&grant={}",
                recording.id,
                purpose.as_str(),
                grant.secret.expose()
            ));
            player.opened_for = purpose.label().to_owned();
        }
        Err(AppError::UseRefused(refused)) => {
            let mut reasons: Vec<AnswerReason> = refused
                .access
                .iter()
                .map(|access| AnswerReason {
                    blocks: true,
                    requirement: access.requirement.clone(),
                    message: super::sentence(&access.reason),
                    remedy: Some(super::sentence(&access.remedy)),
                    alternative: None,
                })
                .collect();
            reasons.extend(refused.reasons.into_iter().map(answer_reason));
            player.refusal = Some(Answer {
                allowed: false,
                headline: format!(
                    "No, you may not open this recording for {}.",
                    purpose.label()
                ),
                reasons,
            });
        }
        Err(error) => return Err(Asked::Failed(error)),
    }
    Ok(player)
}

/// The study named for research, if any (C10).
fn study_of(question: &Question) -> Result<Option<EthicsReference>, Asked> {
    match question.study.trim() {
        "" => Ok(None),
        study => EthicsReference::parse(study).map(Some).map_err(|error| {
            Asked::Invalid(FieldError::new(
                "study",
                super::sentence(&error.to_string().replace('_', " ")),
            ))
        }),
    }
}

fn answer_reason(reason: custodian_core::decision::Explanation) -> AnswerReason {
    AnswerReason {
        blocks: reason.effect == "blocks",
        requirement: reason.requirement.to_owned(),
        message: reason.message,
        remedy: reason.remedy,
        alternative: reason.alternative.map(|id| id.to_string()),
    }
}

/// Percent-encodes a value for a query string (an ethics reference holds `/` and spaces).
fn urlencoding(value: &str) -> String {
    value
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(byte).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// Asks the decision function, if a purpose was chosen. Every question is audited by the app.
async fn ask(
    state: &AppState,
    staff: &SignedIn,
    id: RecordingId,
    question: &Question,
) -> Result<Option<Answer>, Asked> {
    if question.purpose.is_empty() {
        return Ok(None);
    }
    let purpose = Purpose::parse(&question.purpose).map_err(|_| {
        Asked::Invalid(FieldError::new("purpose", "Choose a purpose from the list"))
    })?;
    let study = study_of(question)?;
    let report = state
        .custodian
        .decide(&staff.caller, id, purpose, study, None)
        .await
        .map_err(Asked::Failed)?;
    let allowed = report.outcome == Outcome::Allowed;
    let headline = if allowed {
        format!("Yes, you may use this recording for {}.", purpose.label())
    } else {
        format!(
            "No, you may not use this recording for {}.",
            purpose.label()
        )
    };
    Ok(Some(Answer {
        allowed,
        headline,
        reasons: report.reasons.into_iter().map(answer_reason).collect(),
    }))
}

fn facts(recording: &Recording) -> Vec<(&'static str, String)> {
    vec![
        ("Kind", super::sentence(recording.kind.label())),
        ("Made", london_time(recording.made_at)),
        ("Service", recording.service.to_string()),
        ("Device", recording.device.to_string()),
        ("Where", recording.location.to_string()),
    ]
}

fn derivative_words(derived: &Recording) -> String {
    let Some(derivation) = &derived.derivation else {
        return super::sentence(derived.kind.label());
    };
    let identified = if derivation.de_identified {
        ", de-identified"
    } else {
        ""
    };
    format!(
        "{}{identified}, made {}",
        super::sentence(derivation.kind.label()),
        london_time(derived.made_at)
    )
}

/// A physical medium in a sentence: what and where it is, or how it ended.
fn medium_words(medium: &PhysicalMedium) -> String {
    let what = format!(
        "{} labelled {}",
        super::sentence(medium.kind.label()),
        medium.label
    );
    match &medium.destruction {
        None => format!("{what}, kept in {}", medium.location),
        Some(done) => {
            let witness = done
                .witness
                .as_ref()
                .map_or_else(String::new, |w| format!(", witnessed by {w}"));
            format!(
                "{what}: {} on {} by {}{witness}",
                done.method.label(),
                london_time(done.at),
                done.carried_out_by
            )
        }
    }
}

/// An audit event in plain words.
fn history_line(entry: &HistoryEntry) -> HistoryLine {
    let event = &entry.event;
    let detail: serde_json::Value = serde_json::from_str(&event.detail).unwrap_or_default();
    let purpose = detail
        .get("purpose")
        .and_then(|p| p.as_str())
        .and_then(|p| Purpose::parse(p).ok())
        .map_or("a purpose", |p| p.label());
    let refused = event.outcome == custodian_core::audit::AuditOutcome::Refused;
    let what = match event.action.as_str() {
        "recording.registered" => "Registered".to_owned(),
        "recording.derived" => "A derived copy was made".to_owned(),
        "recording.destroyed" => "Destroyed".to_owned(),
        "media.accessed" => "Played or downloaded".to_owned(),
        USE_GRANTED => format!("Opened for {purpose}"),
        USE_REFUSED => format!("Refused opening for {purpose}"),
        GRANT_REFUSED => {
            "A request to play it under a grant that no longer stands was refused".to_owned()
        }
        "physical_medium.registered" => format!(
            "Copied onto a physical medium, {}",
            detail
                .get("label")
                .and_then(|l| l.as_str())
                .unwrap_or("unlabelled")
        ),
        "physical_medium.destroyed" => format!(
            "The physical medium {} was destroyed",
            detail
                .get("label")
                .and_then(|l| l.as_str())
                .unwrap_or("unlabelled")
        ),
        "media.integrity_failed" => "Failed its integrity check".to_owned(),
        "recording.end_confirmed"
            if detail.get("happy") == Some(&serde_json::Value::Bool(true)) =>
        {
            "At the end, they said they are happy with it".to_owned()
        }
        "recording.end_confirmed" => "At the end, they said they are not happy with it".to_owned(),
        DEVICE_COPY_DELETED
            if detail.get("captured_in_browser") == Some(&serde_json::Value::Bool(true)) =>
        {
            "Made in the browser: no copy was kept on the device".to_owned()
        }
        DEVICE_COPY_DELETED => "The copy on the capture device was deleted".to_owned(),
        "decision.asked" if refused => format!("Asked about use for {purpose}: refused"),
        "decision.asked" => format!("Asked about use for {purpose}: allowed"),
        other => other.replace(['.', '_'], " "),
    };
    HistoryLine {
        when: london_time(event.at),
        what,
        by: entry.by.clone(),
        refused,
    }
}

/// Confirms, from the recording page, that the capture device's copy was deleted (R8).
pub async fn device_copy_deleted(
    State(state): State<AppState>,
    staff: SignedIn,
    Path(id): Path<RecordingId>,
    Checked(NoFields {}): Checked<NoFields>,
) -> PageResult {
    state
        .custodian
        .confirm_device_copy_deleted(&staff.caller, id, false)
        .await?;
    Ok(Redirect::to(&format!("/recordings/{id}#history")).into_response())
}
