//! When one recording comes up for disposal and why: which rule governs, its trigger, the date and the action.

use std::fmt::{self, Write as _};

use serde::Serialize;
use time::{Date, OffsetDateTime};

use crate::clock::utc_day;
use crate::consent::Disposition;
use crate::purpose::Purpose;
use crate::retention::facts::{DerivedFacts, Extension, RecordingFacts, WithdrawalFact};
use crate::retention::rule::{DisposalAction, RecordCategory, RetentionRule, RuleId, RuleSource};
use crate::retention::schedule::RetentionSchedule;
use crate::retention::trigger::Trigger;

/// Where a recording stands: when it comes up (or what it waits for), what then, and why.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct DisposalState {
    /// The day it comes up for disposal; `None` while it waits for a trigger.
    pub due_on: Option<Date>,
    /// What happens when it comes up; a records manager approves it first.
    pub action: DisposalAction,
    /// What decided the date.
    pub governed_by: Governor,
    /// The same, in plain English, for the records manager.
    pub reason: String,
    /// Rules that would have let it go sooner, and why they did not.
    pub set_aside: Vec<SetAside>,
    /// Work owed besides disposal: the person's choice on withdrawal, taking it down from the web.
    pub tasks: Vec<DisposalTask>,
}

impl DisposalState {
    /// The rule that governs the date, or the first it waits on; none after a withdrawal or
    /// when no rule applies.
    pub fn governing_rule(&self) -> Option<&RuleId> {
        match &self.governed_by {
            Governor::Rule { rule, .. } | Governor::Extension { rule, .. } => Some(rule),
            Governor::Waiting { pending } => pending.first().map(|p| &p.rule),
            Governor::Withdrawal(_)
            | Governor::StoppedAndDeleted { .. }
            | Governor::SourceDestroyed { .. }
            | Governor::NoRuleApplies => None,
        }
    }
}

/// What decided a recording's disposal date.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Governor {
    /// A rule whose trigger has happened.
    Rule {
        rule: RuleId,
        trigger: Trigger,
        triggered_on: Date,
        source: RuleSource,
    },
    /// Rules still waiting for their triggers; until one fires the recording is kept.
    Waiting { pending: Vec<PendingRule> },
    /// A records manager kept it beyond the rule's date at review (D2).
    Extension { rule: RuleId, extension: Extension },
    /// Consent was withdrawn for every purpose that kept it (C8).
    Withdrawal(WithdrawalFact),
    /// Its session was stopped with a choice that deletes it (C9).
    StoppedAndDeleted { stopped_on: Date },
    /// The item it was made from was destroyed, and it goes with it (R6).
    SourceDestroyed { destroyed_on: Date },
    /// No rule applies: a recording without purposes or category, to be looked at by hand.
    NoRuleApplies,
}

/// A rule whose trigger has not happened yet.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct PendingRule {
    /// What the recording is kept for until this rule (or another for the same thing) fires.
    pub kept_for: KeptFor,
    pub rule: RuleId,
    pub trigger: Trigger,
    /// Why it cannot fire yet when that is more than an event still to come.
    pub missing: Option<&'static str>,
}

/// A rule that would have let the recording go on `due_on`, set aside because something else keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct SetAside {
    /// What the rule would have released the recording from.
    pub kept_for: KeptFor,
    pub rule: RuleId,
    pub due_on: Date,
    pub why: String,
}

/// Work the disposal brings with it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "task", rename_all = "snake_case")]
pub enum DisposalTask {
    /// Carry out the person's choice on withdrawing consent: destroy or hand over (C8).
    Withdrawal {
        withdrawn_on: Date,
        choice: Disposition,
    },
    /// Take the recording down from the web and social media where it was posted (D10).
    TakeDown { because: &'static str },
}

/// What a recording is kept for: its record category, and each purpose still in force. Each
/// must be done with it before it goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeptFor {
    Category(RecordCategory),
    Purpose(Purpose),
}

