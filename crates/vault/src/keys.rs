//! Keys: a content key per recording, wrapped by the key-encryption key that lives outside the database.
//!
//! Both are age X25519 identities. A recording's media is encrypted to its own content key; the
//! content key is stored only in the register, encrypted to the key-encryption key (KEK). So
//! destroying a recording's wrapped content key makes every copy of its ciphertext unreadable,
//! and in an emergency the `age` tool alone can recover a recording: unwrap the content key with
//! the KEK file, then decrypt the object with it.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use age::secrecy::ExposeSecret;
use age::x25519::{Identity, Recipient};

use crate::VaultError;

/// What the canary says: unwrapping it proves the key-encryption key is the register's own.
const CANARY: &[u8] = b"custodian key-encryption key check v1";

/// The key-encryption key: an age X25519 identity kept in a file (mode 0600) or the environment,
/// never in the database.
pub struct KeyEncryptionKey {
    identity: Identity,
    /// Where it was read from, for messages; never the key itself.
    origin: String,
}

impl std::fmt::Debug for KeyEncryptionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "KeyEncryptionKey(from {}, public {})",
            self.origin,
            self.identity.to_public()
        )
    }
}

impl KeyEncryptionKey {
    /// Parses an age identity (`AGE-SECRET-KEY-1…`), ignoring comment lines as identity files have.
    pub fn parse(text: &str, origin: &str) -> Result<Self, VaultError> {
        let line = text
            .lines()
            .map(str::trim)
            .find(|line| !line.is_empty() && !line.starts_with('#'))
            .ok_or_else(|| VaultError::BadKey {
                origin: origin.to_owned(),
            })?;
        let identity = Identity::from_str(line).map_err(|_| VaultError::BadKey {
            origin: origin.to_owned(),
        })?;
        Ok(Self {
            identity,
            origin: origin.to_owned(),
        })
    }

    /// Reads the key from `path`.
    pub fn read(path: &Path) -> Result<Self, VaultError> {
        let text = fs::read_to_string(path).map_err(|source| VaultError::KeyFile {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Creates a new key and writes it to `path` as an age identity file, readable by its owner only.
    pub fn create(path: &Path) -> Result<Self, VaultError> {
        let identity = Identity::generate();
        write_secret_file(path, &identity_file(&identity))?;
        Ok(Self {
            identity,
            origin: path.display().to_string(),
        })
    }

    /// A new key that is not yet written anywhere (for rotation).
    pub fn generate() -> Self {
        Self {
            identity: Identity::generate(),
            origin: "a new key".to_owned(),
        }
    }

    /// Writes this key to `path` as an age identity file, readable by its owner only.
    pub fn write(&self, path: &Path) -> Result<(), VaultError> {
        write_secret_file(path, &identity_file(&self.identity))
    }

    /// The public half, which wraps keys but cannot unwrap them.
    pub fn recipient(&self) -> Recipient {
        self.identity.to_public()
    }

    /// Wraps a content key so that only this key can unwrap it.
    pub fn wrap(&self, key: &ContentKey) -> Result<Vec<u8>, VaultError> {
        encrypt_to(
            &self.recipient(),
            key.identity.to_string().expose_secret().as_bytes(),
        )
    }

    /// Unwraps a content key wrapped by this key.
    pub fn unwrap(&self, wrapped: &[u8]) -> Result<ContentKey, VaultError> {
        let text = decrypt_with(&self.identity, wrapped).map_err(|_| VaultError::WrongKey)?;
        let text = String::from_utf8(text).map_err(|_| VaultError::WrongKey)?;
        let identity = Identity::from_str(text.trim()).map_err(|_| VaultError::WrongKey)?;
        Ok(ContentKey { identity })
    }

    /// Seals a small secret other than a content key (such as an account's authenticator secret)
    /// so that only this key can open it: kept in the register, useless without the key.
    pub fn seal(&self, secret: &[u8]) -> Result<Vec<u8>, VaultError> {
        encrypt_to(&self.recipient(), secret)
    }

    /// Opens a secret sealed by this key.
    pub fn open_sealed(&self, sealed: &[u8]) -> Result<Vec<u8>, VaultError> {
        decrypt_with(&self.identity, sealed).map_err(|_| VaultError::WrongKey)
    }

    /// A canary to store in the register: proof, at every start, that the key matches.
    pub fn canary(&self) -> Result<Vec<u8>, VaultError> {
        encrypt_to(&self.recipient(), CANARY)
    }

    /// Whether this key opens the register's canary.
    pub fn opens(&self, canary: &[u8]) -> bool {
        decrypt_with(&self.identity, canary).is_ok_and(|text| text == CANARY)
    }
}

/// A recording's own key: the media is encrypted to it, and it is stored only wrapped.
pub struct ContentKey {
    identity: Identity,
}

impl std::fmt::Debug for ContentKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ContentKey(***)")
    }
}

impl ContentKey {
    /// A new random key.
    pub fn generate() -> Self {
        Self {
            identity: Identity::generate(),
        }
    }

