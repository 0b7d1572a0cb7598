//! Every refusal a use case gives that is not a domain rule, declared once: its stable code, the kind of refusal (which the web layer turns into a status) and the requirement it enforces.

/// What kind of refusal a code is; the web layer gives each kind one HTTP status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefusalKind {
    /// It conflicts with what is already recorded (409).
    Conflict,
    /// What it asks for existed once and is gone for good (410).
    Gone,
    /// The caller is signed in but may not do this (403).
    Forbidden,
    /// The caller has too much under way; they may try again later (429).
    TooMuchUnderWay,
    /// The server has no room for now; anyone may try again later (507).
    NoRoom,
}

macro_rules! error_codes {
    ($(
        $(#[$doc:meta])*
        $name:ident = $code:literal, $kind:ident, $requirement:expr;
    )+) => {
        /// A refusal's stable code, as clients and the audit trail see it.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum ErrorCode {
            $($(#[$doc])* $name,)+
        }

        impl ErrorCode {
            /// Every code, for the registry's own checks.
            pub const ALL: &'static [Self] = &[$(Self::$name,)+];

            /// The stable code, such as `disposal.not_approved`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$name => $code,)+
                }
            }

            /// What kind of refusal it is.
            pub const fn kind(self) -> RefusalKind {
                match self {
                    $(Self::$name => RefusalKind::$kind,)+
                }
            }

            /// The requirement it enforces, if it enforces one rather than plain bookkeeping.
            pub const fn requirement(self) -> Option<&'static str> {
                match self {
                    $(Self::$name => $requirement,)+
                }
            }
        }
    };
}

error_codes! {
    /// Any destruction while a legal hold stands over the recording, its sources or a person in it.
    UnderLegalHold = "hold.under_legal_hold", Conflict, Some("D7");
    /// Lifting a hold already lifted.
    HoldAlreadyLifted = "hold.already_lifted", Conflict, Some("D7");
    /// Carrying out a disposal no records manager approved.
    DisposalNotApproved = "disposal.not_approved", Conflict, Some("D2");
    /// Carrying out, in Custodian, an approval to do something done by hand.
    DisposalNotADestruction = "disposal.not_a_destruction", Conflict, Some("D2");
    /// Carrying out an approval twice.
    DisposalAlreadyCarriedOut = "disposal.already_carried_out", Conflict, Some("D2");
    /// Marking a disposal task done twice.
    DisposalTaskAlreadyDone = "disposal_task.already_done", Conflict, Some("D2");
    /// Destroying a physical medium already destroyed.
    PhysicalMediaAlreadyDestroyed = "physical_media.already_destroyed", Conflict, Some("D9");
    /// Reading or destroying a recording whose media was destroyed.
    RecordingDestroyed = "recording.destroyed", Gone, Some("D9");
    /// Media of a different kind from the recording registered.
    MediaKindMismatch = "media.kind_mismatch", Conflict, Some("R1");
    /// An upload's bytes sent from another offset than the server holds.
    UploadOffsetMismatch = "upload.offset_mismatch", Conflict, None;
    /// An upload already receiving bytes on another request.
    UploadBusy = "upload.busy", Conflict, None;
    /// More unfinished uploads than one member may have.
    UploadTooManyUnfinished = "upload.too_many_unfinished", TooMuchUnderWay, None;
    /// A member's unfinished uploads declaring more bytes than one largest upload.
    UploadTooMuchUnfinished = "upload.too_much_unfinished", TooMuchUnderWay, None;
    /// More unfinished uploads than the server takes in all.
    UploadServerFull = "upload.server_full", NoRoom, None;
    /// Unfinished uploads that would not fit the staging disk.
    UploadDiskFull = "upload.disk_full", NoRoom, None;
    /// Emergency access asked for without a reason long enough to review.
    AccessReasonRequired = "access.reason_required", Conflict, Some("S3");
    /// An administrator approving their own access policy proposal.
    AccessOwnProposal = "access.own_proposal", Forbidden, Some("X6");
    /// A person registered twice.
    PersonAlreadyRegistered = "person.already_registered", Conflict, None;
    /// A person registered in another service, whom the caller cannot see.
    PersonRegisteredElsewhere = "person.registered_elsewhere", Conflict, Some("S2");
    /// Registering a person in a service the caller is not in.
    PersonNotYourService = "person.not_your_service", Conflict, Some("S2");
    /// Registering a person without naming a service, when the caller has several.
    PersonServiceRequired = "person.service_required", Conflict, Some("S2");
    /// Registering a person when the caller is in no service.
    PersonNoService = "person.no_service", Conflict, Some("S2");
    /// A consent scope that names no person.
    ConsentScopeWithoutPerson = "consent.scope_without_person", Conflict, None;
    /// A consent id already used.
    ConsentIdInUse = "consent.id_in_use", Conflict, None;
    /// A username already taken.
    StaffUsernameTaken = "staff.username_taken", Conflict, None;
    /// The first administrator's username taken by another account.
    StaffAdminUsernameTaken = "staff.admin_username_taken", Conflict, None;
    /// A clinical role without a service to work in.
    StaffServiceRequired = "staff.service_required", Conflict, Some("S2");
    /// Taking the last administrator's role away.
    StaffLastAdministrator = "staff.last_administrator", Conflict, None;
    /// A single sign-on subject already linked to another account.
    SsoSubjectTaken = "sso.subject_taken", Conflict, None;
    /// Single sign-on asked for where none is configured.
    SsoNotConfigured = "sso.not_configured", Conflict, None;
    /// Setting up an authenticator app already set up.
    AuthTotpAlreadyEnrolled = "auth.totp_already_enrolled", Conflict, None;
    /// Confirming an authenticator app not being set up.
    AuthTotpNotStarted = "auth.totp_not_started", Conflict, None;
    /// A password change whose current password is wrong.
    AuthWrongCurrentPassword = "auth.wrong_current_password", Forbidden, None;
    /// Anything but setting up an authenticator app, for an account that must have one.
    AuthTotpEnrolmentRequired = "auth.totp_enrolment_required", Forbidden, None;
    /// Anything but changing a one-time password.
    AuthPasswordChangeRequired = "auth.password_change_required", Forbidden, None;
    /// Changing the vault's key while it comes from the environment.
    VaultKeyFromEnvironment = "vault.key_from_environment", Conflict, None;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_declared_once_and_names_a_known_requirement_shape() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()), "{} twice", code.as_str());
            assert!(code.as_str().contains('.'), "{}", code.as_str());
            if let Some(requirement) = code.requirement() {
                let (letter, number) = requirement.split_at(1);
                assert!(
                    "CRSDAXHP".contains(letter) && number.parse::<u8>().is_ok(),
                    "{requirement}"
                );
            }
        }
    }
}
