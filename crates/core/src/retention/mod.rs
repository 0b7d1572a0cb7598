//! Retention and disposal (D1–D10): the schedule, when each recording comes due and why, legal holds, and the disposal queue.

mod defaults;
mod facts;
mod hold;
mod medium;
mod period;
mod queue;
mod review;
mod rule;
mod schedule;
mod state;
mod trigger;

pub use facts::{DerivedFacts, Extension, RecordingFacts, WithdrawalFact};
pub use hold::{
    Held, HoldForm, HoldLifted, HoldRef, HoldScope, LegalHold, Matter, MatterKind, may_destroy,
};
pub use medium::{
    DestructionForm, DestructionMethod, MediumDestruction, MediumForm, MediumKind, PhysicalMedium,
};
pub use period::{PeriodSpec, RetentionPeriod};
pub use queue::{
    QueueBucket, QueueEntry, QueueSection, Sweep, SweepItem, check_sweep_clock, sweep,
};
pub use review::{Approval, DisposalWarrant, ReviewDecision, ReviewOutcome, review};
pub use rule::{DisposalAction, RecordCategory, RetentionRule, RuleId, RuleSource, RuleSpec};
pub use schedule::{PeriodChange, RetentionSchedule, ScheduleChange, ScheduleSpec};
pub use state::{
    DisposalState, DisposalTask, Governor, KeptFor, PendingRule, SetAside, disposal_state,
    shared_disposal_state,
};
pub use trigger::{Trigger, age_on, childhood_birthday};

#[cfg(test)]
mod medium_tests;
#[cfg(test)]
mod properties;
#[cfg(test)]
mod tests;
