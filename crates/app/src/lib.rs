//! Custodian's use cases. Each one owns its transaction, checks its input through the core's
//! constructors, and writes its audit event in the same transaction as the change (S2).

pub mod accounts;
mod audit_trail;
pub mod clock;
pub mod consents;
pub mod decisions;
pub mod demo;
mod error;
pub mod london;
pub mod persons;
pub mod recordings;
pub mod sessions;

use std::sync::Arc;

use custodian_store::Register;

pub use accounts::{Caller, Credential, Secret};
pub use audit_trail::VerifiedTrail;
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{AppError, AppResult};

/// The application: the register, a clock, and the use cases as methods. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Custodian {
    register: Register,
    clock: Arc<dyn Clock>,
    /// Checked against when a sign-in names no account, so failures take the same time.
    decoy_hash: Arc<str>,
}

impl Custodian {
    /// The application over `register`, telling time by `clock`.
    pub fn new(register: Register, clock: Arc<dyn Clock>) -> AppResult<Self> {
        Ok(Self {
            register,
            clock,
            decoy_hash: accounts::decoy_hash()?.into(),
        })
    }

    /// The register, for health checks and tools.
    pub fn register(&self) -> &Register {
        &self.register
    }

    /// The application's clock.
    pub fn now(&self) -> time::OffsetDateTime {
        self.clock.now()
    }
}
