//! The retention schedule (D4): every rule with its period, trigger, action and source, and
//! changing a rule's period (records managers and administrators, as the use case enforces).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use custodian_access::Action;
use custodian_app::AppError;
use custodian_app::retention::ScheduleRule;
use custodian_core::purpose::Purpose;
use custodian_core::retention::{PeriodSpec, RecordCategory, Trigger};
use serde::Deserialize;

use super::signed_in::SignedIn;
use super::views::action_words;
use super::{FieldError, form_errors, render};
use crate::AppState;
use crate::extract::Path;
use crate::pages::PageResult;
use crate::pages::checked::Checked;

#[derive(Deserialize, Default)]
pub struct Done {
    #[serde(default)]
    done: String,
}

/// A rule in words.
pub struct RuleLine {
    id: String,
    applies_to: String,
    period: String,
    trigger: String,
    action: String,
    source: String,
}

#[derive(Template)]
#[template(path = "schedule.html")]
struct SchedulePage {
    title: &'static str,
    signed_in_as: Option<super::signed_in::Who>,
    done: Option<&'static str>,
    rules: Vec<RuleLine>,
    may_change: bool,
}

/// The period form, as typed.
#[derive(Deserialize, Default)]
pub struct PeriodForm {
    #[serde(default)]
    years: String,
    #[serde(default)]
    months: String,
    #[serde(default)]
    days: String,
}

#[derive(Template)]
#[template(path = "schedule_rule.html")]
struct RulePage {
    title: String,
    signed_in_as: Option<super::signed_in::Who>,
    errors: Vec<FieldError>,
    rule: RuleLine,
    form: PeriodForm,
    may_change: bool,
}

form_errors!(RulePage);

pub async fn show(
    State(state): State<AppState>,
    staff: SignedIn,
    Query(done): Query<Done>,
) -> PageResult {
    let custodian = &state.custodian;
    let schedule = custodian.retention_schedule(&staff.caller).await?;
    let may_change = custodian
        .offers_to_organisation(&staff.caller, Action::ManageRetention)
        .await?;
    let page = SchedulePage {
        title: "Retention schedule",
        signed_in_as: Some(staff.who()),
        done: (done.done == "changed")
            .then_some("The period is changed and recorded in the audit trail. Every recording's disposal date is worked out again under it."),
        rules: schedule.rules.iter().map(line).collect(),
        may_change,
    };
    Ok(render(StatusCode::OK, &page))
}

/// One rule, with the form to change its period for those who may.
pub async fn rule(
    State(state): State<AppState>,
    staff: SignedIn,
    Path(id): Path<String>,
) -> PageResult {
    rule_page(&state, &staff, &id, None, Vec::new()).await
}

pub async fn change(
    State(state): State<AppState>,
    staff: SignedIn,
    Path(id): Path<String>,
    Checked(form): Checked<PeriodForm>,
) -> PageResult {
    let mut errors = Vec::new();
    let mut number = |field: &'static str, unit: &str, text: &str| -> i64 {
        match text.trim() {
            "" => 0,
            text => text.parse().unwrap_or_else(|_| {
                errors.push(FieldError::new(
                    field,
                    format!("Enter the {unit} as a whole number, such as 8, or leave it blank"),
                ));
                0
            }),
        }
    };
    let spec = PeriodSpec {
        years: number("years", "years", &form.years),
        months: number("months", "months", &form.months),
        days: number("days", "days", &form.days),
    };
    if errors.is_empty() {
        match state
            .custodian
            .change_retention_period(&staff.caller, &id, spec)
            .await
        {
            Ok(_) => {
                return Ok(
                    Redirect::to(&format!("/retention/schedule?done=changed#rule-{id}"))
                        .into_response(),
                );
            }
            Err(AppError::Invalid(error)) => {
                errors.push(FieldError::new(
                    "years",
                    super::sentence(&error.to_string()),
                ));
            }
            Err(error) => return Err(error.into()),
        }
    }
    rule_page(&state, &staff, &id, Some(form), errors).await
}

async fn rule_page(
    state: &AppState,
    staff: &SignedIn,
    id: &str,
    typed: Option<PeriodForm>,
    errors: Vec<FieldError>,
) -> PageResult {
    let custodian = &state.custodian;
    let schedule = custodian.retention_schedule(&staff.caller).await?;
    let Some(rule) = schedule.rules.iter().find(|rule| rule.id == id) else {
        let unknown = AppError::NotFound {
            what: "retention rule",
            id: id.chars().take(60).collect(),
        };
        return Err(unknown.into());
    };
    let may_change = custodian
        .offers_to_organisation(&staff.caller, Action::ManageRetention)
        .await?;
    let blank_if_zero = |n: i64| if n == 0 { String::new() } else { n.to_string() };
    let form = typed.unwrap_or_else(|| PeriodForm {
        years: blank_if_zero(rule.years),
        months: blank_if_zero(rule.months),
        days: blank_if_zero(rule.days),
    });
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = RulePage {
        title: format!("The rule {}", rule.id),
        signed_in_as: Some(staff.who()),
        errors,
        rule: line(rule),
        form,
        may_change,
    };
    Ok(render(status, &page))
}

fn line(rule: &ScheduleRule) -> RuleLine {
    let categories = rule
        .categories
        .iter()
        .map(|code| RecordCategory::parse(code).map_or(code.clone(), |c| c.label().to_owned()));
    let purposes = rule
        .purposes
        .iter()
        .map(|code| Purpose::parse(code).map_or(code.clone(), |p| p.label().to_owned()));
    let applies: Vec<String> = categories.chain(purposes).collect();
    RuleLine {
        id: rule.id.clone(),
        applies_to: if applies.is_empty() {
            "Every recording".to_owned()
        } else {
            super::sentence(&applies.join("; "))
        },
        period: rule.period.clone(),
        trigger: super::sentence(
            Trigger::parse(&rule.trigger).map_or(rule.trigger.as_str(), |t| t.label()),
        ),
        action: action_words(&rule.action),
        source: rule.source.clone(),
    }
}
