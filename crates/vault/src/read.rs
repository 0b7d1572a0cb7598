//! Reading media back: decrypted as it streams, every chunk authenticated, any range at all.

use std::io::{BufReader, Read, Seek, SeekFrom};
use std::ops::Range;

use bytes::Bytes;
use sha2::{Digest, Sha256};

use crate::VaultError;
use crate::keys::ContentKey;
use crate::storage::Storage;

/// How much plaintext is sent at a time.
const PIECE: usize = 256 * 1024;

/// Where a read is going: each piece is handed over in order; `false` means stop (the client left).
pub trait Sink {
    fn send(&mut self, piece: Bytes) -> bool;
}

impl<F: FnMut(Bytes) -> bool> Sink for F {
    fn send(&mut self, piece: Bytes) -> bool {
        self(piece)
    }
}

/// Decrypts `range` of the object `object_key` into `sink`. Blocking: run on a blocking thread.
///
/// Every 64 KiB chunk is authenticated as it is decrypted, so altered or truncated ciphertext is
/// refused at the first bad chunk. When `range` is the whole recording, the plaintext's SHA-256 is
/// also checked against `expected`, and the last piece is held back until it matches: a client
/// never receives a complete copy that does not match the original.
pub fn read_range(
    storage: &dyn Storage,
    object_key: &str,
    key: &ContentKey,
    range: Range<u64>,
    expected: Option<[u8; 32]>,
    sink: &mut dyn Sink,
) -> Result<(), VaultError> {
    let object = storage.open(object_key)?;
    let decryptor = age::Decryptor::new(BufReader::with_capacity(PIECE, object)).map_err(|e| {
        VaultError::Corrupt {
            problem: format!("the object's header cannot be read: {e}"),
        }
    })?;
    let mut plaintext = decryptor
        .decrypt(std::iter::once(key.identity() as &dyn age::Identity))
        .map_err(|e| VaultError::Corrupt {
            problem: format!("the object does not open with its content key: {e}"),
        })?;
    plaintext
        .seek(SeekFrom::Start(range.start))
        .map_err(corrupt_or_io)?;
    let mut hasher = expected.map(|_| Sha256::new());
    let mut remaining = range.end.saturating_sub(range.start);
    let mut held: Option<Bytes> = None;
    while remaining > 0 {
        let want = usize::try_from(remaining.min(PIECE as u64)).unwrap_or(PIECE);
        let mut buffer = vec![0u8; want];
        let mut filled = 0;
        while filled < want {
            let read = plaintext
                .read(buffer.get_mut(filled..).unwrap_or_default())
                .map_err(corrupt_or_io)?;
            if read == 0 {
                return Err(VaultError::Corrupt {
                    problem: "the object ends before the recording's registered size".to_owned(),
                });
            }
            filled += read;
        }
        if let Some(hasher) = hasher.as_mut() {
            hasher.update(&buffer);
        }
        remaining -= want as u64;
        if let Some(previous) = held.replace(Bytes::from(buffer))
            && !sink.send(previous)
        {
            return Ok(());
        }
    }
    if let (Some(hasher), Some(expected)) = (hasher, expected) {
        let actual: [u8; 32] = hasher.finalize().into();
        if actual != expected {
            return Err(VaultError::Corrupt {
                problem: "the content does not match the hash registered when it was stored"
                    .to_owned(),
            });
        }
    }
    if let Some(last) = held {
        sink.send(last);
    }
    Ok(())
}

/// Decrypts the whole object and returns its plaintext's SHA-256 and size, for verification.
pub fn fingerprint(
    storage: &dyn Storage,
    object_key: &str,
    key: &ContentKey,
) -> Result<([u8; 32], u64), VaultError> {
    let object = storage.open(object_key)?;
    let decryptor = age::Decryptor::new(BufReader::with_capacity(PIECE, object)).map_err(|e| {
        VaultError::Corrupt {
            problem: format!("the object's header cannot be read: {e}"),
        }
    })?;
    let mut plaintext = decryptor
        .decrypt(std::iter::once(key.identity() as &dyn age::Identity))
        .map_err(|e| VaultError::Corrupt {
            problem: format!("the object does not open with its content key: {e}"),
        })?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; PIECE];
    let mut size = 0u64;
    loop {
        let read = plaintext.read(&mut buffer).map_err(corrupt_or_io)?;
        if read == 0 {
            break;
        }
        hasher.update(buffer.get(..read).unwrap_or_default());
        size += read as u64;
    }
    Ok((hasher.finalize().into(), size))
}

/// age reports a chunk that fails authentication as invalid data; anything else is I/O.
fn corrupt_or_io(error: std::io::Error) -> VaultError {
    if error.kind() == std::io::ErrorKind::InvalidData
        || error.kind() == std::io::ErrorKind::UnexpectedEof
    {
        VaultError::Corrupt {
            problem: format!("a chunk failed its integrity check: {error}"),
        }
    } else {
        VaultError::Io {
            doing: "reading an object",
            source: error,
        }
    }
}
