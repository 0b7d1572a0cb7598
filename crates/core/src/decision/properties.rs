//! Properties of the decision function that must hold for every scenario, not just the written ones.

use proptest::prelude::*;

use crate::consent::ConsentAnswer;
use crate::decision::{Decision, PersonEvidence, RecordingEvidence, SessionEvidence, decide};
use crate::fixtures::{Covering, Story, at, requester, researcher};
use crate::purpose::Purpose;
use crate::session::{SessionKind, StopChoice};

const NAMES: [&str; 4] = ["Alex", "Billie", "Casey", "Dana"];
const HORIZON: i64 = 240;

/// One generated event; people, consents and purposes are chosen by index so that shrinking works.
#[derive(Clone, Debug)]
enum Step {
    Answer {
        who: usize,
        given: bool,
        purposes: u16,
        covering: u8,
        minutes: i64,
        representative: bool,
    },
    Withdraw {
        consent: usize,
        purposes: Option<u16>,
        after: i64,
        had_capacity: bool,
    },
    Confirm {
        who: usize,
        willing: bool,
        minutes: i64,
    },
    Stop {
        choice: usize,
        minutes: i64,
    },
    Derive {
        de_identified: bool,
        removed: u8,
        minutes: i64,
    },
}

#[derive(Clone, Debug)]
struct Recipe {
    people: usize,
    session: Option<usize>,
    course: bool,
    subjects: u8,
    made_for: u16,
    steps: Vec<Step>,
    purpose: usize,
    ask_at: i64,
    /// 0: no study named; 1: the study the consents name; 2: another study.
    study: u8,
    /// When the media was destroyed, if it was.
    destroyed: Option<i64>,
}

fn purposes(bits: u16) -> Vec<Purpose> {
    let chosen: Vec<Purpose> = Purpose::ALL
        .iter()
        .enumerate()
        .filter(|(i, _)| bits & (1 << i) != 0)
        .map(|(_, p)| *p)
        .collect();
    if chosen.is_empty() {
        vec![Purpose::Clinical]
    } else {
        chosen
    }
}

/// Purposes weighted towards the ones with special rules, so that those rules are exercised often.
fn purpose_bits() -> impl Strategy<Value = u16> {
    let special = [
        Purpose::Identification,
        Purpose::Clinical,
        Purpose::Teaching,
        Purpose::Research,
        Purpose::Administrative,
    ]
    .map(|p| 1u16 << (Purpose::ALL.iter().position(|q| *q == p).unwrap_or(0)));
    prop_oneof![
        3 => proptest::sample::subsequence(special.to_vec(), 1..=3).prop_map(|bits| bits.into_iter().fold(0, |a, b| a | b)),
        1 => any::<u16>(),
    ]
}

/// The purpose asked about, mostly one the generated consents use.
fn asked_purpose() -> impl Strategy<Value = usize> {
    let special = [
        Purpose::Identification,
        Purpose::Clinical,
        Purpose::Teaching,
        Purpose::Research,
        Purpose::Administrative,
    ]
    .map(|p| Purpose::ALL.iter().position(|q| *q == p).unwrap_or(0));
    prop_oneof![4 => proptest::sample::select(special.to_vec()), 1 => 0..Purpose::ALL.len()]
}

fn step(people: usize) -> impl Strategy<Value = Step> {
    let minutes = 0..HORIZON;
    prop_oneof![
        6 => (0..people, prop::bool::weighted(0.8), purpose_bits(), 0u8..4, minutes.clone(), any::<bool>())
            .prop_map(|(who, given, purposes, covering, minutes, representative)| Step::Answer { who, given, purposes, covering, minutes, representative }),
        2 => (any::<usize>(), prop::option::of(purpose_bits()), 0..HORIZON, any::<bool>())
            .prop_map(|(consent, purposes, after, had_capacity)| Step::Withdraw { consent, purposes, after, had_capacity }),
        2 => (0..people, prop::bool::weighted(0.9), minutes.clone()).prop_map(|(who, willing, minutes)| Step::Confirm { who, willing, minutes }),
        1 => (0..StopChoice::ALL.len(), minutes.clone()).prop_map(|(choice, minutes)| Step::Stop { choice, minutes }),
        1 => (any::<bool>(), any::<u8>(), minutes).prop_map(|(de_identified, removed, minutes)| Step::Derive { de_identified, removed, minutes }),
    ]
}

