//! Members of staff as users of Custodian: who they are, their roles and the services they work in.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::ids::StaffId;
use crate::text::{ServiceCode, ShortText, checked_text};
use crate::vocabulary::vocabulary;

vocabulary! {
    /// What a member of staff does, and so what the access policies let them do (S2). Each role
    /// grants only what its policies say; a member may hold several.
    pub enum Role ("role") {
        /// Works with the people their services care for: consent, sessions, recordings.
        Practitioner = "practitioner", "practitioner";
        /// A practitioner who also manages a team's caseload.
        TeamManager = "team_manager", "team manager";
        /// Keeps the register: retention, disposal and holds, across services.
        RecordsManager = "records_manager", "records manager";
        /// The information-governance lead (data protection officer): audit, refusals, emergency access alerts.
        InformationGovernanceLead = "information_governance_lead", "information-governance lead";
        /// Prepares recordings for newsletters, award entries and social media.
        Communications = "communications", "communications team";
        /// Reads the audit trail, and nothing else.
        Auditor = "auditor", "auditor";
        /// Manages accounts and settings, but sees no recordings.
        Administrator = "administrator", "administrator";
        /// On call for emergencies: a practitioner or team manager who may also take emergency
        /// access to someone outside their services, with a reason the IG lead reviews (S3).
        OnCall = "on_call", "on call for emergencies";
    }
}

vocabulary! {
    /// How a member of staff knows a person personally (S3): any of them keeps the member of
    /// staff out of that person's record.
    pub enum ConnectionKind ("connection") {
        /// A relative.
        Family = "family", "family";
        /// A friend.
        Friend = "friend", "friend";
        /// A neighbour.
        Neighbour = "neighbour", "neighbour";
        /// A partner or former partner.
        Partner = "partner", "partner or former partner";
        /// A colleague outside work with the person as a patient or service user.
        Colleague = "colleague", "colleague";
        /// Another personal connection.
        Other = "other", "another personal connection";
    }
}

/// A sign-in name: lower case letters, digits and `. _ - @`, compared without regard to case.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, example = "a.clinician"))]
#[serde(transparent)]
pub struct Username(String);

impl Username {
    /// The longest accepted username.
    pub const MAX: usize = 64;

    /// Parses a username, folding it to lower case.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let field = "username";
        let text = checked_text(field, input, Self::MAX, false)?.to_lowercase();
        if let Some(character) = text.chars().find(|c| {
            !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-' | '@'))
        }) {
            return Err(DomainError::BadCharacter {
                field,
                character,
                allowed: "use letters, digits and . _ - @",
            });
        }
        if text.chars().count() < 3 {
            return Err(DomainError::TooShort { field, min: 3 });
        }
        Ok(Self(text))
    }

    /// The username itself.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A member of staff who signs in to Custodian.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StaffMember {
    pub id: StaffId,
    pub username: Username,
    pub display_name: ShortText,
    /// What they do; the access policies decide what each role may do.
    pub roles: Vec<Role>,
    /// The services or teams they work in: by default they see the people these care for.
    pub services: Vec<ServiceCode>,
}

impl StaffMember {
    /// Whether they hold `role`.
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Whether they manage accounts and settings.
    pub fn is_administrator(&self) -> bool {
        self.has_role(Role::Administrator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_case_insensitive_and_plain() {
        assert_eq!(
            Username::parse(" A.Clinician ").unwrap().as_str(),
            "a.clinician"
        );
        assert!(Username::parse("a clinician").is_err());
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse("<script>").is_err());
    }
}
