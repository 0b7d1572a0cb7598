//! Taking media in: hashed and encrypted as it arrives, staged durably, never kept in plaintext.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use age::stream::StreamWriter;
use bytes::Bytes;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::VaultError;
use crate::keys::ContentKey;
use crate::sniff::{Accept, MediaType, SNIFF_BYTES};

/// Bytes written to disk at a time: many age chunks per system call.
const WRITE_BUFFER: usize = 1024 * 1024;

/// Frames waiting to be hashed: enough to keep both threads busy, few enough to bound memory.
const HASH_QUEUE: usize = 4;

/// Space a disk keeps free whatever uploads are reserved on it, for the register, the logs and
/// the uploads' own encryption overhead.
pub const STAGING_HEADROOM: u64 = 1024 * 1024 * 1024;

/// A staging file, open only while bytes are written to it: an upload waiting between requests
/// holds no file handle and no write buffer, so abandoned uploads cannot use up either.
struct StagingFile {
    path: PathBuf,
    open: Option<BufWriter<File>>,
}

impl StagingFile {
    fn create(path: PathBuf) -> io::Result<Self> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(&path)?;
        Ok(Self {
            path,
            open: Some(BufWriter::with_capacity(WRITE_BUFFER, file)),
        })
    }

    fn writer(&mut self) -> io::Result<&mut BufWriter<File>> {
        let open = match self.open.take() {
            Some(open) => open,
            None => BufWriter::with_capacity(
                WRITE_BUFFER,
                std::fs::OpenOptions::new().append(true).open(&self.path)?,
            ),
        };
        Ok(self.open.insert(open))
    }

    /// Writes out what is buffered and makes it durable.
    fn sync(mut self) -> io::Result<()> {
        let file = match self.open.take() {
            Some(mut open) => {
                open.flush()?;
                open.into_inner().map_err(|e| e.into_error())?
            }
            None => File::open(&self.path)?,
        };
        file.sync_all()
    }
}

impl Write for StagingFile {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.writer()?.write(bytes)
    }

    /// Writes out what is buffered and closes the file until more bytes come.
    fn flush(&mut self) -> io::Result<()> {
        match self.open.take() {
            Some(mut open) => open.flush(),
            None => Ok(()),
        }
    }
}

/// An upload in progress: everything written so far is encrypted in a staging file, which is
/// open only while bytes arrive.
pub struct Ingest {
    staging: PathBuf,
    writer: Option<StreamWriter<StagingFile>>,
    hasher: Sha256,
    /// The first bytes, kept (in memory only) until the type is known.
    head: Vec<u8>,
    media_type: Option<MediaType>,
    received: u64,
    declared: u64,
    key: Option<ContentKey>,
    accept: Accept,
}

impl std::fmt::Debug for Ingest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ingest")
            .field("staging", &self.staging)
            .field("received", &self.received)
            .field("declared", &self.declared)
            .finish_non_exhaustive()
    }
}

/// A finished upload: encrypted, synced, its hash and type known, ready to move into storage.
#[derive(Debug)]
pub struct Staged {
    pub path: PathBuf,
    /// SHA-256 of the plaintext, the original's fingerprint (R6).
    pub sha256: [u8; 32],
    pub size: u64,
    pub media_type: MediaType,
    pub key: ContentKey,
}

impl Ingest {
    /// Starts an upload of `declared` bytes of what `accept` allows, staged in `staging_folder`.
    pub fn start(staging_folder: &Path, declared: u64, accept: Accept) -> Result<Self, VaultError> {
        if declared == 0 {
            return Err(VaultError::Empty);
        }
        let io = |source| VaultError::Io {
            doing: "starting an upload",
            source,
        };
        std::fs::create_dir_all(staging_folder).map_err(io)?;
        let staging = staging_folder.join(format!("{}.age.partial", Uuid::now_v7()));
        let file = StagingFile::create(staging.clone()).map_err(io)?;
        let key = ContentKey::generate();
        let encryptor = age::Encryptor::with_recipients(std::iter::once(
            &key.recipient() as &dyn age::Recipient
        ))
        .map_err(|e| VaultError::Crypto(e.to_string()))?;
        let writer = encryptor.wrap_output(file).map_err(io)?;
        let mut ingest = Self {
            staging,
            writer: Some(writer),
            hasher: Sha256::new(),
            head: Vec::with_capacity(SNIFF_BYTES),
            media_type: None,
            received: 0,
            declared,
            key: Some(key),
            accept,
        };
        ingest.park()?;
        Ok(ingest)
    }

    /// Writes out what has been encrypted so far and closes the staging file until more bytes
    /// come. The last partial chunk of ciphertext (under 64 KiB) stays in memory.
    pub fn park(&mut self) -> Result<(), VaultError> {
        let writer = self.writer.as_mut().ok_or(VaultError::Finished)?;
        writer.flush().map_err(|source| VaultError::Io {
            doing: "staging an upload",
            source,
        })
    }

    /// How many bytes have been taken in.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// How many bytes were declared.
    pub fn declared(&self) -> u64 {
        self.declared
    }

    /// The media type, once enough bytes have arrived to tell.
    pub fn media_type(&self) -> Option<MediaType> {
        self.media_type
    }

