//! Reading the disposal queue (D2, D7): its four parts a page at a time, in due order, from the
//! stored states, so a register of millions answers as fast as one of dozens.

use std::fmt;
use std::str::FromStr;

use custodian_access::Action;
use custodian_core::DomainError;
use custodian_core::clock::utc_day;
use custodian_core::ids::{PersonId, RecordingId};
use custodian_core::recording::Recording;
use custodian_core::retention::{HoldRef, HoldScope, LegalHold, QueueBucket, QueueSection};
use custodian_store::{DueRange, QueueKey, RegisterTx, StoredDisposal};
use serde::Serialize;
use time::macros::format_description;
use time::{Date, Duration, OffsetDateTime};
use uuid::Uuid;

use crate::access::Target;
use crate::accounts::Caller;
use crate::retention::disposals::{HOLDERS, RULE, live_recording};
use crate::retention::{every_standing_hold, holds_over, name_the_rule};
use crate::{AppError, AppResult, Custodian};

/// One recording in the queue.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QueuedDisposal {
    pub recording_id: RecordingId,
    /// `photograph`, `audio` or `video`, and when it was made: to say which recording it is.
    pub recording_kind: String,
    #[serde(with = "time::serde::rfc3339")]
    pub made_at: OffsetDateTime,
    /// `due_now`, `within_30_days`, `within_60_days`, `within_90_days`, `later`, `waiting` or `held`.
    pub bucket: String,
    pub due_on: Option<Date>,
    pub action: String,
    pub rule: Option<String>,
    pub reason: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub held_by: Vec<HoldRef>,
    /// Whether a records manager has approved it and it waits to be carried out.
    pub approved: bool,
}

/// The disposal queue, a page of each part: due now, due within the days asked, held, and
/// waiting for a trigger.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DisposalQueue {
    /// Today, as the queue was worked out (UTC).
    pub today: Date,
    pub within_days: u32,
    pub due_now: Vec<QueuedDisposal>,
    pub due_within: Vec<QueuedDisposal>,
    /// Due (now or within the days asked) or waiting, but under a legal hold (D7).
    pub held: Vec<QueuedDisposal>,
    pub waiting: Vec<QueuedDisposal>,
    /// Where each part goes on: ask again with `section` and this as `after`.
    pub next: NextPages,
    /// How long each part was at the last sweep; `null` before the first. Counting millions of
    /// rows on every page would cost more than the page.
    pub at_last_sweep: Option<QueueCounts>,
}

/// How many recordings the last sweep found in each part of the queue.
#[derive(Clone, Copy, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QueueCounts {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub due_now: i64,
    pub due_within_90_days: i64,
    /// Due after 90 days.
    pub later: i64,
    pub waiting: i64,
    pub held: i64,
}

/// For each part of the queue, where its next page starts; absent when nothing more is there.
#[derive(Clone, Debug, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NextPages {
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub due_now: Option<QueueCursor>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub due_within: Option<QueueCursor>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub held: Option<QueueCursor>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub waiting: Option<QueueCursor>,
}

/// Which page of the queue to read.
#[derive(Clone, Copy, Debug)]
pub struct QueueRequest {
    /// 30, 60 or 90.
    pub within_days: u32,
    /// One part only, from after `after`; every part from its start when `None`.
    pub section: Option<QueueSection>,
    pub after: Option<QueueCursor>,
    /// The most recordings each part shows, 1 to [`LARGEST_QUEUE_PAGE`].
    pub limit: u32,
}

impl QueueRequest {
    /// The first page of every part, as most pages show it.
    pub fn first(within_days: u32) -> Self {
        Self {
            within_days,
            section: None,
            after: None,
            limit: QUEUE_PAGE,
        }
    }
}

/// The windows the queue may be asked for.
pub const QUEUE_WINDOWS: [u32; 3] = [30, 60, 90];
/// How many recordings a part of the queue shows unless asked for another number.
pub const QUEUE_PAGE: u32 = 100;
/// The most a page may be asked to hold.
pub const LARGEST_QUEUE_PAGE: u32 = 500;

/// Where a page of the queue stopped: the last recording shown and its due date.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueCursor(QueueKey);

const CURSOR_DATE: &[time::format_description::BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]");
/// The date part of a cursor for a recording waiting for a trigger.
const UNDATED: &str = "waiting";
const CURSOR_FORM: &str = "the `next` value a page of the queue gave: a due date (YYYY-MM-DD) or `waiting`, `_`, and a recording id";

impl fmt::Display for QueueCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let id = self.0.recording_id.0;
        match self.0.due_on.and_then(|due| due.format(CURSOR_DATE).ok()) {
            Some(due) => write!(f, "{due}_{id}"),
            None => write!(f, "{UNDATED}_{id}"),
        }
    }
}

