//! The parts of an access request (who, what act, on what, in which circumstances) and how
//! they become a Cedar request with its entities.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;

use cedar_policy::{
    Context, Entities, Entity, EntityId, EntityTypeName, EntityUid, Request, RestrictedExpression,
};
use custodian_core::staff::Role;
use uuid::Uuid;

use crate::AccessError;

/// What an act is done to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResourceKind {
    Organisation,
    Person,
    Session,
    Recording,
}

macro_rules! actions {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal on $kind:ident; )+) => {
        /// Every act access is checked for; the codes are the schema's action names.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Action {
            $( $(#[$doc])* $variant, )+
        }

        impl Action {
            /// Every action, in the schema's order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The action's name in the schema and in policies.
            pub const fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $code,)+ }
            }

            /// What kind of resource the action applies to.
            pub const fn resource_kind(self) -> ResourceKind {
                match self { $(Self::$variant => ResourceKind::$kind,)+ }
            }
        }
    };
}

actions! {
    /// Search the register for people.
    FindPersons = "find_persons" on Organisation;
    /// Register a new person into one's services.
    RegisterPerson = "register_person" on Organisation;
    /// Set up and see courses of sessions.
    ManageCourses = "manage_courses" on Organisation;
    /// Declare a personal connection to someone (S3).
    DeclareConnection = "declare_connection" on Organisation;
    /// Read the audit trail.
    ReadAuditTrail = "read_audit_trail" on Organisation;
    /// Read the report of refused attempts and review emergency access (S5).
    OverseeAccess = "oversee_access" on Organisation;
    /// Create and change staff accounts.
    ManageAccounts = "manage_accounts" on Organisation;
    /// Propose changes to the organisation's own access policies.
    ManagePolicies = "manage_policies" on Organisation;
    /// Approve or reject a proposed change to the organisation's own access policies, which
    /// takes effect only then: a second person, not the one who proposed it.
    ApprovePolicies = "approve_policies" on Organisation;
    /// See the retention schedule: its rules, periods and sources (D4).
    ViewRetention = "view_retention" on Organisation;
    /// Change a retention rule's period (D4).
    ManageRetention = "manage_retention" on Organisation;
    /// See the disposal queue, review what is due, and carry out approved disposals (D2, D9).
    ReviewDisposal = "review_disposal" on Organisation;
    /// See legal holds (D7).
    ViewLegalHolds = "view_legal_holds" on Organisation;
    /// Place a legal hold for a matter (D7).
    PlaceLegalHold = "place_legal_hold" on Organisation;
    /// Lift a legal hold, with a reason (D7).
    LiftLegalHold = "lift_legal_hold" on Organisation;
    /// Register a physical medium holding recordings: a tape, a disc, a USB stick, a print (D9).
    RegisterPhysicalMedia = "register_physical_media" on Organisation;
    /// Record a physical medium's destruction (D9).
    DestroyPhysicalMedia = "destroy_physical_media" on Organisation;
    /// See a person's record: details, consents, sessions, recordings, history.
    ViewPerson = "view_person" on Person;
    /// Change a person's record: capacity, representatives.
    UpdatePerson = "update_person" on Person;
    /// Record or withdraw a person's consent.
    RecordConsent = "record_consent" on Person;
    /// Start a session with a person taking part.
    StartSession = "start_session" on Person;
    /// Make a recording of a person.
    MakeRecording = "make_recording" on Person;
    /// Add a person to another service's caseload.
    AssignService = "assign_service" on Person;
    /// Take emergency access to a person's record (S3).
    BreakGlass = "break_glass" on Person;
    /// See a session.
    ViewSession = "view_session" on Session;
    /// Run a session: still willing, stops, telling attendees.
    RunSession = "run_session" on Session;
    /// See a recording's details, history and decisions.
    ViewRecording = "view_recording" on Recording;
    /// Use a recording's content for a named purpose: play, download, derive from it (X1).
    PlayRecording = "play_recording" on Recording;
    /// Change a recording: derived items, confirmations.
    UpdateRecording = "update_recording" on Recording;
    /// Destroy a recording's media for good (D9).
    DestroyRecording = "destroy_recording" on Recording;
}

/// The member of staff asking.
#[derive(Clone, Copy, Debug)]
pub struct Principal<'a> {
    pub id: Uuid,
    pub roles: &'a [Role],
    pub services: &'a [&'a str],
}

/// What the act is done to, with the facts policies read.
#[derive(Clone, Copy, Debug)]
pub enum Resource<'a> {
    Organisation,
    Person {
        id: Uuid,
        services: &'a [&'a str],
    },
    Session {
        id: Uuid,
        services: &'a [&'a str],
    },
    Recording {
        id: Uuid,
        services: &'a [&'a str],
        purposes: &'a [&'a str],
        /// A de-identified copy (C11).
        de_identified: bool,
    },
}

impl Resource<'_> {
    /// Its kind.
    pub fn kind(&self) -> ResourceKind {
        match self {
            Self::Organisation => ResourceKind::Organisation,
            Self::Person { .. } => ResourceKind::Person,
            Self::Session { .. } => ResourceKind::Session,
            Self::Recording { .. } => ResourceKind::Recording,
        }
    }
}

/// What is known about the member of staff and the people concerned at the moment of asking.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Circumstances<'a> {
    /// They declared a personal connection to someone the resource concerns (S3).
    pub connected: bool,
    /// They hold emergency access to someone the resource concerns.
    pub emergency: bool,
    /// For a use of a recording's content (`play_recording`): the purpose it is for, as a
    /// purpose code. Such a use is never asked without one.
    pub purpose: Option<&'a str>,
    /// For a use of a recording's content: whether the consent decision allows it (X1).
    pub consented: bool,
}