/// A rule whose trigger has happened, with the date it makes the recording due.
#[derive(Clone, Copy, Debug)]
struct Fired<'a> {
    rule: &'a RetentionRule,
    triggered_on: Date,
    due_on: Date,
}

/// What one basis says: the earliest date one of its rules allows, or the rules it waits on.
#[derive(Clone, Debug)]
enum Verdict<'a> {
    Due(Fired<'a>),
    Waiting(Vec<&'a RetentionRule>),
}

/// One state for a recording of several people, from each person's facts: each person's record
/// keeps it, so the latest date governs and one still waiting keeps it (D4). `None` only when
/// `each` is empty; a recording of no one has one set of facts, without a person's.
pub fn shared_disposal_state(
    schedule: &RetentionSchedule,
    each: &[RecordingFacts],
    now: OffsetDateTime,
) -> Option<DisposalState> {
    each.iter()
        .map(|facts| disposal_state(schedule, facts, now))
        .reduce(|kept, next| match (kept.due_on, next.due_on) {
            (None, _) => kept,
            (_, None) => next,
            (Some(a), Some(b)) if b > a => next,
            _ => kept,
        })
}

/// Works out when the recording described by `facts` comes up for disposal, as of `now`.
///
/// How rules combine, so the law's minimum is never cut short:
/// 1. A recording is kept *for* its record category and for each purpose still in force. The
///    rules of one of these are alternatives ("20 years after care, or 10 years after death if
///    sooner"): the earliest date among those whose trigger has happened is that basis's date.
/// 2. The recording goes only when nothing keeps it: the *latest* basis date governs, and a basis
///    still waiting for its trigger keeps it indefinitely. So a policy's early deletion (D3, D6,
///    D8) never shortens the Code's keep period for the record category; only a row of the
///    category itself can, such as the Code's own "summarised into the care record" (D5).
/// 3. A records manager's extension at review moves the date later, never earlier.
/// 4. Withdrawal of consent for every purpose but identification (C8) brings it up at once with
///    the person's choice (destroy or hand over), over any policy rule or extension; but a care
///    record's Code period still stands, so then it comes up when that period ends, unused till
///    then (or sooner, once its content is transcribed into the care record).
/// 5. A stop during its session whose choice deletes it (C9) brings it up for destruction at
///    once, over everything else: the person asked while it was being made, so it never became
///    part of a record to keep.
///
/// Legal holds are not considered here: [`crate::retention::may_destroy`] decides them, and the
/// queue and review refuse any act on a held recording.
pub fn disposal_state(
    schedule: &RetentionSchedule,
    facts: &RecordingFacts,
    now: OffsetDateTime,
) -> DisposalState {
    let today = utc_day(now);
    let in_force = facts.purposes_in_force(today);
    let bases: Vec<KeptFor> = facts
        .record_category
        .map(KeptFor::Category)
        .into_iter()
        .chain(in_force.iter().map(KeptFor::Purpose))
        .collect();
    let verdicts: Vec<(KeptFor, Verdict)> = bases
        .iter()
        .map(|basis| (*basis, verdict(schedule, *basis, facts, today)))
        .collect();
    let mut state = combine(&verdicts, facts, today);
    if let Some(extension) = &facts.extension {
        extend(&mut state, extension);
    }
    if let Some(withdrawal) = facts.withdrawal_by(today) {
        if in_force.is_empty() {
            let floor = verdicts.iter().find_map(|(basis, verdict)| match basis {
                KeptFor::Category(_) => Some(verdict),
                KeptFor::Purpose(_) => None,
            });
            withdraw(&mut state, withdrawal, floor);
        }
        if withdrawal.purposes.contains(Purpose::SocialMedia) && facts.published_online {
            state.tasks.push(DisposalTask::TakeDown {
                because: "consent for online and social media use was withdrawn (D10)",
            });
        }
    }
    if let Some(stopped_on) = facts.deleted_at_stop_on.filter(|on| *on <= today) {
        delete_at_stop(&mut state, stopped_on);
    }
    if let Some(derived) = facts.derived
        && let Some(destroyed_on) = derived.source_destroyed_on.filter(|on| *on <= today)
    {
        follow_source(&mut state, derived, destroyed_on);
    }
    let going = matches!(
        state.action,
        DisposalAction::Destroy | DisposalAction::HandOver
    );
    if facts.published_online
        && going
        && state.due_on.is_some_and(|due| due <= today)
        && !state
            .tasks
            .iter()
            .any(|t| matches!(t, DisposalTask::TakeDown { .. }))
    {
        state.tasks.push(DisposalTask::TakeDown {
            because: "a recording posted online is coming up for disposal (D10)",
        });
    }
    state
}

/// The verdict of one basis: the earliest date among its rules whose trigger has happened
/// (ties go to the rule written first), or every rule it waits on.
fn verdict<'a>(
    schedule: &'a RetentionSchedule,
    basis: KeptFor,
    facts: &RecordingFacts,
    today: Date,
) -> Verdict<'a> {
    let rules: Vec<&RetentionRule> = schedule
        .rules()
        .iter()
        .filter(|rule| match basis {
            KeptFor::Category(category) => rule.covers_category(category),
            KeptFor::Purpose(purpose) => rule.purposes.contains(purpose),
        })
        .collect();
    let earliest = rules
        .iter()
        .filter_map(|rule| {
            rule.trigger
                .fired_on(facts, today)
                .map(|triggered_on| Fired {
                    rule,
                    triggered_on,
                    due_on: rule.period.after(triggered_on),
                })
        })
        .reduce(|best, next| {
            if next.due_on < best.due_on {
                next
            } else {
                best
            }
        });
    match earliest {
        Some(fired) => Verdict::Due(fired),
        None => Verdict::Waiting(rules),
    }
}

