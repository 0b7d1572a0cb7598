//! Grants to use a recording's content (X1): what a grant binds, how long it lasts, and the
//! checks every request made under one must pass.
//!
//! A use of content is decided once — access and consent, for a named purpose — and the
//! decision yields a grant. The byte-range requests of playing a long video are then let
//! through under the grant without deciding again, as long as they come from the same member of
//! staff, for the same recording and purpose, before it expires and while no change has
//! revoked it. Revocation is a fact recorded against the grant, not a timer.

use time::{Duration, OffsetDateTime};

use crate::clock::Shown;
use crate::ids::{RecordingId, StaffId, UseGrantId};
use crate::purpose::Purpose;

/// A grant to use one recording's content for one purpose.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UseGrant {
    pub id: UseGrantId,
    pub staff_id: StaffId,
    pub recording_id: RecordingId,
    pub purpose: Purpose,
    pub issued_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub revoked: Option<Revocation>,
}

/// Why and when a grant stopped before its time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revocation {
    pub at: OffsetDateTime,
    /// What changed, in words staff read: "consent was withdrawn".
    pub because: String,
}

/// What a request under a grant asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnderGrant {
    pub staff_id: StaffId,
    pub recording_id: RecordingId,
    pub purpose: Purpose,
    pub at: OffsetDateTime,
}

/// Why a request under a grant is refused. Nothing is served for any of them.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GrantRefusal {
    #[error(
        "the grant is not one Custodian issued (or it was for another server's register); open the recording again without a grant to ask afresh"
    )]
    Unknown,

    #[error(
        "the grant was issued to another member of staff and lets only its holder use the recording; open the recording yourself to be asked afresh"
    )]
    NotYours,

    #[error(
        "the grant is for another recording; open this recording without a grant to ask for one"
    )]
    OtherRecording,

    #[error(
        "the grant is for use for {granted}, not {asked}; open the recording again naming the purpose you are using it for"
    )]
    OtherPurpose { granted: Purpose, asked: Purpose },

    #[error(
        "the grant expired at {at}; grants last {minutes} minutes: open the recording again to ask afresh",
        minutes = UseGrant::LIFETIME.whole_minutes()
    )]
    Expired { at: Shown },

    #[error(
        "the grant was withdrawn at {at} because {because}; open the recording again: it will be decided afresh"
    )]
    Revoked { at: Shown, because: String },
}

impl GrantRefusal {
    /// A stable code for clients.
    pub const fn code(&self) -> &'static str {
        match self {
            Self::Unknown => "grant.unknown",
            Self::NotYours => "grant.not_yours",
            Self::OtherRecording => "grant.other_recording",
            Self::OtherPurpose { .. } => "grant.other_purpose",
            Self::Expired { .. } => "grant.expired",
            Self::Revoked { .. } => "grant.revoked",
        }
    }
}

impl UseGrant {
    /// How long a grant lasts at most: long enough to watch a session's video through, short
    /// enough that a grant is never a standing permission.
    pub const LIFETIME: Duration = Duration::minutes(15);

    /// A grant issued at `at` for `asked`, lasting [`Self::LIFETIME`] or until `not_after`
    /// (the end of the emergency access it rests on), whichever is sooner.
    pub fn issue(id: UseGrantId, asked: UnderGrant, not_after: Option<OffsetDateTime>) -> Self {
        let lifetime_ends = asked.at + Self::LIFETIME;
        Self {
            id,
            staff_id: asked.staff_id,
            recording_id: asked.recording_id,
            purpose: asked.purpose,
            issued_at: asked.at,
            expires_at: not_after.map_or(lifetime_ends, |end| end.min(lifetime_ends)),
            revoked: None,
        }
    }

