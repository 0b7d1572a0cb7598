//! The retention schedule in force (D4): showing its rules with their sources, and changing a
//! rule's period — audited with before and after, and followed by recalculating every state.

use custodian_access::Action;
use custodian_core::retention::{PeriodSpec, RetentionPeriod, RuleId};
use custodian_store::PeriodChangeRecord;
use serde::Serialize;

use crate::access::Target;
use crate::accounts::Caller;
use crate::audit_trail::Audit;
use crate::retention::{Notices, every_standing_hold, name_the_rule, schedule_in_force};
use crate::{AppResult, Custodian};

/// One rule of the schedule, as shown.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScheduleRule {
    pub id: String,
    pub categories: Vec<String>,
    pub purposes: Vec<String>,
    /// In words, such as "8 years".
    pub period: String,
    pub years: i64,
    pub months: i64,
    pub days: i64,
    pub trigger: String,
    pub action: String,
    /// Where the rule comes from: the Code's row, or a policy section.
    pub source: String,
}

/// The schedule in force.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScheduleView {
    pub rules: Vec<ScheduleRule>,
}

impl Custodian {
    /// The retention schedule in force, rule by rule with its source.
    pub async fn retention_schedule(&self, caller: &Caller) -> AppResult<ScheduleView> {
        self.authorize(caller, Action::ViewRetention, Target::Organisation)
            .await
            .map_err(|e| {
                name_the_rule(
                    e,
                    &[
                        "D4.records-manager-retention",
                        "D7.information-governance-holds",
                        "D4.administrator-schedule",
                    ],
                    "records managers, information-governance leads and administrators",
                    "see the retention schedule",
                )
            })?;
        let mut tx = self.register.read().await?;
        let schedule = schedule_in_force(&mut tx).await?;
        tx.rollback().await?;
        let rules = schedule
            .rules()
            .iter()
            .map(|rule| {
                let spec = PeriodSpec::from(rule.period);
                ScheduleRule {
                    id: rule.id.to_string(),
                    categories: rule
                        .categories
                        .iter()
                        .map(|c| c.as_str().to_owned())
                        .collect(),
                    purposes: rule
                        .purposes
                        .iter()
                        .map(|p| p.as_str().to_owned())
                        .collect(),
                    period: rule.period.to_string(),
                    years: spec.years,
                    months: spec.months,
                    days: spec.days,
                    trigger: rule.trigger.as_str().to_owned(),
                    action: rule.action.as_str().to_owned(),
                    source: rule.source.to_string(),
                }
            })
            .collect();
        Ok(ScheduleView { rules })
    }

    /// Changes one rule's period (D4). A negative or absurd period is refused with the core's
    /// words, naming the rule; the change is audited with before and after, and every
    /// recording's state is worked out again under the new period.
    #[tracing::instrument(skip(self, caller), fields(staff = %caller.member.id))]
    pub async fn change_retention_period(
        &self,
        caller: &Caller,
        rule: &str,
        spec: PeriodSpec,
    ) -> AppResult<ScheduleView> {
        self.authorize(caller, Action::ManageRetention, Target::Organisation)
            .await
            .map_err(|e| {
                name_the_rule(
                    e,
                    &["D4.records-manager-retention", "D4.administrator-schedule"],
                    "records managers and administrators",
                    "change the retention schedule",
                )
            })?;
        let id = RuleId::parse(rule)?;
        let period = RetentionPeriod::new(rule, spec)?;
        let now = self.clock.now();
        let mut tx = self.register.write().await?;
        let mut schedule = schedule_in_force(&mut tx).await?;
        let Some(change) = schedule.change_period(&id, period)? else {
            tx.rollback().await?;
            return self.retention_schedule(caller).await;
        };
        let to = PeriodSpec::from(change.to);
        tx.insert_period_change(
            &PeriodChangeRecord {
                rule: id.to_string(),
                years: to.years,
                months: to.months,
                days: to.days,
            },
            caller.member.id,
            now,
        )
        .await?;
        Audit::change("retention.period_changed")
            .detail(serde_json::json!({
                "rule": id, "from": change.from.to_string(), "to": change.to.to_string(),
                "shortens": change.shortens(),
            }))
            .write(&mut tx, caller.actor(), now)
            .await?;
        tx.commit().await?;
        // Every state may move. Worked out now, in batches, rather than left for the sweeper,
        // which would leave the queue wrong until it runs; should this fail part-way, the
        // change stands and the next sweep finishes the work.
        let mut read = self.register.read().await?;
        let holds = every_standing_hold(&mut read).await?;
        read.rollback().await?;
        self.restate_all(&schedule, &holds, now, Notices::Withhold)
            .await?;
        self.retention_schedule(caller).await
    }
}