/// Combines the bases: a waiting basis keeps the recording; otherwise the latest date governs
/// (ties go to the category, then purposes in their usual order).
fn combine(verdicts: &[(KeptFor, Verdict)], facts: &RecordingFacts, today: Date) -> DisposalState {
    let pending: Vec<(PendingRule, DisposalAction)> = verdicts
        .iter()
        .flat_map(|(kept_for, verdict)| {
            match verdict {
                Verdict::Waiting(rules) => rules.clone(),
                Verdict::Due(_) => Vec::new(),
            }
            .into_iter()
            .map(move |rule| {
                let pending = PendingRule {
                    kept_for: *kept_for,
                    rule: rule.id.clone(),
                    trigger: rule.trigger,
                    missing: rule.trigger.missing(facts, today),
                };
                (pending, rule.action)
            })
        })
        .collect();
    let fired: Vec<(KeptFor, Fired)> = verdicts
        .iter()
        .filter_map(|(basis, verdict)| match verdict {
            Verdict::Due(fired) => Some((*basis, *fired)),
            Verdict::Waiting(_) => None,
        })
        .collect();
    if let Some((first, action)) = pending.first() {
        let set_aside = fired
            .iter()
            .map(|(kept_for, f)| SetAside {
                kept_for: *kept_for,
                rule: f.rule.id.clone(),
                due_on: f.due_on,
                why: format!(
                    "it would allow {} on {} for {}, but {} still keeps it until {}",
                    f.rule.action.label(),
                    f.due_on,
                    BasisWords(*kept_for),
                    BasisWords(first.kept_for),
                    first.trigger.label()
                ),
            })
            .collect();
        let action = *action;
        let pending: Vec<PendingRule> = pending.into_iter().map(|(p, _)| p).collect();
        return DisposalState {
            due_on: None,
            action,
            reason: waiting_reason(&pending),
            governed_by: Governor::Waiting { pending },
            set_aside,
            tasks: Vec::new(),
        };
    }
    let Some((_, governing)) = fired.iter().copied().reduce(|best, next| {
        if next.1.due_on > best.1.due_on {
            next
        } else {
            best
        }
    }) else {
        return DisposalState {
            due_on: Some(utc_day(facts.made_at)),
            action: DisposalAction::Review,
            governed_by: Governor::NoRuleApplies,
            reason: "no retention rule applies: the recording has no purpose in force and no record category; review it by hand".to_owned(),
            set_aside: Vec::new(),
            tasks: Vec::new(),
        };
    };
    let set_aside = fired
        .iter()
        .filter(|(_, f)| f.due_on < governing.due_on)
        .map(|(basis, f)| SetAside {
            kept_for: *basis,
            rule: f.rule.id.clone(),
            due_on: f.due_on,
            why: format!(
                "it would allow {} on {} for {}, but {} keeps the recording until {}",
                f.rule.action.label(),
                f.due_on,
                BasisWords(*basis),
                governing.rule.id,
                governing.due_on
            ),
        })
        .collect();
    DisposalState {
        due_on: Some(governing.due_on),
        action: governing.rule.action,
        governed_by: Governor::Rule {
            rule: governing.rule.id.clone(),
            trigger: governing.rule.trigger,
            triggered_on: governing.triggered_on,
            source: governing.rule.source.clone(),
        },
        reason: rule_reason(&governing),
        set_aside,
        tasks: Vec::new(),
    }
}

