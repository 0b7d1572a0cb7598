//! Objects as files in the data folder, written durably by rename and fsync.

use std::fs;
use std::path::{Path, PathBuf};

use super::{ReadSeek, Storage, StoredObject, sync_folder};
use crate::VaultError;

/// Objects under a folder, spread over subfolders by the first two characters of their key.
#[derive(Debug, Clone)]
pub struct LocalStorage {
    root: PathBuf,
}

impl LocalStorage {
    /// Storage in `root`, created if needed.
    pub fn new(root: PathBuf) -> Result<Self, VaultError> {
        fs::create_dir_all(&root).map_err(|source| VaultError::Io {
            doing: "creating the vault folder",
            source,
        })?;
        // Sealed or not, recordings are for Custodian's own account only.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&root, fs::Permissions::from_mode(0o700)).map_err(|source| {
                VaultError::Io {
                    doing: "making the vault folder Custodian's alone",
                    source,
                }
            })?;
        }
        Ok(Self { root })
    }

    fn path(&self, key: &str) -> Result<PathBuf, VaultError> {
        // Keys are generated ("<uuid>.age"); refuse anything that could leave the folder.
        if key.is_empty()
            || !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.'))
            || key.starts_with('.')
        {
            return Err(VaultError::BadObjectKey {
                key: key.to_owned(),
            });
        }
        let prefix: String = key.chars().take(2).collect();
        Ok(self.root.join(prefix).join(key))
    }
}

fn io(doing: &'static str) -> impl FnOnce(std::io::Error) -> VaultError {
    move |source| VaultError::Io { doing, source }
}

#[async_trait::async_trait]
impl Storage for LocalStorage {
    fn describe(&self) -> String {
        format!("local files in {}", self.root.display())
    }

    async fn store(&self, key: &str, staged: &Path) -> Result<(), VaultError> {
        let target = self.path(key)?;
        let staged = staged.to_path_buf();
        tokio::task::spawn_blocking(move || {
            if let Some(folder) = target.parent() {
                fs::create_dir_all(folder).map_err(io("creating an object folder"))?;
            }
            if target.exists() {
                return Err(VaultError::AlreadyStored {
                    key: target.display().to_string(),
                });
            }
            fs::rename(&staged, &target).map_err(io("moving an upload into the vault"))?;
            sync_folder(&target).map_err(io("syncing the vault folder"))
        })
        .await
        .map_err(|e| VaultError::Crypto(format!("storing an object stopped: {e}")))?
    }

    fn open(&self, key: &str) -> Result<Box<dyn ReadSeek>, VaultError> {
        let path = self.path(key)?;
        match fs::File::open(&path) {
            Ok(file) => Ok(Box::new(file)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                Err(VaultError::Missing {
                    key: key.to_owned(),
                })
            }
            Err(error) => Err(io("opening an object")(error)),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), VaultError> {
        let path = self.path(key)?;
        tokio::task::spawn_blocking(move || match fs::remove_file(&path) {
            Ok(()) => sync_folder(&path).map_err(io("syncing the vault folder")),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(error) => Err(io("deleting an object")(error)),
        })
        .await
        .map_err(|e| VaultError::Crypto(format!("deleting an object stopped: {e}")))?
    }

    async fn list(&self) -> Result<Vec<StoredObject>, VaultError> {
        let root = self.root.clone();
        tokio::task::spawn_blocking(move || {
            let mut objects = Vec::new();
            for folder in fs::read_dir(&root).map_err(io("listing the vault"))? {
                let folder = folder.map_err(io("listing the vault"))?;
                if !folder
                    .file_type()
                    .map_err(io("listing the vault"))?
                    .is_dir()
                {
                    continue;
                }
                for entry in fs::read_dir(folder.path()).map_err(io("listing the vault"))? {
                    let entry = entry.map_err(io("listing the vault"))?;
                    let metadata = entry.metadata().map_err(io("listing the vault"))?;
                    objects.push(StoredObject {
                        key: entry.file_name().to_string_lossy().into_owned(),
                        size: metadata.len(),
                        modified: metadata.modified().ok(),
                    });
                }
            }
            objects.sort_by(|a, b| a.key.cmp(&b.key));
            Ok(objects)
        })
        .await
        .map_err(|e| VaultError::Crypto(format!("listing the vault stopped: {e}")))?
    }

    async fn size(&self, key: &str) -> Result<Option<u64>, VaultError> {
        match fs::metadata(self.path(key)?) {
            Ok(metadata) => Ok(Some(metadata.len())),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(io("reading an object's size")(error)),
        }
    }
}
