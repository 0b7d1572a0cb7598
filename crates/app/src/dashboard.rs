//! What staff need to see first: their day (today's sessions, who still has to say they are
//! willing (C5), recordings with problems (R1, R6)), and a person at a glance.

use custodian_core::ids::PersonId;
use custodian_core::recording::Recording;
use custodian_core::session::Session;
use time::{Duration, PrimitiveDateTime, Time};

use crate::accounts::Caller;
use crate::consents::ConsentHistory;
use crate::london::{from_london, in_london};
use crate::persons::PersonRecord;
use crate::{AppResult, Custodian};

/// How far back the dashboard looks for recordings with problems.
const PROBLEMS_SINCE: Duration = Duration::days(30);
/// How many of each problem the dashboard lists.
const LISTED: u32 = 20;

/// A session of today with the participants not yet asked "still willing today?".
#[derive(Clone, Debug)]
pub struct TodaysSession {
    pub session: Session,
    pub not_yet_asked: Vec<PersonId>,
}

/// The signed-in member of staff's dashboard.
#[derive(Clone, Debug)]
pub struct Dashboard {
    /// Sessions they started that begin today on a UK clock, earliest first.
    pub sessions_today: Vec<TodaysSession>,
    /// Their recordings of the last 30 days whose media never arrived.
    pub missing_media: Vec<Recording>,
    /// Recordings whose media failed an integrity check in the last 30 days.
    pub failed_integrity: Vec<Recording>,
    /// Recordings they uploaded in the last 30 days whose capture device's copy is not yet
    /// confirmed deleted (R8).
    pub device_copy_to_delete: Vec<Recording>,
    /// Emergency access waiting for review, for those who oversee access (S3, S5).
    pub emergency_to_review: Vec<custodian_store::EmergencyAccess>,
    /// Whether their role lets them search for people (an administrator's or auditor's does not),
    /// so the page offers only what they may do.
    pub may_find_persons: bool,
}

/// A person at a glance: who they are, their consents, their latest
/// sessions and recordings, and what is due today.
#[derive(Clone, Debug)]
pub struct PersonOverview {
    pub record: PersonRecord,
    pub history: ConsentHistory,
    pub sessions: Vec<Session>,
    pub recordings: Vec<Recording>,
    /// Today's sessions in which they have not yet been asked "still willing today?" (C5).
    pub not_yet_asked: Vec<Session>,
}

/// Today on a UK clock, as the moments it starts and ends.
fn today(now: time::OffsetDateTime) -> (time::OffsetDateTime, time::OffsetDateTime) {
    let today = in_london(now).date();
    let from = from_london(PrimitiveDateTime::new(today, Time::MIDNIGHT));
    let until = today.next_day().map_or(from + Duration::DAY, |tomorrow| {
        from_london(PrimitiveDateTime::new(tomorrow, Time::MIDNIGHT))
    });
    (from, until)
}

impl Custodian {
    /// A person at a glance, with the latest `latest` sessions and recordings.
    pub async fn person_overview(
        &self,
        caller: &Caller,
        person: PersonId,
        latest: u32,
    ) -> AppResult<PersonOverview> {
        let found = self
            .read_person(caller, custodian_access::Action::ViewPerson, person)
            .await?;
        let (from, until) = today(self.clock.now());
        let mut tx = self.register.read().await?;
        let record = PersonRecord {
            representatives: tx.representatives_of(person).await?,
            person: found,
        };
        let history = ConsentHistory {
            consents: tx.consents_of(person).await?,
            withdrawals: tx.withdrawals_of(person).await?,
        };
        let recordings = tx.latest_recordings_of(person, latest).await?;
        let sessions = tx.latest_sessions_of(person, latest).await?;
        drop(tx);
        let sessions = self.visible_sessions(caller, sessions).await?;
        let recordings = self.visible_recordings(caller, recordings).await?;
        let mut tx = self.register.read().await?;
        let mut not_yet_asked = Vec::new();
        for session in sessions
            .iter()
            .filter(|s| s.starts_at >= from && s.starts_at < until)
        {
            let asked = tx
                .confirmations_in(session.id)
                .await?
                .iter()
                .any(|c| c.person_id == person);
            if !asked {
                not_yet_asked.push(session.clone());
            }
        }
        Ok(PersonOverview {
            recordings,
            record,
            history,
            sessions,
            not_yet_asked,
        })
    }

    /// The dashboard for the caller, as of now.
    pub async fn dashboard(&self, caller: &Caller) -> AppResult<Dashboard> {
        caller.ready()?;
        let now = self.clock.now();
        let (from, until) = today(now);
        let since = now - PROBLEMS_SINCE;
        let (sessions, missing_media, failed_integrity, device_copy_to_delete) = {
            let mut tx = self.register.read().await?;
            (
                tx.sessions_started_by(caller.member.id, from, until)
                    .await?,
                tx.recordings_without_media_by(caller.member.id, since, LISTED)
                    .await?,
                tx.recordings_failing_integrity_since(since, LISTED).await?,
                tx.recordings_awaiting_device_deletion_by(caller.member.id, since, LISTED)
                    .await?,
            )
        };
        // Each list holds only what the caller may see (S2, S3).
        let sessions = self.visible_sessions(caller, sessions).await?;
        let missing_media = self.visible_recordings(caller, missing_media).await?;
        let failed_integrity = self.visible_recordings(caller, failed_integrity).await?;
        let device_copy_to_delete = self
            .visible_recordings(caller, device_copy_to_delete)
            .await?;
        let emergency_to_review = if self
            .allows(
                caller,
                custodian_access::Action::OverseeAccess,
                crate::access::Target::Organisation,
            )
            .await?
        {
            let mut tx = self.register.read().await?;
            tx.emergency_access_to_review().await?
        } else {
            Vec::new()
        };
        let may_find_persons = self
            .allows(
                caller,
                custodian_access::Action::FindPersons,
                crate::access::Target::Organisation,
            )
            .await?;
        let mut tx = self.register.read().await?;
        let mut sessions_today = Vec::with_capacity(sessions.len());
        for session in sessions {
            let confirmations = tx.confirmations_in(session.id).await?;
            let not_yet_asked = session
                .participants
                .iter()
                .copied()
                .filter(|person| !confirmations.iter().any(|c| c.person_id == *person))
                .collect();
            sessions_today.push(TodaysSession {
                session,
                not_yet_asked,
            });
        }
        Ok(Dashboard {
            sessions_today,
            missing_media,
            failed_integrity,
            device_copy_to_delete,
            emergency_to_review,
            may_find_persons,
        })
    }
}