/// Applies a records manager's extension, which only ever moves a due date later.
fn extend(state: &mut DisposalState, extension: &Extension) {
    let Governor::Rule { rule, .. } = &state.governed_by else {
        return;
    };
    if state.due_on.is_some_and(|due| extension.until > due) {
        state.reason = format!(
            "{} A records manager extended it to {}: {}",
            state.reason,
            extension.until,
            extension.reason.as_str()
        );
        state.governed_by = Governor::Extension {
            rule: rule.clone(),
            extension: extension.clone(),
        };
        state.due_on = Some(extension.until);
        state.action = DisposalAction::Review;
    }
}

/// Applies a withdrawal of consent for every purpose but identification (C8): the person's
/// choice is carried out as soon as the record category's Code period (`floor`) allows, and
/// never before; until then the recording is kept unused.
fn withdraw(state: &mut DisposalState, withdrawal: &WithdrawalFact, floor: Option<&Verdict>) {
    let choice = match withdrawal.choice {
        Disposition::Destroy => DisposalAction::Destroy,
        Disposition::HandOver => DisposalAction::HandOver,
    };
    let withdrawn = format!(
        "Consent was withdrawn on {} for every purpose it was kept for (C8) and the person chose to {}",
        withdrawal.withdrawn_on,
        choice.label()
    );
    let unless = "It must not be used; it can go sooner once its content is transcribed or summarised into the care record.";
    let (due_on, reason) = match floor {
        Some(Verdict::Due(fired)) if fired.due_on > withdrawal.withdrawn_on => (
            Some(fired.due_on),
            format!(
                "{withdrawn}, but it is part of a care record the Code keeps until {} (rule {}). {unless}",
                fired.due_on, fired.rule.id
            ),
        ),
        Some(Verdict::Waiting(rules)) => (
            None,
            format!(
                "{withdrawn}, but it is part of a care record the Code keeps until {} ({}). {unless}",
                rules
                    .iter()
                    .map(|r| r.trigger.label())
                    .collect::<Vec<_>>()
                    .join(" or "),
                rules
                    .iter()
                    .map(|r| r.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
        None | Some(Verdict::Due(_)) => (Some(withdrawal.withdrawn_on), format!("{withdrawn}.")),
    };
    state.tasks.push(DisposalTask::Withdrawal {
        withdrawn_on: withdrawal.withdrawn_on,
        choice: withdrawal.choice,
    });
    state.due_on = due_on;
    state.action = choice;
    state.governed_by = Governor::Withdrawal(withdrawal.clone());
    state.reason = reason;
}

/// Applies a stop during the session whose choice deletes the recording (C9): destroyed as soon
/// as a records manager approves, whatever else would keep it; legal holds still stop it.
fn delete_at_stop(state: &mut DisposalState, stopped_on: Date) {
    destroy_at_once(
        state,
        stopped_on,
        Governor::StoppedAndDeleted { stopped_on },
        format!(
            "When its session was stopped on {stopped_on}, the choice made was to delete this recording (C9). It must not be used; destroy it."
        ),
    );
}

/// Applies the destruction of the item a derived item was made from (R6): a still goes with it,
/// at once, unless something already destroys it sooner; an item resting on a basis of its own
/// keeps its own date, and its reason says why.
fn follow_source(state: &mut DisposalState, derived: DerivedFacts, destroyed_on: Date) {
    let label = derived.kind.label();
    if let Some(why) = derived.stands_alone() {
        let _ = write!(
            state.reason,
            " The recording it was made from was destroyed on {destroyed_on}; this {label} is kept by its own rules: {why}."
        );
        return;
    }
    let destroyed_sooner = state.action == DisposalAction::Destroy
        && state.due_on.is_some_and(|due| due <= destroyed_on);
    if destroyed_sooner {
        return;
    }
    destroy_at_once(
        state,
        destroyed_on,
        Governor::SourceDestroyed { destroyed_on },
        format!(
            "The recording this {label} was made from was destroyed on {destroyed_on}, and a {label} holds its content, so it goes too (R6). Destroy it."
        ),
    );
}

/// Brings the recording up for destruction on `on`, over every rule that would keep it: nothing
/// is set aside, and of the tasks only taking it down from the web remains.
fn destroy_at_once(state: &mut DisposalState, on: Date, governed_by: Governor, reason: String) {
    state.due_on = Some(on);
    state.action = DisposalAction::Destroy;
    state.governed_by = governed_by;
    state.reason = reason;
    state.set_aside.clear();
    state
        .tasks
        .retain(|task| matches!(task, DisposalTask::TakeDown { .. }));
}

// The words are written straight into one string each: the sweeper works out every recording's
// state, and building them from intermediate strings was half of the core's share of a sweep.

fn rule_reason(fired: &Fired) -> String {
    let rule = fired.rule;
    let mut words = String::with_capacity(256);
    let _ = write!(
        words,
        "Due for {} on {}: rule {} acts ",
        rule.action.label(),
        fired.due_on,
        rule.id
    );
    let _ = if rule.period.is_none() {
        write!(words, "when {} happens", rule.trigger.label())
    } else {
        write!(words, "{} after {}", rule.period, rule.trigger.label())
    };
    let _ = write!(words, " ({}). Source: {}.", fired.triggered_on, rule.source);
    words
}

fn waiting_reason(pending: &[PendingRule]) -> String {
    let mut words = String::with_capacity(256);
    words.push_str("Kept, with no date yet: ");
    let mut bases: Vec<KeptFor> = Vec::with_capacity(pending.len());
    for p in pending {
        if !bases.contains(&p.kept_for) {
            bases.push(p.kept_for);
        }
    }
    for (n, basis) in bases.iter().enumerate() {
        if n > 0 {
            words.push_str("; and ");
        }
        let _ = write!(words, "for {} until ", BasisWords(*basis));
        for (m, p) in pending.iter().filter(|p| p.kept_for == *basis).enumerate() {
            if m > 0 {
                words.push_str(", or ");
            }
            let _ = match p.missing {
                Some(missing) => {
                    write!(words, "{} (rule {}: {missing})", p.trigger.label(), p.rule)
                }
                None => write!(words, "{} (rule {})", p.trigger.label(), p.rule),
            };
        }
    }
    words.push('.');
    words
}

/// What a recording is kept for, in words: "the adult care record", "its use for teaching".
struct BasisWords(KeptFor);

impl fmt::Display for BasisWords {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            KeptFor::Category(category) => write!(f, "the {}", category.label()),
            KeptFor::Purpose(purpose) => write!(f, "its use for {}", purpose.label()),
        }
    }
}
