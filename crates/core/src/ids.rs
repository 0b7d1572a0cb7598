//! Typed identifiers, so a consent id can never be passed where a person id is expected.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! identifier {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, format = Uuid))]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// Wraps an existing UUID (the application layer mints new ones as v7).
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// The underlying UUID.
            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        /// Orders like the UUID's bytes, compared as one big-endian integer: the same order as
        /// `Uuid`'s, but two instructions instead of a byte loop, which matters in the decision function.
        impl Ord for $name {
            fn cmp(&self, other: &Self) -> std::cmp::Ordering {
                self.0.as_u128().cmp(&other.0.as_u128())
            }
        }

        impl PartialOrd for $name {
            fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl From<Uuid> for $name {
            fn from(uuid: Uuid) -> Self {
                Self(uuid)
            }
        }
    };
}

identifier!(
    /// A person who can appear in a recording: service user, patient, relative, member of staff.
    PersonId
);
identifier!(
    /// A representative of a person: next of kin, attorney, delegated person, parent.
    RepresentativeId
);
identifier!(
    /// One consent form (given or refused) for one person.
    ConsentId
);
identifier!(
    /// One withdrawal of a consent.
    WithdrawalId
);
identifier!(
    /// A course of sessions covered by one consent form (C5).
    CourseId
);
identifier!(
    /// A session or meeting: therapy, family, group, case conference, staff meeting.
    SessionId
);
identifier!(
    /// A "still willing to be recorded today?" answer within a course (C5).
    ConfirmationId
);
identifier!(
    /// A stop or pause during a session with the person's choice (C9).
    StopId
);
identifier!(
    /// A registered recording: photograph, audio, video or other.
    RecordingId
);
identifier!(
    /// A member of staff who uses Custodian.
    StaffId
);
identifier!(
    /// A legal hold on recordings or persons for one matter (D7).
    LegalHoldId
);
identifier!(
    /// A physical medium holding recordings: a tape, a disc, a USB stick, a print (D9).
    PhysicalMediumId
);
identifier!(
    /// A grant to use one recording's content for one purpose, for a few minutes (X1).
    UseGrantId
);
identifier!(
    /// An event in the audit trail.
    AuditEventId
);

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn identifiers_order_exactly_like_their_uuids(a in any::<[u8; 16]>(), b in any::<[u8; 16]>()) {
            let (ua, ub) = (Uuid::from_bytes(a), Uuid::from_bytes(b));
            prop_assert_eq!(PersonId::from_uuid(ua).cmp(&PersonId::from_uuid(ub)), ua.cmp(&ub));
        }
    }
}
