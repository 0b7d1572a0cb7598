//! Turning request text into domain values, naming the field when it cannot be done.

use custodian_core::DomainError;
use custodian_core::purpose::{Purpose, PurposeSet};
use custodian_core::text::{Note, ShortText};
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};

/// An RFC 3339 moment such as `2026-03-02T09:00:00Z`.
pub fn moment(field: &'static str, text: &str) -> Result<OffsetDateTime, DomainError> {
    OffsetDateTime::parse(text.trim(), &Rfc3339).map_err(|_| DomainError::BadFormat {
        field,
        expected: "a date and time such as `2026-03-02T09:00:00Z`",
    })
}

/// An optional RFC 3339 moment.
pub fn optional_moment(
    field: &'static str,
    text: Option<&str>,
) -> Result<Option<OffsetDateTime>, DomainError> {
    text.map(|t| moment(field, t)).transpose()
}

/// A calendar date such as `1980-02-29`.
pub fn date(field: &'static str, text: &str) -> Result<Date, DomainError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(text.trim(), &format).map_err(|_| DomainError::BadFormat {
        field,
        expected: "a date such as `1980-02-29`",
    })
}

/// A list of purpose codes; unknown codes are refused (C1).
/// A use of a recording's content as asked: the purpose is required (X1); a study, for
/// research, is optional (C10). Without a purpose it is a 400 naming the field.
pub fn use_asked(
    recording: custodian_core::ids::RecordingId,
    purpose: Option<&str>,
    study: Option<&str>,
) -> Result<custodian_app::uses::UseAsked, crate::error::ApiError> {
    let purpose = match purpose.map(str::trim) {
        Some(code) if !code.is_empty() => custodian_core::purpose::Purpose::parse(code)?,
        _ => {
            return Err(crate::error::ApiError::missing(
                "purpose",
                "use.purpose_missing",
                "say what the recording is used for: send `purpose` with a purpose code such as `clinical` (the same codes the decision takes); nothing is used without one (X1)",
            ));
        }
    };
    let study = match study.map(str::trim) {
        Some(study) if !study.is_empty() => {
            Some(custodian_core::consent::EthicsReference::parse(study)?)
        }
        _ => None,
    };
    Ok(custodian_app::uses::UseAsked {
        recording,
        purpose,
        study,
    })
}

pub fn purposes(codes: &[String]) -> Result<PurposeSet, DomainError> {
    PurposeSet::parse(codes.iter().map(String::as_str))
}

/// A list of purpose codes that may be empty.
pub fn purposes_or_none(codes: &[String]) -> Result<PurposeSet, DomainError> {
    let mut set = PurposeSet::EMPTY;
    for code in codes {
        set.insert(Purpose::parse(code)?);
    }
    Ok(set)
}

/// An optional short text; blank counts as absent.
pub fn optional_short(
    field: &'static str,
    text: Option<&str>,
) -> Result<Option<ShortText>, DomainError> {
    match text {
        Some(t) if !t.trim().is_empty() => ShortText::parse(field, t).map(Some),
        _ => Ok(None),
    }
}

/// An optional note; blank counts as absent.
pub fn optional_note(field: &'static str, text: Option<&str>) -> Result<Option<Note>, DomainError> {
    custodian_core::text::optional_note(field, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_and_dates_name_their_field_when_malformed() {
        assert!(moment("signed_at", "2026-03-02T09:00:00Z").is_ok());
        assert!(moment("signed_at", "2026-03-02T10:00:00+01:00").is_ok());
        let error = moment("signed_at", "yesterday").unwrap_err();
        assert_eq!(error.field(), Some("signed_at"));
        assert!(date("date_of_birth", "1980-02-29").is_ok());
        assert!(date("date_of_birth", "1981-02-29").is_err());
    }
}
