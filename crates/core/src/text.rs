//! Bounded, trimmed text for names, notes and references, checked once at the edge.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::DomainError;

/// Checks that `input`, once trimmed, is non-empty, at most `max` characters and free of control
/// characters (newlines are allowed only where `multiline` is set).
pub(crate) fn checked_text(
    field: &'static str,
    input: &str,
    max: usize,
    multiline: bool,
) -> Result<String, DomainError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(DomainError::Empty { field });
    }
    if trimmed.chars().count() > max {
        return Err(DomainError::TooLong { field, max });
    }
    if let Some(character) = trimmed
        .chars()
        .find(|c| c.is_control() && !(multiline && (*c == '\n' || *c == '\r' || *c == '\t')))
    {
        return Err(DomainError::BadCharacter {
            field,
            character,
            allowed: "control characters are not allowed",
        });
    }
    if let Some(character) = trimmed.chars().find(|c| is_invisible_format(*c)) {
        return Err(DomainError::BadCharacter {
            field,
            character,
            allowed: "invisible characters that change how text is shown (direction overrides, zero-width and tag characters) are not allowed; type the text again",
        });
    }
    Ok(trimmed.to_owned())
}

/// Characters that show nothing themselves but change how the text around them is shown or
/// compared: direction marks, embeddings, overrides and isolates (so "Smith" could read as
/// "htimS"), zero-width characters (two names that look the same but differ) and tag characters.
pub(crate) fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
            | '\u{E0000}'..='\u{E007F}'
    )
}

/// A short single-line text such as a name, a device label or a place.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String))]
#[serde(transparent)]
pub struct ShortText(String);

impl ShortText {
    /// The longest accepted text, in characters.
    pub const MAX: usize = 200;

    /// Parses a short text for `field`.
    pub fn parse(field: &'static str, input: &str) -> Result<Self, DomainError> {
        checked_text(field, input, Self::MAX, false).map(Self)
    }

    /// The text itself.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ShortText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A free-text note such as a best-interest note or a reason, which may span lines.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String))]
#[serde(transparent)]
pub struct Note(String);

impl Note {
    /// The longest accepted note, in characters.
    pub const MAX: usize = 4000;

    /// Parses a note for `field`.
    pub fn parse(field: &'static str, input: &str) -> Result<Self, DomainError> {
        checked_text(field, input, Self::MAX, true).map(Self)
    }

    /// The text itself.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Parses an optional note, treating blank input as absent.
pub fn optional_note(
    field: &'static str,
    input: Option<&str>,
) -> Result<Option<Note>, DomainError> {
    match input {
        Some(text) if !text.trim().is_empty() => Note::parse(field, text).map(Some),
        _ => Ok(None),
    }
}

/// A service or team code, such as `CAMHS-NORTH`, used to scope admission consents.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, example = "CAMHS-NORTH"))]
#[serde(transparent)]
pub struct ServiceCode(String);

impl ServiceCode {
    /// The longest accepted code.
    pub const MAX: usize = 40;

    /// Parses a service code: letters, digits and hyphens, stored in upper case.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let field = "service";
        let trimmed = checked_text(field, input, Self::MAX, false)?;
        if let Some(character) = trimmed
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
        {
            return Err(DomainError::BadCharacter {
                field,
                character,
                allowed: "use letters, digits, hyphens and underscores",
            });
        }
        Ok(Self(trimmed.to_ascii_uppercase()))
    }

    /// The code itself.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ServiceCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A size as people read it: "1.2 MB".
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["bytes", "KB", "MB", "GB"];
    let mut size = bytes as f64;
    let mut unit = 0;
    while size >= 1000.0 && unit + 1 < UNITS.len() {
        size /= 1000.0;
        unit += 1;
    }
    let name = UNITS.get(unit).copied().unwrap_or("bytes");
    if unit == 0 {
        format!("{bytes} {name}")
    } else {
        format!("{size:.1} {name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human_size(512), "512 bytes");
        assert_eq!(human_size(1_234_567), "1.2 MB");
        assert_eq!(human_size(3_000_000_000), "3.0 GB");
    }

    #[test]
    fn text_is_trimmed_and_bounded() {
        assert_eq!(
            ShortText::parse("name", "  Ward 7 ").unwrap().as_str(),
            "Ward 7"
        );
        assert_eq!(
            ShortText::parse("name", "   ").unwrap_err(),
            DomainError::Empty { field: "name" }
        );
        assert!(matches!(
            ShortText::parse("name", &"x".repeat(201)),
            Err(DomainError::TooLong { max: 200, .. })
        ));
        assert!(matches!(
            ShortText::parse("name", "a\u{0}b"),
            Err(DomainError::BadCharacter { .. })
        ));
    }

    #[test]
    fn invisible_direction_zero_width_and_tag_characters_are_refused_everywhere() {
        for spoof in [
            "Alex \u{202E}nworB",
            "Al\u{200B}ex",
            "Alex\u{2066}Brown\u{2069}",
            "Alex\u{E0041}",
            "\u{FEFF}Alex",
        ] {
            assert!(
                matches!(
                    ShortText::parse("name", spoof),
                    Err(DomainError::BadCharacter { .. })
                ),
                "{spoof:?}"
            );
            assert!(Note::parse("note", spoof).is_err(), "{spoof:?}");
        }
        // Accents and other scripts are names like any other.
        for name in ["Zoë", "Siân", "Nguyễn", "محمد", "O'Neill-Smith"] {
            assert!(ShortText::parse("name", name).is_ok(), "{name}");
        }
    }

    #[test]
    fn notes_may_span_lines_but_names_may_not() {
        assert!(Note::parse("note", "first line\nsecond line").is_ok());
        assert!(ShortText::parse("name", "first\nsecond").is_err());
    }

    #[test]
    fn service_codes_are_upper_case_and_plain() {
        assert_eq!(
            ServiceCode::parse("camhs-north").unwrap().as_str(),
            "CAMHS-NORTH"
        );
        assert!(ServiceCode::parse("camhs north").is_err());
    }
}
