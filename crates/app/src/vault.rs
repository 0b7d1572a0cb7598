//! The media vault as the application uses it: keys checked against the register at start-up,
//! storage chosen by configuration, and key rotation.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use custodian_store::Register;
use custodian_vault::VaultError;
use custodian_vault::certificate::CertificateSigner;
use custodian_vault::keys::{ContentKey, KeyEncryptionKey};
use custodian_vault::storage::{LocalStorage, S3Settings, S3Storage, Storage};

use crate::error_code::ErrorCode;
use crate::media::Uploads;
use crate::{AppError, AppResult};

/// The register setting that holds the key-encryption key's canary.
const CANARY: &str = "kek_canary";

/// Where the key-encryption key comes from.
#[derive(Clone)]
pub enum KeySource {
    /// An age identity file (created, mode 0600, when the register is new).
    File(PathBuf),
    /// The key itself, from the environment (`CUSTODIAN_KEK`).
    Given(String),
}

impl std::fmt::Debug for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::File(path) => write!(f, "File({})", path.display()),
            Self::Given(_) => f.write_str("Given(***)"),
        }
    }
}

/// Where ciphertext is kept.
#[derive(Clone, Debug)]
pub enum StorageChoice {
    /// Files in the data folder.
    Local,
    /// An S3-compatible bucket.
    S3(S3Settings),
}

/// How the vault is set up.
#[derive(Clone, Debug)]
pub struct VaultSettings {
    /// The data folder: keys in `keys/`, local objects in `vault/objects`, uploads in progress in `vault/staging`.
    pub data_dir: PathBuf,
    pub key: KeySource,
    pub storage: StorageChoice,
    /// The largest upload accepted, in bytes.
    pub max_upload_bytes: u64,
}

impl VaultSettings {
    /// Local storage in `data_dir`, with the key file there too.
    pub fn local(data_dir: &Path) -> Self {
        Self {
            data_dir: data_dir.to_path_buf(),
            key: KeySource::File(data_dir.join("keys").join("kek.txt")),
            storage: StorageChoice::Local,
            max_upload_bytes: 16 * 1024 * 1024 * 1024,
        }
    }
}

/// The vault: storage, the key-encryption key, the certificate signer, uploads in progress.
pub struct Vault {
    pub(crate) storage: Arc<dyn Storage>,
    kek: RwLock<Arc<KeyEncryptionKey>>,
    key_file: Option<PathBuf>,
    pub(crate) signer: CertificateSigner,
    pub(crate) staging: PathBuf,
    pub(crate) max_upload_bytes: u64,
    pub(crate) uploads: Uploads,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("storage", &self.storage.describe())
            .finish_non_exhaustive()
    }
}

fn vault_error(error: VaultError) -> AppError {
    AppError::Vault(error)
}

impl Vault {
    /// Opens the vault against `register`. Refuses to start with a missing key when the register
    /// has been set up with one, or with a key that does not open the register's canary; creates a
    /// key only for a new register. Clears uploads left by a previous run.
    pub async fn open(settings: VaultSettings, register: &Register) -> AppResult<Self> {
        let mut tx = register.write().await?;
        let canary = tx.vault_setting(CANARY).await?;
        let (kek, key_file) = match &settings.key {
            KeySource::Given(text) => (
                KeyEncryptionKey::parse(text, "CUSTODIAN_KEK").map_err(vault_error)?,
                None,
            ),
            KeySource::File(path) => (
                resolve_key_file(path, canary.as_deref())?,
                Some(path.clone()),
            ),
        };
        match &canary {
            Some(canary) if !kek.opens(canary) => {
                return Err(AppError::Startup(format!(
                    "the key-encryption key ({kek:?}) is not the one this register was set up with, so its recordings could not be decrypted; \
                     restore the right key (from your key backup) or set CUSTODIAN_KEK"
                )));
            }
            Some(_) => {}
            None => {
                tx.set_vault_setting(CANARY, &kek.canary().map_err(vault_error)?)
                    .await?
            }
        }
        tx.commit().await?;

        let storage: Arc<dyn Storage> = match &settings.storage {
            StorageChoice::Local => Arc::new(
                LocalStorage::new(settings.data_dir.join("vault").join("objects"))
                    .map_err(vault_error)?,
            ),
            StorageChoice::S3(s3) => Arc::new(S3Storage::new(s3).map_err(vault_error)?),
        };
        let staging = settings.data_dir.join("vault").join("staging");
        let cleared = custodian_vault::ingest::clear_staging(&staging).map_err(vault_error)?;
        if cleared > 0 {
            tracing::info!(cleared, "removed uploads left unfinished by a previous run");
        }
        let signer =
            CertificateSigner::load_or_create(&settings.data_dir.join("keys").join("signing.key"))
                .map_err(vault_error)?;
        tracing::info!(storage = %storage.describe(), "vault ready");
        Ok(Self {
            storage,
            kek: RwLock::new(Arc::new(kek)),
            key_file,
            signer,
            staging,
            max_upload_bytes: settings.max_upload_bytes,
            uploads: Uploads::default(),
        })
    }

    fn kek(&self) -> AppResult<Arc<KeyEncryptionKey>> {
        self.kek
            .read()
            .map(|kek| Arc::clone(&kek))
            .map_err(|_| AppError::Internal("the key-encryption key lock is poisoned".to_owned()))
    }