impl FromStr for QueueCursor {
    type Err = DomainError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let bad = || DomainError::BadFormat {
            field: "after",
            expected: CURSOR_FORM,
        };
        let (due, id) = input.trim().split_once('_').ok_or_else(bad)?;
        let id = Uuid::parse_str(id).map_err(|_| bad())?;
        let due_on = match due {
            UNDATED => None,
            date => Some(Date::parse(date, CURSOR_DATE).map_err(|_| bad())?),
        };
        Ok(Self(QueueKey::new(due_on, RecordingId::from_uuid(id))))
    }
}

impl Serialize for QueueCursor {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl Custodian {
    /// A page of the disposal queue (D2): recordings due now, due within `within_days` (30, 60
    /// or 90), held, and waiting, each part in due order. Read from the stored states a page at
    /// a time: a query, not a recalculation, however many recordings are due. Records managers only.
    pub async fn disposal_queue(
        &self,
        caller: &Caller,
        request: QueueRequest,
    ) -> AppResult<DisposalQueue> {
        self.authorize(caller, Action::ReviewDisposal, Target::Organisation)
            .await
            .map_err(|e| name_the_rule(e, &[RULE], HOLDERS, "review disposals"))?;
        check(&request)?;
        let today = utc_day(self.clock.now());
        let due_by = today.saturating_add(Duration::days(i64::from(request.within_days)));
        let mut tx = self.register.read().await?;
        let holds = every_standing_hold(&mut tx).await?;
        let mut queue = DisposalQueue {
            today,
            within_days: request.within_days,
            due_now: Vec::new(),
            due_within: Vec::new(),
            held: Vec::new(),
            waiting: Vec::new(),
            next: NextPages::default(),
            at_last_sweep: tx
                .last_sweep_counts()
                .await?
                .map(|(at, counts)| QueueCounts {
                    at,
                    due_now: counts.due_now,
                    due_within_90_days: counts.due_within_90_days,
                    later: counts.later,
                    waiting: counts.waiting,
                    held: counts.held,
                }),
        };
        let page = Page {
            holds: &holds,
            today,
            after: request.after.map(|cursor| cursor.0),
            limit: request.limit,
        };
        for &section in QueueSection::ALL {
            if request.section.is_some_and(|asked| asked != section) {
                continue;
            }
            let (entries, next) = match section {
                QueueSection::DueNow => page.unheld(&mut tx, DueRange::Through(today)).await?,
                QueueSection::DueWithin => {
                    let range = DueRange::Between {
                        after: today,
                        through: due_by,
                    };
                    page.unheld(&mut tx, range).await?
                }
                QueueSection::Waiting => page.unheld(&mut tx, DueRange::Waiting).await?,
                QueueSection::Held => page.held(&mut tx, due_by).await?,
            };
            let (shown, next_page) = match section {
                QueueSection::DueNow => (&mut queue.due_now, &mut queue.next.due_now),
                QueueSection::DueWithin => (&mut queue.due_within, &mut queue.next.due_within),
                QueueSection::Held => (&mut queue.held, &mut queue.next.held),
                QueueSection::Waiting => (&mut queue.waiting, &mut queue.next.waiting),
            };
            *shown = entries;
            *next_page = next;
        }
        tx.rollback().await?;
        Ok(queue)
    }

    /// One recording's place in the disposal queue, for its review page. Records managers only.
    pub async fn queued_disposal(
        &self,
        caller: &Caller,
        id: RecordingId,
    ) -> AppResult<QueuedDisposal> {
        self.authorize(caller, Action::ReviewDisposal, Target::Organisation)
            .await
            .map_err(|e| name_the_rule(e, &[RULE], HOLDERS, "review disposals"))?;
        let today = utc_day(self.clock.now());
        let mut tx = self.register.read().await?;
        let recording = live_recording(&mut tx, id).await?;
        let row = tx
            .disposal(id)
            .await?
            .ok_or_else(|| AppError::not_found("disposal state of recording", id))?;
        let held_by = holds_over(&mut tx, &recording).await?;
        let entry = queued(&mut tx, &recording, row, today, held_by).await?;
        tx.rollback().await?;
        Ok(entry)
    }
}

/// A window the queue offers, a page size it allows, and a cursor only with its part.
fn check(request: &QueueRequest) -> AppResult<()> {
    if !QUEUE_WINDOWS.contains(&request.within_days) {
        return Err(AppError::Invalid(DomainError::UnknownValue {
            what: "queue window",
            input: request.within_days.to_string(),
            known: "30, 60, 90".to_owned(),
        }));
    }
    if !(1..=LARGEST_QUEUE_PAGE).contains(&request.limit) {
        return Err(AppError::Invalid(DomainError::UnknownValue {
            what: "page size",
            input: request.limit.to_string(),
            known: format!("a number from 1 to {LARGEST_QUEUE_PAGE}"),
        }));
    }
    if request.after.is_some() && request.section.is_none() {
        return Err(AppError::Invalid(DomainError::BadFormat {
            field: "after",
            expected: "given with `section`: the part of the queue it continues",
        }));
    }
    Ok(())
}

/// Reading one page of one part of the queue.
struct Page<'a> {
    holds: &'a [LegalHold],
    today: Date,
    after: Option<QueueKey>,
    limit: u32,
}

