//! A records manager's review of a due recording: approve its disposal, or keep it longer with a reason and a date.

use serde::Serialize;
use time::{Date, OffsetDateTime};

use crate::clock::utc_day;
use crate::error::DomainError;
use crate::ids::StaffId;
use crate::retention::facts::Extension;
use crate::retention::hold::{Held, HoldScope, LegalHold};
use crate::retention::queue::QueueEntry;
use crate::retention::rule::DisposalAction;
use crate::retention::state::Governor;
use crate::text::Note;

/// What the records manager decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReviewOutcome {
    /// Carry out the disposal (a review approved means destruction).
    Approve,
    /// Keep it until `until`, for `reason` (D2).
    Extend { until: Date, reason: Note },
}

/// The result of a review, for the app to record and audit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ReviewDecision {
    Approved(Approval),
    /// Store it as the recording's [`crate::retention::RecordingFacts::extension`].
    Extended(Extension),
}

/// A records manager's approval to dispose of one recording.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Approval {
    /// The recording, what it was derived from and who is in it, as the holds see them.
    pub scope: HoldScope,
    /// Destroy, transfer to an archive, or hand over: never "review".
    pub action: DisposalAction,
    pub by: StaffId,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The reason it was due, as the records manager saw it.
    pub reason: String,
}

/// Leave to carry out an approved disposal now: obtainable only from an [`Approval`] and the
/// holds as they stand at the moment of acting, so a hold placed after approval still stops it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisposalWarrant {
    approval: Approval,
}

/// Reviews a due queue entry as of `now`. Approval is refused while it is held (D7), before
/// it is due, or while it waits for a trigger; an extension must move the date later.
pub fn review(
    entry: &QueueEntry,
    outcome: ReviewOutcome,
    by: StaffId,
    now: OffsetDateTime,
) -> Result<ReviewDecision, DomainError> {
    let today = utc_day(now);
    match outcome {
        ReviewOutcome::Approve => {
            if !entry.held_by.is_empty() {
                return Err(DomainError::UnderLegalHold(Held {
                    holds: entry.held_by.clone(),
                }));
            }
            let due = due_or_waiting(entry)?;
            if due > today {
                return Err(DomainError::NotYetDue { due });
            }
            let action = match entry.state.action {
                DisposalAction::Review => DisposalAction::Destroy,
                other => other,
            };
            Ok(ReviewDecision::Approved(Approval {
                scope: entry.scope.clone(),
                action,
                by,
                at: now,
                reason: entry.state.reason.clone(),
            }))
        }
        ReviewOutcome::Extend { until, reason } => {
            let due = due_or_waiting(entry)?;
            let not_before = due.max(today);
            if until <= not_before {
                return Err(DomainError::ExtensionNotLater {
                    due: not_before,
                    until,
                });
            }
            Ok(ReviewDecision::Extended(Extension {
                until,
                reason,
                by,
                decided_at: now,
            }))
        }
    }
}

impl Approval {
    /// Checks the holds as they stand now and, if none covers the recording, what it was
    /// derived from or the people in it, gives leave to act (D7).
    pub fn authorise(self, holds: &[LegalHold]) -> Result<DisposalWarrant, Held> {
        self.scope.may_destroy(holds)?;
        Ok(DisposalWarrant { approval: self })
    }
}

impl DisposalWarrant {
    /// The approval this warrant carries out.
    pub fn approval(&self) -> &Approval {
        &self.approval
    }
}

fn due_or_waiting(entry: &QueueEntry) -> Result<Date, DomainError> {
    entry.state.due_on.ok_or_else(|| {
        let waiting_for = match &entry.state.governed_by {
            Governor::Waiting { pending } => pending
                .iter()
                .map(|p| p.trigger.label())
                .collect::<Vec<_>>()
                .join(" or "),
            Governor::Withdrawal(_) => "the end of the care record's keep period".to_owned(),
            _ => "a trigger".to_owned(),
        };
        DomainError::DisposalWaiting { waiting_for }
    })
}
