//! Uploads in progress, held in memory, and what they hold: how many each member has and how many bytes are still to come.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use custodian_core::ids::StaffId;
use custodian_vault::ingest::Ingest;
use time::OffsetDateTime;
use uuid::Uuid;

use super::UploadTarget;

/// Unfinished uploads one member of staff may have at once (ASVS 12.1.3): a few files on the go
/// from a phone and a computer, not hundreds.
pub const UPLOADS_PER_MEMBER: usize = 8;

/// Unfinished uploads the server holds at once, for everyone. A waiting upload holds no open
/// file (its staging file is open only while bytes arrive), so this bounds memory and the work
/// of expiring them, not file handles.
pub const UPLOADS_IN_ALL: usize = 256;

/// Uploads in progress. Their state lives in memory: a restart ends them (their staged bytes
/// are cleared at start-up) and clients start again.
#[derive(Default)]
pub(crate) struct Uploads {
    uploads: Mutex<HashMap<Uuid, Entry>>,
}

/// An upload as the server counts it, readable without waiting for a busy upload's lock.
struct Entry {
    owner: StaffId,
    declared: u64,
    /// Bytes on disk so far: the rest of `declared` is space still to come.
    received: Arc<AtomicU64>,
    upload: SharedUpload,
}

/// What the unfinished uploads hold: a member's, and everyone's.
pub(super) struct Held {
    pub(super) theirs: usize,
    pub(super) everyone: usize,
    /// Bytes the member's uploads will stage when finished.
    pub(super) their_bytes: u64,
    /// Bytes everyone's uploads have still to stage.
    pub(super) to_come: u64,
}

/// An upload as requests share it: one writes to it at a time.
pub(super) type SharedUpload = Arc<tokio::sync::Mutex<Upload>>;

pub(super) struct Upload {
    pub(super) id: Uuid,
    pub(super) owner: StaffId,
    pub(super) target: UploadTarget,
    pub(super) filename: Option<String>,
    pub(super) declared: u64,
    pub(super) received: Arc<AtomicU64>,
    /// `None` while a request is writing into it on another thread.
    pub(super) ingest: Option<Ingest>,
    pub(super) last_active: OffsetDateTime,
}

impl Uploads {
    pub(super) fn get(&self, id: Uuid) -> Option<SharedUpload> {
        self.uploads
            .lock()
            .ok()?
            .get(&id)
            .map(|entry| entry.upload.clone())
    }

    /// What the open uploads hold: `owner`'s, and everyone's.
    pub(super) fn held(&self, owner: StaffId) -> Held {
        let mut held = Held {
            theirs: 0,
            everyone: 0,
            their_bytes: 0,
            to_come: 0,
        };
        if let Ok(uploads) = self.uploads.lock() {
            for entry in uploads.values() {
                held.everyone += 1;
                held.to_come = held.to_come.saturating_add(
                    entry
                        .declared
                        .saturating_sub(entry.received.load(Ordering::Relaxed)),
                );
                if entry.owner == owner {
                    held.theirs += 1;
                    held.their_bytes = held.their_bytes.saturating_add(entry.declared);
                }
            }
        }
        held
    }

    pub(super) fn insert(&self, upload: Upload) {
        if let Ok(mut uploads) = self.uploads.lock() {
            uploads.insert(
                upload.id,
                Entry {
                    owner: upload.owner,
                    declared: upload.declared,
                    received: upload.received.clone(),
                    upload: Arc::new(tokio::sync::Mutex::new(upload)),
                },
            );
        }
    }

    pub(super) fn remove(&self, id: Uuid) {
        if let Ok(mut uploads) = self.uploads.lock() {
            uploads.remove(&id);
        }
    }

    /// Forgets uploads idle since before `cutoff`; dropping one deletes its staged bytes.
    pub(super) fn expire(&self, cutoff: OffsetDateTime) {
        if let Ok(mut uploads) = self.uploads.lock() {
            uploads.retain(|_, entry| {
                entry
                    .upload
                    .try_lock()
                    .map_or(true, |upload| upload.last_active >= cutoff)
            });
        }
    }
}
