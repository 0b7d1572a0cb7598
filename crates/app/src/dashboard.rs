//! What a member of staff needs to see first: today's sessions, who still has to say they are
//! willing (C5), and recordings with problems (R1, R6).

use custodian_core::ids::PersonId;
use custodian_core::recording::Recording;
use custodian_core::session::Session;
use time::{Duration, PrimitiveDateTime, Time};

use crate::accounts::Caller;
use crate::london::{from_london, in_london};
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
}

impl Custodian {
    /// The dashboard for the caller, as of now.
    pub async fn dashboard(&self, caller: &Caller) -> AppResult<Dashboard> {
        caller.ready()?;
        let now = self.clock.now();
        let today = in_london(now).date();
        let from = from_london(PrimitiveDateTime::new(today, Time::MIDNIGHT));
        let until = today.next_day().map_or(from + Duration::DAY, |tomorrow| {
            from_london(PrimitiveDateTime::new(tomorrow, Time::MIDNIGHT))
        });
        let mut tx = self.register.read().await?;
        let sessions = tx
            .sessions_started_by(caller.member.id, from, until)
            .await?;
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
        let since = now - PROBLEMS_SINCE;
        Ok(Dashboard {
            sessions_today,
            missing_media: tx
                .recordings_without_media_by(caller.member.id, since, LISTED)
                .await?,
            failed_integrity: tx.recordings_failing_integrity_since(since, LISTED).await?,
        })
    }
}
