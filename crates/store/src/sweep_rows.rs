//! The sweeper's queries and the rows they read, by position: each table read in one range query per batch.

use time::{Date, OffsetDateTime};
use uuid::Uuid;

/// Declares a row read by position: the struct with its fields in the query's column order, the
/// tuple sqlx decodes them into, and the conversion. Looking every column up by name cost the
/// sweep a twentieth of its time.
macro_rules! row_by_position {
    ($(#[$doc:meta])* struct $row:ident from $columns:ident { $($field:ident: $type:ty,)+ }) => {
        $(#[$doc])*
        pub(crate) struct $row {
            $(pub(crate) $field: $type,)+
        }

        pub(crate) type $columns = ($($type,)+);

        impl From<$columns> for $row {
            fn from(columns: $columns) -> Self {
                let ($($field,)+) = columns;
                Self { $($field,)+ }
            }
        }
    };
}

row_by_position! {
    /// A recording's row, in the columns of [`RECORDINGS`].
    struct RecordingRow from RecordingColumns {
        id: Uuid,
        made_at: OffsetDateTime,
        service: String,
        session_id: Option<Uuid>,
        source_id: Option<Uuid>,
        original_id: Option<Uuid>,
        derivation_kind: Option<String>,
        de_identified: bool,
    }
}

row_by_position! {
    /// A recording's retention row, in the columns of [`RETENTION`].
    struct RetentionRow from RetentionColumns {
        recording_id: Uuid,
        record_category: Option<String>,
        transcript_made_on: Option<Date>,
        found_no_longer_relevant_on: Option<Date>,
        superseded_on: Option<Date>,
        published_online: bool,
        deleted_at_stop_on: Option<Date>,
        source_destroyed_on: Option<Date>,
        state_digest: Option<i64>,
        computed_at: OffsetDateTime,
        noticed_due_on: Option<Date>,
    }
}

row_by_position! {
    /// A person in a recording, in the columns of [`SUBJECTS`].
    struct SubjectRow from SubjectColumns {
        recording_id: Uuid,
        person_id: Uuid,
        date_of_birth: Date,
        care_ended_on: Option<Date>,
        died_on: Option<Date>,
        left_service_on: Option<Date>,
        deletion_requested_on: Option<Date>,
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct WithdrawalRow {
    pub(crate) id: Uuid,
    pub(crate) person_id: Uuid,
    pub(crate) at: OffsetDateTime,
    pub(crate) existing_recordings: String,
    pub(crate) purpose: Option<String>,
    pub(crate) scope_kind: String,
    pub(crate) scope_service: Option<String>,
    pub(crate) scope_course_id: Option<Uuid>,
    pub(crate) scope_session_id: Option<Uuid>,
    pub(crate) scope_recording_id: Option<Uuid>,
}

/// The recordings' own query: ids after `$1` up to `$2`, in id order.
/// Every other table comes from a range query of its own, merged by id: joined here, a lookup
/// per recording cost SQLite more than reading the range (`docs/retention.md`, "How fast").
pub(crate) const RECORDINGS: &str =
    "SELECT r.id, r.made_at, r.service, r.session_id, r.source_id, r.original_id,
        r.derivation_kind, r.de_identified
     FROM recordings r WHERE r.id > $1 AND r.id <= $2 ORDER BY r.id";

pub(crate) const RETENTION: &str =
    "SELECT recording_id, record_category, transcript_made_on, found_no_longer_relevant_on,
        superseded_on, published_online, deleted_at_stop_on, source_destroyed_on, state_digest, computed_at, noticed_due_on
     FROM recording_retention WHERE recording_id > $1 AND recording_id <= $2 ORDER BY recording_id";

/// The batch's destroyed recordings, which the sweep leaves out.
pub(crate) const DESTROYED: &str = "SELECT recording_id FROM destructions
     WHERE recording_id > $1 AND recording_id <= $2 ORDER BY recording_id";

/// The id that ends a batch of `$2 + 1` recordings after `$1`, or the last id if fewer remain.
/// Destroyed recordings count too: a batch is a stretch of ids, and may hold fewer.
pub(crate) const BATCH_END: &str = "SELECT COALESCE(
        (SELECT id FROM recordings WHERE id > $1 ORDER BY id LIMIT 1 OFFSET $2),
        (SELECT id FROM recordings WHERE id > $1 ORDER BY id DESC LIMIT 1))";

pub(crate) const PURPOSES: &str = "SELECT recording_id, purpose FROM recording_purposes
     WHERE recording_id > $1 AND recording_id <= $2 ORDER BY recording_id";

/// The courses of the sessions the batch's recordings were made in.
pub(crate) const COURSES: &str = "SELECT s.id, s.course_id FROM sessions s
     WHERE s.course_id IS NOT NULL
       AND s.id IN (SELECT r.session_id FROM recordings r WHERE r.id > $1 AND r.id <= $2)";

pub(crate) const SUBJECTS: &str = "SELECT rs.recording_id, rs.person_id, p.date_of_birth,
        pr.care_ended_on, pr.died_on, pr.left_service_on, pr.deletion_requested_on
     FROM recording_subjects rs JOIN persons p ON p.id = rs.person_id
     LEFT JOIN person_retention pr ON pr.person_id = rs.person_id
     WHERE rs.recording_id > $1 AND rs.recording_id <= $2 ORDER BY rs.recording_id, rs.person_id";

/// A withdrawal's columns with its consent's scope; the condition follows.
pub(crate) const WITHDRAWAL_COLUMNS: &str =
    "SELECT w.id, w.person_id, w.at, w.existing_recordings, wp.purpose,
        c.scope_kind, c.scope_service, c.scope_course_id, c.scope_session_id, c.scope_recording_id
     FROM withdrawals w JOIN consents c ON c.id = w.consent_id
     LEFT JOIN withdrawal_purposes wp ON wp.withdrawal_id = w.id";

/// The condition of the batch's withdrawals: those of the people in its recordings.
pub(crate) const WITHDRAWALS_IN_BATCH: &str =
    "WHERE w.person_id IN (SELECT rs.person_id FROM recording_subjects rs
                           WHERE rs.recording_id > $1 AND rs.recording_id <= $2)
     ORDER BY w.person_id, w.at, w.id";

pub(crate) const EXTENSIONS: &str =
    "SELECT recording_id, extended_until, reason, reviewed_by, reviewed_at
     FROM disposal_reviews WHERE outcome = 'extended' AND recording_id > $1 AND recording_id <= $2
     ORDER BY recording_id, reviewed_at, id";