fn recipe() -> impl Strategy<Value = Recipe> {
    (1usize..=4).prop_flat_map(|people| {
        (
            Just(people),
            prop::option::weighted(0.8, 0..SessionKind::ALL.len()),
            any::<bool>(),
            1u8..16,
            purpose_bits(),
            prop::collection::vec(step(people), 0..24),
            asked_purpose(),
            prop_oneof![1 => 0..HORIZON + 30, 4 => 60..HORIZON + 30],
            prop_oneof![1 => Just(0u8), 3 => Just(1u8), 1 => Just(2u8)],
            prop::option::weighted(0.05, 0..HORIZON),
        )
            .prop_map(
                |(
                    people,
                    session,
                    course,
                    subjects,
                    made_for,
                    steps,
                    purpose,
                    ask_at,
                    study,
                    destroyed,
                )| {
                    Recipe {
                        people,
                        session,
                        course,
                        subjects,
                        made_for,
                        steps,
                        purpose,
                        ask_at,
                        study,
                        destroyed,
                    }
                },
            )
    })
}

impl Recipe {
    fn story(&self) -> Story {
        let everyone = &NAMES[..self.people];
        let mut subjects: Vec<&str> = everyone
            .iter()
            .enumerate()
            .filter(|(i, _)| self.subjects & (1 << i) != 0)
            .map(|(_, n)| *n)
            .collect();
        if subjects.is_empty() {
            subjects.push(NAMES[0]);
        }
        let others: Vec<&str> = everyone
            .iter()
            .filter(|n| !subjects.contains(n))
            .copied()
            .collect();
        let mut story = Story::recording(&subjects, &purposes(self.made_for));
        if let Some(kind) = self.session {
            story = story
                .in_session(SessionKind::ALL[kind], &others)
                .attendees_informed(55);
            if self.course {
                story = story.in_course();
            }
        }
        for step in &self.steps {
            self.apply(&mut story, step, 0);
        }
        story.evidence_mut().destroyed_at = self.destroyed.map(at);
        story
    }