    /// Whether a request for `asked` may go through under this grant. The holder, the
    /// recording and the purpose must be the grant's; it must not have expired or been revoked.
    pub fn admits(&self, asked: &UnderGrant) -> Result<(), GrantRefusal> {
        if asked.staff_id != self.staff_id {
            return Err(GrantRefusal::NotYours);
        }
        if asked.recording_id != self.recording_id {
            return Err(GrantRefusal::OtherRecording);
        }
        if asked.purpose != self.purpose {
            return Err(GrantRefusal::OtherPurpose {
                granted: self.purpose,
                asked: asked.purpose,
            });
        }
        if let Some(revoked) = self.revoked.as_ref().filter(|r| r.at <= asked.at) {
            return Err(GrantRefusal::Revoked {
                at: Shown(revoked.at),
                because: revoked.because.clone(),
            });
        }
        if asked.at >= self.expires_at {
            return Err(GrantRefusal::Expired {
                at: Shown(self.expires_at),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use time::macros::datetime;
    use uuid::Uuid;

    use super::*;

    const NOON: OffsetDateTime = datetime!(2026-12-07 12:00 UTC);

    fn asked(staff: u128, recording: u128, purpose: Purpose, at: OffsetDateTime) -> UnderGrant {
        UnderGrant {
            staff_id: StaffId::from_uuid(Uuid::from_u128(staff)),
            recording_id: RecordingId::from_uuid(Uuid::from_u128(recording)),
            purpose,
            at,
        }
    }

    fn grant(not_after: Option<OffsetDateTime>) -> UseGrant {
        UseGrant::issue(
            UseGrantId::from_uuid(Uuid::from_u128(9)),
            asked(1, 2, Purpose::Clinical, NOON),
            not_after,
        )
    }

    #[test]
    fn x1_a_grant_admits_its_holder_for_its_recording_and_purpose_until_it_expires() {
        let grant = grant(None);
        assert_eq!(grant.expires_at, NOON + UseGrant::LIFETIME);
        assert_eq!(grant.admits(&asked(1, 2, Purpose::Clinical, NOON)), Ok(()));
        assert_eq!(
            grant.admits(&asked(3, 2, Purpose::Clinical, NOON)),
            Err(GrantRefusal::NotYours)
        );
        assert_eq!(
            grant.admits(&asked(1, 4, Purpose::Clinical, NOON)),
            Err(GrantRefusal::OtherRecording)
        );
        assert_eq!(
            grant
                .admits(&asked(1, 2, Purpose::Teaching, NOON))
                .map_err(|r| r.code()),
            Err("grant.other_purpose")
        );
        assert_eq!(
            grant
                .admits(&asked(1, 2, Purpose::Clinical, grant.expires_at))
                .map_err(|r| r.code()),
            Err("grant.expired")
        );
    }

    #[test]
    fn s3_a_grant_resting_on_emergency_access_ends_with_it() {
        let ends = NOON + Duration::minutes(4);
        let grant = grant(Some(ends));
        assert_eq!(grant.expires_at, ends);
        assert!(grant.admits(&asked(1, 2, Purpose::Clinical, ends)).is_err());
    }

    #[test]
    fn x1_a_revoked_grant_admits_nothing_after_the_revocation_and_says_why() {
        let mut grant = grant(None);
        grant.revoked = Some(Revocation {
            at: NOON + Duration::minutes(1),
            because: "consent was withdrawn".to_owned(),
        });
        assert_eq!(grant.admits(&asked(1, 2, Purpose::Clinical, NOON)), Ok(()));
        let refusal = grant
            .admits(&asked(1, 2, Purpose::Clinical, NOON + Duration::minutes(2)))
            .unwrap_err();
        assert_eq!(refusal.code(), "grant.revoked");
        assert!(refusal.to_string().contains("consent was withdrawn"));
    }

    proptest! {
        /// X1: a grant admits a request exactly when every one of its bindings holds.
        #[test]
        fn x1_a_grant_admits_only_what_it_binds(
            staff in 1u128..3, recording in 1u128..3, purpose in 0usize..Purpose::ALL.len(),
            minutes in -5i64..30, revoked_after in proptest::option::of(0i64..20),
        ) {
            let purpose = Purpose::ALL.get(purpose).copied().unwrap_or(Purpose::Clinical);
            let mut grant = grant(None);
            grant.revoked = revoked_after.map(|m| Revocation {
                at: NOON + Duration::minutes(m),
                because: "a stop chose deletion".to_owned(),
            });
            let at = NOON + Duration::minutes(minutes);
            let admitted = grant.admits(&asked(staff, recording, purpose, at)).is_ok();
            let binds = staff == 1 && recording == 2 && purpose == Purpose::Clinical
                && at < grant.expires_at
                && revoked_after.is_none_or(|m| at < NOON + Duration::minutes(m));
            prop_assert_eq!(admitted, binds);
        }
    }
}
