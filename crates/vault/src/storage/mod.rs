//! Where ciphertext is kept: one small trait, with local files (the default) and any
//! S3-compatible store behind it.

mod local;
mod s3;

use std::io::{Read, Seek};
use std::path::Path;

pub use local::LocalStorage;
pub use s3::{S3Settings, S3Storage};

use crate::VaultError;

/// A reader that can also seek: how decryption reads an object for ranges.
pub trait ReadSeek: Read + Seek + Send {}

impl<T: Read + Seek + Send> ReadSeek for T {}

/// An object in storage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredObject {
    pub key: String,
    pub size: u64,
    /// When it was last written, where storage says.
    pub modified: Option<std::time::SystemTime>,
}

/// Somewhere to keep encrypted objects. Objects are written once and never changed (R6).
#[async_trait::async_trait]
pub trait Storage: Send + Sync + std::fmt::Debug {
    /// A description for logs, without secrets.
    fn describe(&self) -> String;

    /// Moves a staged ciphertext file (already written and synced) into storage as `key`.
    /// When this returns, the object is durable.
    async fn store(&self, key: &str, staged: &Path) -> Result<(), VaultError>;

    /// Opens an object for reading. Blocking: call it from a blocking thread.
    fn open(&self, key: &str) -> Result<Box<dyn ReadSeek>, VaultError>;

    /// Deletes an object; deleting one that is not there is not an error.
    async fn delete(&self, key: &str) -> Result<(), VaultError>;

    /// Every object, to compare with the register.
    async fn list(&self) -> Result<Vec<StoredObject>, VaultError>;

    /// An object's size, if it exists.
    async fn size(&self, key: &str) -> Result<Option<u64>, VaultError>;
}

/// Flushes a folder's entry for `path` to disk, so a rename or new file survives a crash.
pub(crate) fn sync_folder(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    if let Some(folder) = path.parent() {
        std::fs::File::open(folder)?.sync_all()?;
    }
    Ok(())
}