    /// Applies a step, shifting its time by `offset` minutes.
    fn apply(&self, story: &mut Story, step: &Step, offset: i64) {
        let in_story = |who: usize| {
            story
                .evidence()
                .people
                .iter()
                .any(|p| p.name.given == NAMES[who])
        };
        match step {
            Step::Answer {
                who,
                given,
                purposes: bits,
                covering,
                minutes,
                representative,
            } => {
                if !in_story(*who) {
                    return;
                }
                let session = story.evidence().session.as_ref().map(|s| &s.session);
                let covering = match (covering, session) {
                    (0, _) => Covering::Service,
                    (1, Some(s)) if s.course_id.is_some() => Covering::Course,
                    (1 | 2, Some(_)) => Covering::Session,
                    _ => Covering::Recording,
                };
                let list = purposes(*bits);
                let minutes = minutes + offset;
                match (given, representative) {
                    (true, false) => story.consents(NAMES[*who], &list, covering, minutes),
                    (true, true) => {
                        story.representative_consents(NAMES[*who], &list, covering, minutes)
                    }
                    (false, _) => story.refuses(NAMES[*who], &list, covering, minutes),
                };
            }
            Step::Withdraw {
                consent,
                purposes: bits,
                after,
                had_capacity,
            } => {
                let given: Vec<_> = story
                    .evidence()
                    .people
                    .iter()
                    .flat_map(|p| p.consents().iter())
                    .filter(|c| c.answer == ConsentAnswer::Given)
                    .map(|c| (c.id, c.purposes, c.signed_at))
                    .collect();
                if given.is_empty() {
                    return;
                }
                let (id, granted, signed_at) = given[consent % given.len()];
                let minutes = (signed_at - at(0)).whole_minutes() + after + offset;
                let chosen: Vec<Purpose> = bits
                    .map(|b| {
                        purposes(b)
                            .into_iter()
                            .filter(|p| granted.contains(*p))
                            .collect()
                    })
                    .unwrap_or_default();
                let chosen = if chosen.is_empty() {
                    None
                } else {
                    Some(chosen.as_slice())
                };
                story.withdraws_purposes(id, chosen, minutes, *had_capacity);
            }
            Step::Confirm {
                who,
                willing,
                minutes,
            } => {
                let participant = story.evidence().session.as_ref().is_some_and(|s| {
                    s.session.participants.iter().any(|p| {
                        story
                            .evidence()
                            .person(*p)
                            .is_some_and(|e| e.name.given == NAMES[*who])
                    })
                });
                if participant {
                    story.confirms(NAMES[*who], *willing, minutes + offset);
                }
            }
            Step::Stop { choice, minutes } => {
                if story.evidence().session.is_some() {
                    story.stops(StopChoice::ALL[*choice], minutes + offset);
                }
            }
            Step::Derive {
                de_identified,
                removed,
                minutes,
            } => {
                let subjects: Vec<&str> = story
                    .evidence()
                    .recording
                    .subjects
                    .iter()
                    .filter_map(|s| {
                        story
                            .evidence()
                            .person(*s)
                            .map(|p| NAMES.iter().position(|n| *n == p.name.given).unwrap_or(0))
                    })
                    .filter(|i| removed & (1 << i) != 0)
                    .map(|i| NAMES[i])
                    .collect();
                if subjects.len() < story.evidence().recording.subjects.len() {
                    story.derives(*de_identified, &subjects, minutes + offset);
                }
            }
        }
    }

    fn decide(&self, evidence: &RecordingEvidence) -> Decision {
        let asker = match self.study {
            0 => requester(),
            1 => researcher("23/NE/0123"),
            _ => researcher("24/LO/0456"),
        };
        decide(
            evidence,
            Purpose::ALL[self.purpose],
            &asker,
            at(self.ask_at),
        )
    }
}

