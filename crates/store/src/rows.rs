//! Turning stored values back into domain values, through the same parsers as user input.

use custodian_core::DomainError;
use custodian_core::purpose::{Purpose, PurposeSet};
use custodian_core::text::{Note, ShortText};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::StoreError;

/// Parses stored text with a domain parser, reporting failure as corruption of `what`.
pub(crate) fn stored<T>(
    what: &'static str,
    parsed: Result<T, DomainError>,
) -> Result<T, StoreError> {
    parsed.map_err(|error| StoreError::corrupt(what, error))
}

pub(crate) fn short(what: &'static str, text: &str) -> Result<ShortText, StoreError> {
    stored(what, ShortText::parse(what, text))
}

pub(crate) fn note(what: &'static str, text: Option<&str>) -> Result<Option<Note>, StoreError> {
    text.map(|t| stored(what, Note::parse(what, t))).transpose()
}

pub(crate) fn short_opt(
    what: &'static str,
    text: Option<&str>,
) -> Result<Option<ShortText>, StoreError> {
    text.map(|t| short(what, t)).transpose()
}

/// A stored value that must be present because another column says so.
pub(crate) fn present<T>(what: &'static str, value: Option<T>) -> Result<T, StoreError> {
    value.ok_or_else(|| StoreError::corrupt(what, "missing"))
}

/// Collects `(owner, purpose)` rows into each owner's purpose set.
pub(crate) fn purposes_by_owner(
    rows: Vec<(Uuid, String)>,
) -> Result<Vec<(Uuid, PurposeSet)>, StoreError> {
    let mut sets: Vec<(Uuid, PurposeSet)> = Vec::new();
    for (owner, code) in rows {
        let purpose = stored("purpose", Purpose::parse(&code))?;
        match sets.iter_mut().find(|(id, _)| *id == owner) {
            Some((_, set)) => set.insert(purpose),
            None => sets.push((owner, PurposeSet::only(purpose))),
        }
    }
    Ok(sets)
}

/// The purpose set of `owner` among those collected.
pub(crate) fn purposes_of(sets: &[(Uuid, PurposeSet)], owner: Uuid) -> PurposeSet {
    sets.iter()
        .find(|(id, _)| *id == owner)
        .map_or(PurposeSet::EMPTY, |(_, set)| *set)
}

/// Which rows to read: those the register held at a moment (recorded at or before it), or all.
///
/// Queries filter with `($n IS NULL OR recorded_at <= $n)` bound to [`KnownBy::bound`], then keep
/// the rows [`KnownBy::holds`]. The bound is the whole second after the moment's own, not the
/// moment itself, because SQLite keeps moments as RFC 3339 text without the fraction's trailing
/// zeros, so text order is not time order within a second (`…09:00:00Z` sorts after
/// `…09:00:00.5Z`); against a whole second, text order is right for every stored moment. The
/// query then returns at most a second or two of rows too many, which the exact check drops.
#[derive(Clone, Copy, Debug)]
pub(crate) struct KnownBy(Option<OffsetDateTime>);

impl KnownBy {
    /// Every row, whenever it was recorded.
    pub(crate) const EVERYTHING: Self = Self(None);

    /// The rows recorded at or before `known_at`; every row when it is `None`.
    pub(crate) const fn as_of(known_at: Option<OffsetDateTime>) -> Self {
        Self(known_at)
    }

    /// The value to bind for `$n` in `($n IS NULL OR recorded_at <= $n)`.
    pub(crate) fn bound(self) -> Option<OffsetDateTime> {
        self.0.map(|known_at| {
            let utc = known_at.to_offset(time::UtcOffset::UTC);
            utc.replace_nanosecond(0)
                .unwrap_or(utc)
                .saturating_add(Duration::SECOND)
        })
    }

    /// Whether the register held a row recorded at `recorded_at`.
    pub(crate) fn holds(self, recorded_at: OffsetDateTime) -> bool {
        self.0.is_none_or(|known_at| recorded_at <= known_at)
    }
}

/// `INSERT INTO table (owner, value) VALUES ($1, $2), ($1, $3), …` for `count` values: one
/// statement instead of one per value. Only placeholders are generated; values are bound.
pub(crate) fn owned_values_sql(
    table: &'static str,
    owner: &'static str,
    value: &'static str,
    count: usize,
) -> String {
    let rows: Vec<String> = (0..count).map(|i| format!("($1, ${})", i + 2)).collect();
    format!(
        "INSERT INTO {table} ({owner}, {value}) VALUES {}",
        rows.join(", ")
    )
}
