//! Retention and disposal (D2–D10): the schedule, legal holds, the disposal queue and its
//! reviews, and the events that start retention periods.

use axum::extract::State;
use axum::http::StatusCode;
use custodian_app::retention::{
    DisposalQueue, DisposalView, HoldRequest, PersonEvent, QUEUE_PAGE, QUEUE_WINDOWS, QueueRequest,
    Recalculated, RecordingEvent, ReviewRequest, ReviewedDisposal, ScheduleView,
};
use custodian_core::DomainError;
use custodian_core::ids::{LegalHoldId, PersonId, RecordingId, StaffId};
use custodian_core::retention::{
    HoldLifted, LegalHold, Matter, MatterKind, PeriodSpec, QueueSection,
};
use custodian_core::text::Note;
use custodian_vault::certificate::Certificate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiResult, Problem};
use crate::extract::{Body, Path, Query, Staff};
use crate::input::{date, optional_moment};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(schedule))
        .routes(routes!(change_period))
        .routes(routes!(holds, place_hold))
        .routes(routes!(lift_hold))
        .routes(routes!(queue))
        .routes(routes!(review))
        .routes(routes!(carry_out))
        .routes(routes!(person_event))
        .routes(routes!(recording_event))
}

/// The retention schedule in force: each rule with its period, trigger, action and source (D4).
#[utoipa::path(get, path = "/retention/schedule", tag = "retention",
    responses((status = OK, body = ScheduleView), (status = FORBIDDEN, body = Problem)))]
async fn schedule(
    State(state): State<AppState>,
    Staff(caller): Staff,
) -> ApiResult<axum::Json<ScheduleView>> {
    Ok(axum::Json(
        state.custodian.retention_schedule(&caller).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPeriod {
    #[serde(default)]
    years: i64,
    #[serde(default)]
    months: i64,
    #[serde(default)]
    days: i64,
}

/// Change one rule's period (D4): audited with before and after. A negative period, or one over
/// 100 years, is refused naming the rule.
#[utoipa::path(put, path = "/retention/schedule/{rule}/period", tag = "retention",
    params(("rule" = String, Path)), request_body = NewPeriod,
    responses((status = OK, body = ScheduleView), (status = FORBIDDEN, body = Problem),
        (status = UNPROCESSABLE_ENTITY, body = Problem)))]
async fn change_period(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(rule): Path<String>,
    Body(period): Body<NewPeriod>,
) -> ApiResult<axum::Json<ScheduleView>> {
    let spec = PeriodSpec {
        years: period.years,
        months: period.months,
        days: period.days,
    };
    Ok(axum::Json(
        state
            .custodian
            .change_retention_period(&caller, &rule, spec)
            .await?,
    ))
}

/// A legal hold as the API shows it.
#[derive(Serialize, ToSchema)]
pub struct Hold {
    id: LegalHoldId,
    /// `kind` and `reference`.
    #[schema(value_type = Object)]
    matter: Matter,
    recordings: Vec<RecordingId>,
    persons: Vec<PersonId>,
    #[serde(with = "time::serde::rfc3339")]
    placed_at: time::OffsetDateTime,
    placed_by: StaffId,
    /// `at`, `by` and `reason`, once lifted.
    #[schema(value_type = Option<Object>)]
    lifted: Option<HoldLifted>,
}

impl From<LegalHold> for Hold {
    fn from(hold: LegalHold) -> Self {
        Self {
            id: hold.id,
            matter: hold.matter,
            recordings: hold.recordings,
            persons: hold.persons,
            placed_at: hold.placed_at,
            placed_by: hold.placed_by,
            lifted: hold.lifted,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MatterBody {
    /// `litigation`, `complaint`, `inquiry`, `court_direction` or `police_investigation`.
    kind: String,
    /// The matter's reference: a claim number, complaint or police reference.
    #[serde(default)]
    reference: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewHold {
    /// The matter the hold is for; required (D7).
    matter: Option<MatterBody>,
    #[serde(default)]
    recordings: Vec<RecordingId>,
    /// People: every recording they are in is held.
    #[serde(default)]
    persons: Vec<PersonId>,
    /// RFC 3339; now when left out.
    placed_at: Option<String>,
}

/// Every legal hold, standing ones first (D7).
#[utoipa::path(get, path = "/legal-holds", tag = "retention",
    responses((status = OK, body = Vec<Hold>), (status = FORBIDDEN, body = Problem)))]
async fn holds(
    State(state): State<AppState>,
    Staff(caller): Staff,
) -> ApiResult<axum::Json<Vec<Hold>>> {
    let holds = state.custodian.legal_holds(&caller).await?;
    Ok(axum::Json(holds.into_iter().map(Hold::from).collect()))
}

/// Place a legal hold for a matter (D7): nothing it covers is destroyed, by any path, until it
/// is lifted.
#[utoipa::path(post, path = "/legal-holds", tag = "retention", request_body = NewHold,
    responses((status = CREATED, body = Hold), (status = FORBIDDEN, body = Problem),
        (status = NOT_FOUND, body = Problem), (status = UNPROCESSABLE_ENTITY, body = Problem)))]
async fn place_hold(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Body(request): Body<NewHold>,
) -> ApiResult<(StatusCode, axum::Json<Hold>)> {
    let matter = request.matter.ok_or(DomainError::HoldWithoutMatter)?;
    let hold = state
        .custodian
        .place_legal_hold(
            &caller,
            HoldRequest {
                kind: MatterKind::parse(&matter.kind)?,
                reference: matter.reference,
                recordings: request.recordings,
                persons: request.persons,
                placed_at: optional_moment("placed_at", request.placed_at.as_deref())?,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, axum::Json(Hold::from(hold))))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Lifting {
    /// Why the hold no longer needs to stand; kept in the audit trail.
    reason: String,
}

/// Lift a legal hold, with a reason (D7): records managers only; audited.
#[utoipa::path(post, path = "/legal-holds/{id}/lift", tag = "retention",
    params(("id" = LegalHoldId, Path)), request_body = Lifting,
    responses((status = OK, body = Hold), (status = FORBIDDEN, body = Problem),
        (status = NOT_FOUND, body = Problem), (status = UNPROCESSABLE_ENTITY, body = Problem)))]