    pub(crate) fn wrap(&self, key: &ContentKey) -> AppResult<Vec<u8>> {
        self.kek()?.wrap(key).map_err(vault_error)
    }

    pub(crate) fn unwrap(&self, wrapped: &[u8]) -> AppResult<ContentKey> {
        self.kek()?.unwrap(wrapped).map_err(vault_error)
    }

    /// Seals an account's authenticator secret with the key-encryption key, as content keys are.
    pub(crate) fn seal(&self, secret: &[u8]) -> AppResult<Vec<u8>> {
        self.kek()?.seal(secret).map_err(vault_error)
    }

    /// Opens a secret sealed with [`Vault::seal`].
    pub(crate) fn open_sealed(&self, sealed: &[u8]) -> AppResult<Vec<u8>> {
        self.kek()?.open_sealed(sealed).map_err(vault_error)
    }

    /// The public key that signs destruction certificates, as PEM.
    pub fn certificate_public_key(&self) -> AppResult<String> {
        self.signer.public_key_pem().map_err(vault_error)
    }

    /// Where ciphertext is kept (for verification tools and tests that inspect storage directly).
    pub fn storage(&self) -> Arc<dyn Storage> {
        Arc::clone(&self.storage)
    }

    /// A description of where media is kept.
    pub fn describe(&self) -> String {
        self.storage.describe()
    }

    /// Replaces the key-encryption key: every content key is rewrapped with a new one, and every
    /// authenticator secret resealed, in one transaction, without touching any media. Safe to interrupt: the new key is written beside
    /// the old before the register changes, and a restart finishes the switch.
    pub async fn rotate(&self, register: &Register) -> AppResult<u64> {
        let Some(key_file) = &self.key_file else {
            return Err(AppError::Rule {
                code: ErrorCode::VaultKeyFromEnvironment,
                message: "the key-encryption key comes from CUSTODIAN_KEK, so it cannot be rotated in place; \
                          rotate with a key file, then move the new key into the environment"
                    .to_owned(),
            });
        };
        let old = self.kek()?;
        let new = KeyEncryptionKey::generate();
        let next = next_key_file(key_file);
        new.write(&next).map_err(vault_error)?;
        let mut tx = register.write().await?;
        let mut rewrapped = 0u64;
        let mut after = None;
        loop {
            let page = tx.media_after(after, 500).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.recording_id);
            for media in &page {
                if let Some(wrapped) = &media.wrapped_key {
                    let key = old.unwrap(wrapped).map_err(vault_error)?;
                    tx.rewrap_key(media.recording_id, &new.wrap(&key).map_err(vault_error)?)
                        .await?;
                    rewrapped += 1;
                }
            }
        }
        for (staff, sealed) in tx.all_totp_secrets().await? {
            let secret = old.open_sealed(&sealed).map_err(vault_error)?;
            tx.reseal_totp_secret(staff, &new.seal(&secret).map_err(vault_error)?)
                .await?;
        }
        tx.set_vault_setting(CANARY, &new.canary().map_err(vault_error)?)
            .await?;
        tx.commit().await?;
        promote(&next, key_file)?;
        if let Ok(mut kek) = self.kek.write() {
            *kek = Arc::new(new);
        }
        Ok(rewrapped)
    }
}

/// The file a rotation writes the new key to before the register changes.
fn next_key_file(key_file: &Path) -> PathBuf {
    key_file.with_extension("next.txt")
}

/// Replaces the key file with the rotated one, durably.
fn promote(next: &Path, key_file: &Path) -> AppResult<()> {
    std::fs::rename(next, key_file).map_err(|e| {
        AppError::Startup(format!(
            "cannot replace the key file {}: {e}",
            key_file.display()
        ))
    })?;
    if let Some(folder) = key_file.parent() {
        std::fs::File::open(folder)
            .and_then(|f| f.sync_all())
            .map_err(|e| AppError::Startup(format!("cannot sync the key folder: {e}")))?;
    }
    Ok(())
}

/// Reads the key file, finishing an interrupted rotation, or creates one for a new register.
fn resolve_key_file(path: &Path, canary: Option<&[u8]>) -> AppResult<KeyEncryptionKey> {
    let next = next_key_file(path);
    if let Some(canary) = canary
        && next.exists()
    {
        // A rotation stopped after writing the new key: whichever key opens the canary is current.
        let rotated = KeyEncryptionKey::read(&next).map_err(vault_error)?;
        if rotated.opens(canary) {
            promote(&next, path)?;
            tracing::warn!("finished a key rotation that was interrupted");
            return Ok(rotated);
        }
        let _ = std::fs::remove_file(&next);
    }
    if path.exists() {
        return KeyEncryptionKey::read(path).map_err(vault_error);
    }
    if canary.is_some() {
        return Err(AppError::Startup(format!(
            "the key-encryption key file {} is missing, but this register was set up with one: without it no recording can be \
             decrypted. Restore it from your key backup (or set CUSTODIAN_KEK); Custodian will not create a new one",
            path.display()
        )));
    }
    tracing::warn!(path = %path.display(), "created a new key-encryption key: back it up, apart from the database");
    KeyEncryptionKey::create(path).map_err(vault_error)
}
