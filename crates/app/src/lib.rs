//! Custodian's use cases. Each one owns its transaction, checks its input through the core's
//! constructors, and writes its audit event in the same transaction as the change (S2).

pub mod access;
pub mod access_views;
pub mod accounts;
mod audit_trail;
pub mod clock;
mod common_passwords;
pub mod consents;
pub mod dashboard;
pub mod decisions;
mod error;
pub mod error_code;
pub mod london;
pub mod media;
pub mod oversight;
pub mod persons;
pub mod policies;
pub mod reads;
pub mod recordings;
pub mod retention;
pub mod sessions;
pub mod sso;
pub mod staff;
pub mod uses;
pub mod vault;

use std::sync::Arc;

use custodian_store::Register;
use vault::{Vault, VaultSettings};

pub use accounts::{Caller, Credential, Secret, SignInStep};
pub use audit_trail::{HistoryEntry, VerifiedTrail};
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{AppError, AppResult};
pub use error_code::{ErrorCode, RefusalKind};

/// The application: the register, a clock, and the use cases as methods. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Custodian {
    register: Register,
    clock: Arc<dyn Clock>,
    /// Checked against when a sign-in names no account, so failures take the same time.
    decoy_hash: Arc<str>,
    vault: Arc<Vault>,
    /// The access policies in force (S2, S3, X6).
    access: Arc<access::PoliciesInForce>,
    /// The OpenID provider for single sign-on, when configured.
    sso: Option<Arc<sso::Sso>>,
}

impl Custodian {
    /// Starts the application over `register` with the vault `vault`, telling time by `clock`.
    /// Refuses to start if the vault's key-encryption key is missing or not the register's own.
    pub async fn start(
        register: Register,
        clock: Arc<dyn Clock>,
        vault: VaultSettings,
    ) -> AppResult<Self> {
        let vault = Vault::open(vault, &register).await?;
        let access = access::PoliciesInForce::load(&register).await?;
        Ok(Self {
            register,
            clock,
            decoy_hash: accounts::decoy_hash()?.into(),
            vault: Arc::new(vault),
            access: Arc::new(access),
            sso: None,
        })
    }

    /// The media vault.
    pub fn vault(&self) -> &Vault {
        &self.vault
    }

    /// The largest upload accepted, in bytes.
    pub fn vault_limit(&self) -> u64 {
        self.vault.max_upload_bytes
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
