//! Members of staff as users of Custodian: who they are, not what they may do (roles come later).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::ids::StaffId;
use crate::text::{ShortText, checked_text};

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
    /// Administrators manage accounts; roles and their limits arrive with access control.
    pub is_administrator: bool,
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
