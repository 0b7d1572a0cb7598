//! The consent form's question pages: one question per page, in order, then the answers to check.

/// The form's question pages, in order (one question per page, then check your answers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    Purposes,
    Answer,
    Representative,
    Details,
    Signature,
    Check,
}

impl Step {
    const ALL: [Self; 6] = [
        Self::Purposes,
        Self::Answer,
        Self::Representative,
        Self::Details,
        Self::Signature,
        Self::Check,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Purposes => "purposes",
            Self::Answer => "answer",
            Self::Representative => "representative",
            Self::Details => "details",
            Self::Signature => "signature",
            Self::Check => "check",
        }
    }

    pub(super) fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|step| step.as_str() == text)
    }

    /// The question page that asks for `field` (a field id the page uses).
    pub(super) fn asking(field: &str) -> Self {
        match field {
            "purposes" | "study" => Self::Purposes,
            "answer" | "refusal_explained" => Self::Answer,
            "representative_id" | "best_interest_note" => Self::Representative,
            "service" | "notes" => Self::Details,
            _ => Self::Signature,
        }
    }

    /// The form fields this page shows; every other field is carried through it hidden.
    pub(super) fn shows(self, field: &str) -> bool {
        let shown: &[&str] = match self {
            Self::Purposes => &["purposes", "study", "ethics_reference"],
            Self::Answer => &["answer", "refusal_explained"],
            Self::Representative => &[
                "representative_id",
                "assessed_on",
                "assessed_by",
                "capacity_decision",
                "best_interest_note",
            ],
            Self::Details => &["service", "representatives_may_have_copies", "notes"],
            Self::Signature => &["signature_method", "signed_by", "witness", "drawing"],
            Self::Check => &[],
        };
        shown.contains(&field)
    }

    /// The page after this one; the representative's page only for someone who lacks capacity.
    pub(super) fn next(self, by_representative: bool) -> Self {
        match self {
            Self::Purposes => Self::Answer,
            Self::Answer if by_representative => Self::Representative,
            Self::Answer | Self::Representative => Self::Details,
            Self::Details => Self::Signature,
            Self::Signature | Self::Check => Self::Check,
        }
    }
}
