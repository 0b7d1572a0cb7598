//! What several pages show the same way: a person as a heading or row, a consent in words, representatives and recordings as choices, an action in words, what was just done.

use custodian_app::london::london_time;
use custodian_app::persons::PersonRecord;
use custodian_core::consent::{Consent, ConsentAnswer, ConsentGiver, Scope, SignatureMethod};
use custodian_core::ids::RepresentativeId;
use custodian_core::person::Person;
use custodian_core::retention::DisposalAction;
use serde::Deserialize;

/// Recordings as links: id, and what and when in words.
pub fn recording_links(
    recordings: &[custodian_core::recording::Recording],
) -> Vec<(String, String)> {
    recordings
        .iter()
        .map(|r| {
            let words = format!(
                "{}, {}",
                super::sentence(r.kind.label()),
                london_time(r.made_at)
            );
            (r.id.to_string(), words)
        })
        .collect()
}

/// A person's representatives as choices: id, and name with their standing.
pub fn representative_choices(
    record: &custodian_app::persons::PersonRecord,
) -> Vec<(String, String)> {
    record
        .representatives
        .iter()
        .map(|r| (r.id.to_string(), format!("{} ({})", r.name, r.kind.label())))
        .collect()
}

/// A person as a row or heading shows them.
pub struct PersonSummary {
    pub id: String,
    pub name: String,
    pub nhs_number: Option<String>,
    pub local_identifier: Option<String>,
    pub date_of_birth: String,
    pub capacity: &'static str,
}

impl From<&Person> for PersonSummary {
    fn from(person: &Person) -> Self {
        Self {
            id: person.id.to_string(),
            name: person.name.full(),
            nhs_number: person.nhs_number.as_ref().map(ToString::to_string),
            local_identifier: person
                .local_identifier
                .as_ref()
                .map(|local| local.as_str().to_owned()),
            date_of_birth: super::long_date(person.date_of_birth),
            capacity: person.capacity.label(),
        }
    }
}

/// A consent in the words the page and the copy use.
pub struct ConsentView {
    pub id: String,
    pub given: bool,
    pub answer: &'static str,
    pub purposes: Vec<(String, &'static str)>,
    pub covers: String,
    pub decided_by: String,
    pub signed_at: String,
    pub signature: String,
    pub drawing: Option<custodian_core::signature::SignatureDrawing>,
    pub representatives_may_have_copies: bool,
}

impl ConsentView {
    pub fn new(consent: &Consent, record: &PersonRecord) -> Self {
        let person = record.person.name.full();
        let decided_by = match &consent.given_by {
            ConsentGiver::Person => format!("{person} decided for themselves."),
            ConsentGiver::Representative {
                representative_id,
                capacity_decision,
                ..
            } => {
                let representative = representative_named(record, *representative_id);
                format!(
                    "{representative} decided in {person}'s best interests, because {person} \
                     could not decide about recording for themselves (assessed on {} by {}).",
                    super::long_date(capacity_decision.assessed_on),
                    capacity_decision.assessed_by
                )
            }
        };
        let signature = &consent.signature;
        let signature_words = match signature.method {
            SignatureMethod::Drawn => format!("Signed on screen by {}.", signature.signed_by),
            SignatureMethod::TypedWithWitness => format!(
                "Name typed by {}, witnessed by {}.",
                signature.signed_by,
                signature
                    .witness
                    .as_ref()
                    .map_or("a member of staff", |w| w.as_str())
            ),
            SignatureMethod::Paper => format!(
                "Signed on paper by {}; the paper form is kept on file.",
                signature.signed_by
            ),
        };
        let covers = scope_words(&consent.scope);
        let given = consent.answer == ConsentAnswer::Given;
        Self {
            id: consent.id.to_string(),
            given,
            answer: if given {
                "Consent was given for the purposes below."
            } else {
                "Consent was refused for the purposes below: no recordings will be made or used for them."
            },
            purposes: consent
                .purposes
                .iter()
                .map(|p| (super::sentence(p.label()), p.explanation()))
                .collect(),
            covers,
            decided_by,
            signed_at: london_time(consent.signed_at),
            signature: signature_words,
            drawing: signature.drawing.clone(),
            representatives_may_have_copies: consent.representatives_may_have_copies,
        }
    }
}

/// What a consent covers, in words: "the service CAMHS-NORTH", "one session".
pub fn scope_words(scope: &Scope) -> String {
    match scope {
        Scope::Service { service } => format!("the service {service}"),
        Scope::Course { .. } => "one course of sessions".to_owned(),
        Scope::Session { .. } => "one session".to_owned(),
        Scope::Recording { .. } => "one recording".to_owned(),
    }
}

/// An action in words: "Destroy", "Transfer to an archive".
pub fn action_words(action: &str) -> String {
    super::sentence(DisposalAction::parse(action).map_or(action, |a| a.label()))
}

/// What was just done, to confirm at the top of the list.
#[derive(Deserialize, Default)]
pub struct Done {
    #[serde(default)]
    done: String,
}

impl Done {
    pub fn as_str(&self) -> &str {
        &self.done
    }
}

/// "Jo Testperson (lasting power of attorney)", or "their representative" if not on record.
pub fn representative_named(record: &PersonRecord, id: RepresentativeId) -> String {
    record
        .representatives
        .iter()
        .find(|r| r.id == id)
        .map_or_else(
            || "their representative".to_owned(),
            |r| format!("{} ({})", r.name, r.kind.label()),
        )
}
