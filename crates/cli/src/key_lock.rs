//! A lock file beside the keys, so the key-encryption key is never rotated under a running server.
//!
//! A server holds the key-encryption key in memory; if it were rotated underneath, the server
//! would go on wrapping new recordings' keys with the old one, which rotation removes.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use crate::CliError;

fn lock_file(data_dir: &Path) -> Result<(File, PathBuf), CliError> {
    let folder = data_dir.join("keys");
    let path = folder.join("in-use.lock");
    std::fs::create_dir_all(&folder)
        .and_then(|()| {
            OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
        })
        .map(|file| (file, path.clone()))
        .map_err(|e| {
            CliError::Settings(format!("cannot open the lock file {}: {e}", path.display()))
        })
}

/// Held by a server for as long as it runs; many servers may share a data folder's keys.
pub fn while_serving(data_dir: &Path) -> Result<File, CliError> {
    let (file, path) = lock_file(data_dir)?;
    match file.try_lock_shared() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(CliError::InUse(format!(
            "the key-encryption key in {} is being rotated; start the server when `vault rotate-key` has finished",
            data_dir.display()
        ))),
        Err(TryLockError::Error(e)) => Err(CliError::InUse(format!(
            "cannot lock {}: {e}",
            path.display()
        ))),
    }
}

/// Held while the key-encryption key is rotated: only when no server is running on these keys.
pub fn for_rotation(data_dir: &Path) -> Result<File, CliError> {
    let (file, path) = lock_file(data_dir)?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(CliError::InUse(format!(
            "a Custodian server is running with the keys in {}; stop it before rotating the key-encryption key \
             (a running server would go on wrapping new recordings' keys with the old one)",
            data_dir.display()
        ))),
        Err(TryLockError::Error(e)) => Err(CliError::InUse(format!(
            "cannot lock {}: {e}",
            path.display()
        ))),
    }
}