    /// Takes in the next bytes. Refuses bytes beyond the declared length, and media that is not
    /// an accepted photograph, audio or video format as soon as its first bytes show it.
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), VaultError> {
        self.admit(bytes)?;
        self.hasher.update(bytes);
        self.encrypt(bytes)
    }

    /// Takes in frames as they arrive, as [`Ingest::write`] does, but hashes them on a second
    /// thread while this one encrypts: the two costliest steps overlap instead of adding up.
    /// When the frames end, the staging file is closed until the next ones ([`Ingest::park`]).
    pub fn write_frames(&mut self, frames: impl Iterator<Item = Bytes>) -> Result<(), VaultError> {
        let mut hasher = std::mem::take(&mut self.hasher);
        let (outcome, hasher) = std::thread::scope(|scope| {
            let (queue, hashing_queue) = std::sync::mpsc::sync_channel::<Bytes>(HASH_QUEUE);
            let hashing = scope.spawn(move || {
                for frame in hashing_queue {
                    hasher.update(&frame);
                }
                hasher
            });
            let mut outcome = Ok(());
            for frame in frames {
                if let Err(error) = self.admit(&frame) {
                    outcome = Err(error);
                    break;
                }
                // Cloning a frame shares it; nothing is copied.
                if queue.send(frame.clone()).is_err() {
                    outcome = Err(VaultError::Crypto("the hashing thread stopped".to_owned()));
                    break;
                }
                if let Err(error) = self.encrypt(&frame) {
                    outcome = Err(error);
                    break;
                }
            }
            drop(queue);
            (outcome, hashing.join())
        });
        // A failed write ends the upload, so a hash that may run ahead of the ciphertext is moot.
        self.hasher =
            hasher.map_err(|_| VaultError::Crypto("the hashing thread failed".to_owned()))?;
        outcome?;
        self.park()
    }

    /// Checks the next bytes against the declared length and, once enough have come, the type.
    fn admit(&mut self, bytes: &[u8]) -> Result<(), VaultError> {
        let length = bytes.len() as u64;
        if self.received + length > self.declared {
            return Err(VaultError::LongerThanDeclared {
                declared: self.declared,
            });
        }
        if self.media_type.is_none() {
            let wanted = SNIFF_BYTES.saturating_sub(self.head.len()).min(bytes.len());
            self.head
                .extend_from_slice(bytes.get(..wanted).unwrap_or_default());
            if self.head.len() >= SNIFF_BYTES {
                self.media_type = Some(self.accept.detect(&self.head)?);
            }
        }
        Ok(())
    }

    fn encrypt(&mut self, bytes: &[u8]) -> Result<(), VaultError> {
        let writer = self.writer.as_mut().ok_or(VaultError::Finished)?;
        writer.write_all(bytes).map_err(|source| VaultError::Io {
            doing: "staging an upload",
            source,
        })?;
        self.received += bytes.len() as u64;
        Ok(())
    }

    /// Takes what has arrived as the whole file, for a body whose exact length is only known
    /// when it ends (a form sent without scripts, declared with an upper bound).
    pub fn end_here(&mut self) {
        self.declared = self.received;
    }

    /// Finishes: checks the length and type, completes the encryption and syncs it to disk.
    pub fn finish(mut self) -> Result<Staged, VaultError> {
        if self.received != self.declared {
            return Err(VaultError::ShorterThanDeclared {
                declared: self.declared,
                received: self.received,
            });
        }
        let media_type = match self.media_type {
            Some(media_type) => media_type,
            None => self.accept.detect(&self.head)?,
        };
        let io = |source| VaultError::Io {
            doing: "finishing an upload",
            source,
        };
        let writer = self.writer.take().ok_or(VaultError::Finished)?;
        writer.finish().and_then(StagingFile::sync).map_err(io)?;
        crate::storage::sync_folder(&self.staging).map_err(io)?;
        let key = self.key.take().ok_or(VaultError::Finished)?;
        Ok(Staged {
            path: std::mem::take(&mut self.staging),
            sha256: std::mem::take(&mut self.hasher).finalize().into(),
            size: self.received,
            media_type,
            key,
        })
    }
}

impl Drop for Ingest {
    /// An upload that is abandoned, refused or never finished leaves nothing behind.
    fn drop(&mut self) {
        self.writer.take();
        if !self.staging.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.staging);
        }
    }
}

impl Staged {
    /// Deletes the staged file, when storing it failed or was refused.
    pub fn discard(self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Bytes free for uploads on the disk holding `staging_folder`, after the headroom it keeps.
pub fn staging_space(staging_folder: &Path) -> Result<u64, VaultError> {
    std::fs::create_dir_all(staging_folder).map_err(|source| VaultError::Io {
        doing: "finding the space left for uploads",
        source,
    })?;
    let disk = rustix::fs::statvfs(staging_folder).map_err(|errno| VaultError::Io {
        doing: "finding the space left for uploads",
        source: errno.into(),
    })?;
    Ok((disk.f_bavail.saturating_mul(disk.f_frsize)).saturating_sub(STAGING_HEADROOM))
}

/// Removes staging files left by uploads that ended with the process (a crash or a restart):
/// their state lived in memory, so they can never be resumed.
pub fn clear_staging(staging_folder: &Path) -> Result<usize, VaultError> {
    let entries = match std::fs::read_dir(staging_folder) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(source) => {
            return Err(VaultError::Io {
                doing: "clearing abandoned uploads",
                source,
            });
        }
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        if entry
            .file_name()
            .to_string_lossy()
            .ends_with(".age.partial")
            && std::fs::remove_file(entry.path()).is_ok()
        {
            removed += 1;
        }
    }
    Ok(removed)
}