async fn lift_hold(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<LegalHoldId>,
    Body(lifting): Body<Lifting>,
) -> ApiResult<axum::Json<Hold>> {
    let reason = Note::parse("reason", &lifting.reason)?;
    Ok(axum::Json(Hold::from(
        state.custodian.lift_legal_hold(&caller, id, reason).await?,
    )))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Window {
    /// 30, 60 or 90 (days); 30 when left out.
    within: Option<u32>,
    /// One part of the queue only: `due_now`, `due_within`, `held` or `waiting`.
    section: Option<String>,
    /// Where that part goes on: the `next` value the page before gave for it.
    after: Option<String>,
    /// How many recordings each part shows, 1 to 500; 100 when left out.
    limit: Option<u32>,
}

/// The disposal queue (D2): due now, due within 30, 60 or 90 days, held, and waiting, each a
/// page at a time in due order; `next` says where each part goes on.
#[utoipa::path(get, path = "/disposals", tag = "retention", params(Window),
    responses((status = OK, body = DisposalQueue), (status = FORBIDDEN, body = Problem),
        (status = UNPROCESSABLE_ENTITY, body = Problem)))]
async fn queue(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Query(window): Query<Window>,
) -> ApiResult<axum::Json<DisposalQueue>> {
    let request = QueueRequest {
        within_days: window.within.unwrap_or(QUEUE_WINDOWS[0]),
        section: window
            .section
            .as_deref()
            .map(QueueSection::parse)
            .transpose()?,
        after: window.after.as_deref().map(str::parse).transpose()?,
        limit: window.limit.unwrap_or(QUEUE_PAGE),
    };
    Ok(axum::Json(
        state.custodian.disposal_queue(&caller, request).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Review {
    /// `approve`, or `extend` with `until` and `reason`.
    outcome: String,
    /// For an extension: the new date (YYYY-MM-DD), later than the one due.
    until: Option<String>,
    /// For an extension: why it is kept longer.
    reason: Option<String>,
}

/// Review a recording that came due (D2): approve its disposal, or extend it with a reason and a
/// later date. Refused while held (D7), before the date, or while waiting for a trigger.
#[utoipa::path(post, path = "/disposals/{recording}/review", tag = "retention",
    params(("recording" = RecordingId, Path)), request_body = Review,
    responses((status = CREATED, body = ReviewedDisposal), (status = FORBIDDEN, body = Problem),
        (status = NOT_FOUND, body = Problem), (status = CONFLICT, body = Problem),
        (status = GONE, body = Problem), (status = UNPROCESSABLE_ENTITY, body = Problem)))]
async fn review(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(recording): Path<RecordingId>,
    Body(review): Body<Review>,
) -> ApiResult<(StatusCode, axum::Json<ReviewedDisposal>)> {
    let request = match review.outcome.as_str() {
        "approve" => ReviewRequest::Approve,
        "extend" => ReviewRequest::Extend {
            until: date("until", review.until.as_deref().unwrap_or_default())?,
            reason: Note::parse("reason", review.reason.as_deref().unwrap_or_default())?,
        },
        other => {
            return Err(DomainError::UnknownValue {
                what: "review outcome",
                input: other.chars().take(60).collect(),
                known: "approve, extend".to_owned(),
            }
            .into());
        }
    };
    Ok((
        StatusCode::CREATED,
        axum::Json(
            state
                .custodian
                .review_disposal(&caller, recording, request)
                .await?,
        ),
    ))
}

/// Carry out an approved disposal (D9): the holds are checked again now (D7); the media is
/// destroyed through the vault, the register keeps its stub, and a signed certificate is returned.
#[utoipa::path(post, path = "/disposals/{recording}/destruction", tag = "retention",
    params(("recording" = RecordingId, Path)),
    responses((status = CREATED, body = Certificate), (status = FORBIDDEN, body = Problem),
        (status = NOT_FOUND, body = Problem), (status = CONFLICT, body = Problem),
        (status = GONE, body = Problem), (status = UNPROCESSABLE_ENTITY, body = Problem)))]
