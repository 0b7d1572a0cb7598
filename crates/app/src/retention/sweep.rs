//! The sweeper (D2): works out every recording's state afresh, gives notice once when one
//! comes due, and records when it ran. Idempotent, and safe with two servers on one database.

use custodian_core::audit::Actor;
use custodian_core::clock::utc_day;
use custodian_core::retention::{QueueBucket, check_sweep_clock};
use serde::Serialize;
use time::OffsetDateTime;

use crate::audit_trail::Audit;
use crate::retention::{holds_over, recalculate, schedule_in_force};
use crate::{AppError, AppResult, Custodian};

/// What one sweep found.
#[derive(Clone, Debug, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SweepReport {
    #[serde(with = "time::serde::rfc3339::option")]
    pub at: Option<OffsetDateTime>,
    pub recordings: usize,
    pub due_now: usize,
    pub due_within_90_days: usize,
    pub later: usize,
    pub waiting: usize,
    pub held: usize,
    /// Recordings newly due that this sweep gave notice of (each only once).
    pub noticed: usize,
}

impl Custodian {
    /// Sweeps the register (D2) as Custodian itself. Refuses a clock earlier than the last
    /// sweep's (`retention.clock_went_backwards`): dates from a wrong clock could bring
    /// recordings up early. The sweeper's row is locked for the whole sweep, so a second
    /// server's sweep waits and then finds nothing new to give notice of.
    #[tracing::instrument(skip(self))]
    pub async fn sweep_retention(&self) -> AppResult<SweepReport> {
        let mut tx = self.register.write().await?;
        let last = tx.lock_sweep().await?;
        // Read the clock only once the lock is held: a sweep that waited for another's must not
        // use a time from before that sweep ended.
        let now = self.clock.now();
        check_sweep_clock(last, now)?;
        let schedule = schedule_in_force(&mut tx).await?;
        let today = utc_day(now);
        let mut report = SweepReport {
            at: Some(now),
            ..SweepReport::default()
        };
        for id in tx.recordings_to_sweep().await? {
            let recording = tx
                .recording(id)
                .await?
                .ok_or_else(|| AppError::not_found("recording", id))?;
            let Some(state) = recalculate(&mut tx, &schedule, &recording, now).await? else {
                continue;
            };
            report.recordings += 1;
            let held = holds_over(&mut tx, &recording).await?;
            let bucket = if held.is_empty() {
                QueueBucket::of(state.due_on, today)
            } else {
                QueueBucket::Held
            };
            match bucket {
                QueueBucket::DueNow => report.due_now += 1,
                QueueBucket::Within30Days
                | QueueBucket::Within60Days
                | QueueBucket::Within90Days => {
                    report.due_within_90_days += 1;
                }
                QueueBucket::Later => report.later += 1,
                QueueBucket::Waiting => report.waiting += 1,
                QueueBucket::Held => report.held += 1,
            }
            let (QueueBucket::DueNow, Some(due)) = (bucket, state.due_on) else {
                continue;
            };
            let noticed = tx
                .disposal(id)
                .await?
                .and_then(|stored| stored.noticed_due_on);
            if noticed == Some(due) {
                continue;
            }
            tx.mark_noticed(id, due).await?;
            Audit::change("disposal.due")
                .recording(id)
                .detail(serde_json::json!({
                    "due_on": due, "action": state.action, "reason": state.reason,
                }))
                .write(&mut tx, Actor::System, now)
                .await?;
            report.noticed += 1;
        }
        tx.set_last_sweep(now).await?;
        tx.commit().await?;
        Ok(report)
    }
}