    pub(crate) fn recipient(&self) -> Recipient {
        self.identity.to_public()
    }

    pub(crate) fn identity(&self) -> &Identity {
        &self.identity
    }

    /// The key as an age identity file, for emergency recovery with the `age` tool.
    pub fn export(&self) -> String {
        identity_file(&self.identity)
    }
}

fn identity_file(identity: &Identity) -> String {
    format!(
        "# An age identity kept by Custodian. Keep it secret.\n# public key: {}\n{}\n",
        identity.to_public(),
        identity.to_string().expose_secret()
    )
}

fn encrypt_to(recipient: &Recipient, plaintext: &[u8]) -> Result<Vec<u8>, VaultError> {
    let encryptor =
        age::Encryptor::with_recipients(std::iter::once(recipient as &dyn age::Recipient))
            .map_err(|e| VaultError::Crypto(e.to_string()))?;
    let mut wrapped = Vec::new();
    let mut writer = encryptor.wrap_output(&mut wrapped)?;
    writer.write_all(plaintext)?;
    writer.finish()?;
    Ok(wrapped)
}

fn decrypt_with(identity: &Identity, ciphertext: &[u8]) -> Result<Vec<u8>, VaultError> {
    let decryptor =
        age::Decryptor::new(ciphertext).map_err(|e| VaultError::Crypto(e.to_string()))?;
    let mut reader = decryptor
        .decrypt(std::iter::once(identity as &dyn age::Identity))
        .map_err(|e| VaultError::Crypto(e.to_string()))?;
    let mut plaintext = Vec::new();
    reader.read_to_end(&mut plaintext)?;
    Ok(plaintext)
}

/// Writes a secret to a new file that only its owner can read, atomically and durably.
pub(crate) fn write_secret_file(path: &Path, contents: &str) -> Result<(), VaultError> {
    let error = |source| VaultError::KeyFile {
        path: path.to_path_buf(),
        source,
    };
    if let Some(folder) = path.parent() {
        fs::create_dir_all(folder).map_err(error)?;
    }
    let temporary: PathBuf = path.with_extension("tmp");
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let _ = fs::remove_file(&temporary);
    let mut file = options.open(&temporary).map_err(error)?;
    file.write_all(contents.as_bytes()).map_err(error)?;
    file.sync_all().map_err(error)?;
    fs::rename(&temporary, path).map_err(error)?;
    crate::storage::sync_folder(path).map_err(error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_content_key_unwraps_only_with_its_key_encryption_key() {
        let kek = KeyEncryptionKey::generate();
        let other = KeyEncryptionKey::generate();
        let key = ContentKey::generate();
        let wrapped = kek.wrap(&key).unwrap();
        assert_eq!(
            kek.unwrap(&wrapped).unwrap().recipient().to_string(),
            key.recipient().to_string()
        );
        assert!(matches!(other.unwrap(&wrapped), Err(VaultError::WrongKey)));
    }

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_encryption_key() {
        let kek = KeyEncryptionKey::generate();
        let sealed = kek.seal(b"twenty bytes secret!").unwrap();
        assert!(!sealed.windows(20).any(|w| w == b"twenty bytes secret!"));
        assert_eq!(kek.open_sealed(&sealed).unwrap(), b"twenty bytes secret!");
        assert!(matches!(
            KeyEncryptionKey::generate().open_sealed(&sealed),
            Err(VaultError::WrongKey)
        ));
    }

    #[test]
    fn the_canary_tells_the_right_key_from_the_wrong_one() {
        let kek = KeyEncryptionKey::generate();
        let canary = kek.canary().unwrap();
        assert!(kek.opens(&canary));
        assert!(!KeyEncryptionKey::generate().opens(&canary));
        assert!(!kek.opens(b"not age at all"));
    }

    #[test]
    fn key_files_are_private_and_read_back() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("keys/kek.txt");
        let kek = KeyEncryptionKey::create(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        let again = KeyEncryptionKey::read(&path).unwrap();
        assert_eq!(again.recipient().to_string(), kek.recipient().to_string());
        assert!(matches!(
            KeyEncryptionKey::parse("garbage", "test"),
            Err(VaultError::BadKey { .. })
        ));
        assert!(!format!("{kek:?}").contains("AGE-SECRET-KEY"));
    }
}