/// Entity type names, parsed once.
#[derive(Debug)]
pub(crate) struct Names {
    staff: EntityTypeName,
    role: EntityTypeName,
    action: EntityTypeName,
    organisation: EntityTypeName,
    person: EntityTypeName,
    session: EntityTypeName,
    recording: EntityTypeName,
}

fn type_name(name: &str) -> Result<EntityTypeName, AccessError> {
    EntityTypeName::from_str(name).map_err(|error| AccessError::Shipped(error.to_string()))
}

fn strings(values: &[&str]) -> RestrictedExpression {
    RestrictedExpression::new_set(
        values
            .iter()
            .map(|value| RestrictedExpression::new_string((*value).to_owned())),
    )
}

impl Names {
    pub(crate) fn new() -> Result<Self, AccessError> {
        Ok(Self {
            staff: type_name("Custodian::Staff")?,
            role: type_name("Custodian::Role")?,
            action: type_name("Custodian::Action")?,
            organisation: type_name("Custodian::Organisation")?,
            person: type_name("Custodian::Person")?,
            session: type_name("Custodian::Session")?,
            recording: type_name("Custodian::Recording")?,
        })
    }

    fn uid(name: &EntityTypeName, id: &str) -> EntityUid {
        EntityUid::from_type_name_and_id(name.clone(), EntityId::new(id))
    }

    /// The Cedar request and the two entities it needs: the principal (with its roles as
    /// parents) and the resource.
    pub(crate) fn request(
        &self,
        principal: &Principal<'_>,
        action: Action,
        resource: &Resource<'_>,
        circumstances: Circumstances<'_>,
    ) -> Result<(Request, Entities), AccessError> {
        let failed = |error: &dyn std::fmt::Display| AccessError::Request(error.to_string());
        let principal_uid = Self::uid(&self.staff, &principal.id.to_string());
        let roles: HashSet<EntityUid> = principal
            .roles
            .iter()
            .map(|role| Self::uid(&self.role, role.as_str()))
            .collect();
        let staff = Entity::new(
            principal_uid.clone(),
            HashMap::from([("services".to_owned(), strings(principal.services))]),
            roles,
        )
        .map_err(|e| failed(&e))?;
        let (resource_uid, resource_entity) = match resource {
            Resource::Organisation => {
                let uid = Self::uid(&self.organisation, "local");
                (uid.clone(), Entity::new_no_attrs(uid, HashSet::new()))
            }
            Resource::Person { id, services } | Resource::Session { id, services } => {
                let name = if resource.kind() == ResourceKind::Person {
                    &self.person
                } else {
                    &self.session
                };
                let uid = Self::uid(name, &id.to_string());
                let entity = Entity::new(
                    uid.clone(),
                    HashMap::from([("services".to_owned(), strings(services))]),
                    HashSet::new(),
                )
                .map_err(|e| failed(&e))?;
                (uid, entity)
            }
            Resource::Recording {
                id,
                services,
                purposes,
                de_identified,
            } => {
                let uid = Self::uid(&self.recording, &id.to_string());
                let entity = Entity::new(
                    uid.clone(),
                    HashMap::from([
                        ("services".to_owned(), strings(services)),
                        ("purposes".to_owned(), strings(purposes)),
                        (
                            "de_identified".to_owned(),
                            RestrictedExpression::new_bool(*de_identified),
                        ),
                    ]),
                    HashSet::new(),
                )
                .map_err(|e| failed(&e))?;
                (uid, entity)
            }
        };
        let mut context = vec![
            (
                "connected".to_owned(),
                RestrictedExpression::new_bool(circumstances.connected),
            ),
            (
                "emergency".to_owned(),
                RestrictedExpression::new_bool(circumstances.emergency),
            ),
        ];
        if action == Action::PlayRecording {
            // A policy reading a missing attribute errs, and an erring forbid does not apply:
            // so a use is never put to the policies without its purpose.
            let purpose = circumstances.purpose.ok_or_else(|| {
                AccessError::Request(
                    "a use of a recording's content is asked with the purpose it is for".to_owned(),
                )
            })?;
            context.push((
                "purpose".to_owned(),
                RestrictedExpression::new_string(purpose.to_owned()),
            ));
            context.push((
                "consented".to_owned(),
                RestrictedExpression::new_bool(circumstances.consented),
            ));
        }
        let context = Context::from_pairs(context).map_err(|e| failed(&e))?;
        let request = Request::new(
            principal_uid,
            Self::uid(&self.action, action.as_str()),
            resource_uid,
            context,
            None,
        )
        .map_err(|e| failed(&e))?;
        // Staff belong only to roles and roles to nothing, so the hierarchy is closed as built.
        // Cedar's public constructor would compute its transitive closure anyway, which was
        // more than half of the cost of building a request.
        let entities: Entities = cedar_policy_core::entities::Entities::from_entities(
            [staff, resource_entity].map(|entity| entity.as_ref().clone()),
            None::<&cedar_policy_core::entities::NoEntitiesSchema>,
            cedar_policy_core::entities::TCComputation::AssumeAlreadyComputed,
            cedar_policy_core::extensions::Extensions::none(),
        )
        .map_err(|e| failed(&e))?
        .into();
        Ok((request, entities))
    }
}