async fn carry_out(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(recording): Path<RecordingId>,
) -> ApiResult<(StatusCode, axum::Json<Certificate>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(
            state
                .custodian
                .carry_out_disposal(&caller, recording)
                .await?,
        ),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonEventBody {
    /// `end_of_care`, `death`, `left_service` or `deletion_requested`.
    trigger: String,
    /// YYYY-MM-DD.
    on: String,
}

/// Record an event in a person's care that starts retention periods (D3, D4, D6): their
/// recordings' disposal states are worked out again.
#[utoipa::path(post, path = "/persons/{id}/retention-events", tag = "retention",
    params(("id" = PersonId, Path)), request_body = PersonEventBody,
    responses((status = OK, body = Recalculated), (status = FORBIDDEN, body = Problem),
        (status = NOT_FOUND, body = Problem), (status = UNPROCESSABLE_ENTITY, body = Problem)))]
async fn person_event(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(person): Path<PersonId>,
    Body(event): Body<PersonEventBody>,
) -> ApiResult<axum::Json<Recalculated>> {
    let event = PersonEvent {
        trigger: event.trigger,
        on: date("on", &event.on)?,
    };
    Ok(axum::Json(
        state
            .custodian
            .record_person_event(&caller, person, event)
            .await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordingEventBody {
    /// `transcript_made`, `no_longer_relevant` or `superseded`, with `on`.
    trigger: Option<String>,
    /// YYYY-MM-DD.
    on: Option<String>,
    /// `adult_care`, `children` or `mental_health`.
    record_category: Option<String>,
    /// Whether it has been published online (D10).
    published_online: Option<bool>,
}

/// Record what is learnt about a recording for retention — an event, its record category,
/// publication online — and see its disposal state worked out again (D1, D2, D4, D5, D8, D10).
#[utoipa::path(post, path = "/recordings/{id}/retention", tag = "retention",
    params(("id" = RecordingId, Path)), request_body = RecordingEventBody,
    responses((status = OK, body = DisposalView), (status = FORBIDDEN, body = Problem),
        (status = NOT_FOUND, body = Problem), (status = UNPROCESSABLE_ENTITY, body = Problem)))]
async fn recording_event(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(recording): Path<RecordingId>,
    Body(event): Body<RecordingEventBody>,
) -> ApiResult<axum::Json<DisposalView>> {
    let trigger = match event.trigger {
        Some(trigger) => Some((
            trigger,
            date("on", event.on.as_deref().unwrap_or_default())?,
        )),
        None => None,
    };
    let event = RecordingEvent {
        trigger,
        record_category: event.record_category,
        published_online: event.published_online,
    };
    Ok(axum::Json(
        state
            .custodian
            .record_recording_event(&caller, recording, event)
            .await?,
    ))
}