/// Reverses or rotates every list in the evidence, as a database might return rows in any order.
fn reorder(evidence: &mut RecordingEvidence, seed: u64) {
    fn mix<T>(items: &mut [T], seed: u64) {
        if items.len() > 1 {
            items.rotate_left((seed as usize) % items.len());
            if seed & 1 == 1 {
                items.reverse();
            }
        }
    }
    mix(&mut evidence.people, seed);
    mix(&mut evidence.derivatives, seed >> 3);
    for (n, person) in evidence.people.iter_mut().enumerate() {
        let mut consents = person.consents().to_vec();
        let mut withdrawals = person.withdrawals().to_vec();
        mix(&mut consents, seed >> (5 + n));
        mix(&mut withdrawals, seed >> (9 + n));
        *person = PersonEvidence::new(person.person_id, person.name.clone(), consents, withdrawals);
    }
    if let Some(session) = evidence.session.as_mut() {
        let mut confirmations = session.confirmations().to_vec();
        mix(&mut confirmations, seed >> 17);
        mix(&mut session.stops, seed >> 21);
        *session = SessionEvidence::new(
            session.session.clone(),
            confirmations,
            session.stops.clone(),
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn c8_withdrawing_never_widens_what_is_allowed(recipe in recipe(), extra in (any::<usize>(), prop::option::of(purpose_bits()), 0..HORIZON, any::<bool>())) {
        let mut story = recipe.story();
        let before = recipe.decide(story.evidence());
        let (consent, purposes, after, had_capacity) = extra;
        recipe.apply(&mut story, &Step::Withdraw { consent, purposes, after, had_capacity }, 0);
        let after = recipe.decide(story.evidence());
        prop_assert!(before.is_allowed() || !after.is_allowed(), "a withdrawal turned a refusal into an allowance: {:?}", after.reasons);
    }

    #[test]
    fn c1_consent_by_one_person_never_changes_a_decision_about_anothers_recording(
        recipe in recipe(), bits in purpose_bits(), covering in 0u8..4, minutes in 0..HORIZON, given in any::<bool>()
    ) {
        let mut story = recipe.story();
        let before = recipe.decide(story.evidence());
        let outsider = story.bystander("Zed");
        let covering = [Covering::Service, Covering::Recording, Covering::Service, Covering::Recording][covering as usize];
        if given {
            story.consents("Zed", &purposes(bits), covering, minutes);
        } else {
            story.refuses("Zed", &purposes(bits), covering, minutes);
        }
        prop_assert!(!story.evidence().recording.subjects.contains(&outsider));
        prop_assert_eq!(before, recipe.decide(story.evidence()));
    }

    #[test]
    fn c5_a_still_willing_answer_after_the_recording_started_never_allows_it(recipe in recipe(), who in 0usize..4, after in 1..HORIZON) {
        let mut story = recipe.story();
        let before = recipe.decide(story.evidence());
        let captured = (story.evidence().recording.captured_at - at(0)).whole_minutes();
        recipe.apply(&mut story, &Step::Confirm { who, willing: true, minutes: captured + after }, 0);
        let after = recipe.decide(story.evidence());
        prop_assert!(before.is_allowed() || !after.is_allowed(), "a late confirmation turned a refusal into an allowance: {:?}", after.reasons);
    }

    #[test]
    fn x1_the_order_events_are_stored_in_never_changes_a_decision(recipe in recipe(), seed in any::<u64>()) {
        let story = recipe.story();
        let mut reordered = story.evidence().clone();
        reorder(&mut reordered, seed);
        prop_assert_eq!(recipe.decide(story.evidence()), recipe.decide(&reordered));
    }

    #[test]
    fn x1_a_decision_at_t_ignores_events_after_t(recipe in recipe(), later in prop::collection::vec(step(4), 1..12)) {
        let mut story = recipe.story();
        let before = recipe.decide(story.evidence());
        for step in &later {
            // Every added event happens strictly after the time asked about.
            let offset = recipe.ask_at + 1;
            let step = match step {
                Step::Withdraw { consent, purposes, after, had_capacity } => {
                    // A withdrawal is dated from its consent; push it past the question time.
                    let given: Vec<_> = story.evidence().people.iter().flat_map(|p| p.consents().iter()).filter(|c| c.answer == ConsentAnswer::Given).map(|c| c.signed_at).collect();
                    if given.is_empty() { continue; }
                    let signed = (given[consent % given.len()] - at(0)).whole_minutes();
                    Step::Withdraw { consent: *consent, purposes: *purposes, after: (recipe.ask_at + 1 - signed).max(0) + after, had_capacity: *had_capacity }
                }
                other => other.clone(),
            };
            let offset = if matches!(step, Step::Withdraw { .. }) { 0 } else { offset };
            recipe.apply(&mut story, &step, offset);
        }
        prop_assert_eq!(before, recipe.decide(story.evidence()));
    }
}

/// The properties above are only as strong as the scenarios generated: this keeps the generator
/// honest by requiring that it produces both outcomes and every reason the decision can give.
#[test]
fn generated_scenarios_reach_every_reason_and_both_outcomes() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    use crate::decision::ReasonCode;

    let mut runner = TestRunner::deterministic();
    let strategy = recipe();
    let mut allowed = 0;
    let mut seen = std::collections::BTreeSet::new();
    let total = 5000;
    for _ in 0..total {
        let recipe = strategy.new_tree(&mut runner).unwrap().current();
        let story = recipe.story();
        let decision = recipe.decide(story.evidence());
        allowed += usize::from(decision.is_allowed());
        seen.extend(decision.reasons.iter().map(|r| r.code));
    }
    assert!(
        allowed * 10 >= total,
        "only {allowed} of {total} generated scenarios were allowed"
    );
    let missing: Vec<_> = ReasonCode::ALL
        .iter()
        .filter(|c| !seen.contains(c))
        .collect();
    assert!(missing.is_empty(), "never generated: {missing:?}");
}