impl Page<'_> {
    /// The recordings in `range` that no hold reaches, a page of them. Those held are passed
    /// over: they are shown in the held part.
    async fn unheld(
        &self,
        tx: &mut RegisterTx,
        range: DueRange,
    ) -> AppResult<(Vec<QueuedDisposal>, Option<QueueCursor>)> {
        let wanted = self.limit as usize + 1;
        let mut entries = Vec::with_capacity(wanted);
        let mut from = self.after;
        loop {
            let rows = tx.disposals_page(range, from, self.limit + 1).await?;
            let read_all = rows.len() < wanted;
            for row in rows {
                from = Some(QueueKey::new(row.due_on, row.recording_id.0));
                let Some(recording) = tx.recording(row.recording_id.0).await? else {
                    continue;
                };
                if HoldScope::of(&recording).may_destroy(self.holds).is_err() {
                    continue;
                }
                entries.push(queued(tx, &recording, row, self.today, Vec::new()).await?);
                if entries.len() == wanted {
                    break;
                }
            }
            if read_all || entries.len() == wanted {
                return Ok(self.with_next(entries));
            }
        }
    }

    /// The recordings a standing hold reaches that are due by `due_by` or waiting, a page of them.
    async fn held(
        &self,
        tx: &mut RegisterTx,
        due_by: Date,
    ) -> AppResult<(Vec<QueuedDisposal>, Option<QueueCursor>)> {
        let wanted = self.limit as usize + 1;
        let mut entries = Vec::with_capacity(wanted);
        let recordings: Vec<RecordingId> = self
            .holds
            .iter()
            .flat_map(|hold| hold.recordings.iter().copied())
            .collect();
        let persons: Vec<PersonId> = self
            .holds
            .iter()
            .flat_map(|hold| hold.persons.iter().copied())
            .collect();
        let keys = tx.queue_keys_reached(&recordings, &persons, due_by).await?;
        for key in keys {
            if self.after.is_some_and(|after| key <= after) {
                continue;
            }
            let id = key.recording_id.0;
            let (Some(recording), Some(row)) = (tx.recording(id).await?, tx.disposal(id).await?)
            else {
                continue;
            };
            let Err(held) = HoldScope::of(&recording).may_destroy(self.holds) else {
                continue;
            };
            entries.push(queued(tx, &recording, row, self.today, held.holds).await?);
            if entries.len() == wanted {
                break;
            }
        }
        Ok(self.with_next(entries))
    }

    /// The page, and where the next one starts if one more than a page was found.
    fn with_next(
        &self,
        mut entries: Vec<QueuedDisposal>,
    ) -> (Vec<QueuedDisposal>, Option<QueueCursor>) {
        if entries.len() <= self.limit as usize {
            return (entries, None);
        }
        entries.truncate(self.limit as usize);
        let next = entries
            .last()
            .map(|last| QueueCursor(QueueKey::new(last.due_on, last.recording_id)));
        (entries, next)
    }
}

async fn queued(
    tx: &mut RegisterTx,
    recording: &Recording,
    row: StoredDisposal,
    today: Date,
    held_by: Vec<HoldRef>,
) -> AppResult<QueuedDisposal> {
    let bucket = if held_by.is_empty() {
        QueueBucket::of(row.due_on, today)
    } else {
        QueueBucket::Held
    };
    let approved = tx
        .disposal_reviews(recording.id)
        .await?
        .last()
        .is_some_and(|r| r.outcome == "approved" && r.carried_out_at.is_none());
    Ok(QueuedDisposal {
        recording_id: recording.id,
        recording_kind: recording.kind.as_str().to_owned(),
        made_at: recording.made_at,
        bucket: bucket.as_str().to_owned(),
        due_on: row.due_on,
        action: row.action,
        rule: row.governing_rule,
        reason: row.reason,
        held_by,
        approved,
    })
}
