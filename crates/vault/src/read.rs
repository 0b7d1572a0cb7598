//! Reading media back: decrypted as it streams, every chunk authenticated, any range at all.

use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use bytes::Bytes;
use sha2::{Digest, Sha256};

use crate::VaultError;
use crate::keys::ContentKey;
use crate::storage::Storage;

/// How much plaintext is sent at a time.
const PIECE: usize = 256 * 1024;

/// Pieces waiting to be hashed: enough to keep both threads busy, few enough to bound memory.
const HASH_QUEUE: usize = 4;

/// Long reads are decrypted by several threads, each taking every n-th segment of this size.
const SEGMENT: u64 = 4 * 1024 * 1024;

/// At most this many decrypting threads per read; more buys little and costs memory.
const MAX_DECRYPTERS: usize = 4;

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
///
/// age's chunks are independent, so a long range is split into segments decrypted in parallel
/// (each thread with its own reader) and sent in order: decryption is the costliest step.
pub fn read_range(
    storage: &dyn Storage,
    object_key: &str,
    key: &ContentKey,
    range: Range<u64>,
    expected: Option<[u8; 32]>,
    sink: &mut dyn Sink,
) -> Result<(), VaultError> {
    let decrypters = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(MAX_DECRYPTERS);
    let segments = range.end.saturating_sub(range.start).div_ceil(SEGMENT);
    std::thread::scope(|scope| {
        if decrypters > 1 && segments > 1 {
            let mut pieces = in_parallel(scope, storage, object_key, key, &range, decrypters);
            deliver(scope, &mut pieces, expected, sink)
        } else {
            let mut plaintext = open_at(storage, object_key, key, range.start)?;
            let mut pieces = in_pieces(&mut plaintext, range.clone());
            deliver(scope, &mut pieces, expected, sink)
        }
    })
}

fn deliver<'scope>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    pieces: &mut dyn Iterator<Item = Result<Bytes, VaultError>>,
    expected: Option<[u8; 32]>,
    sink: &mut dyn Sink,
) -> Result<(), VaultError> {
    match expected {
        None => send(pieces, None, sink).map(|_| ()),
        Some(expected) => send_checked(scope, pieces, expected, sink),
    }
}

/// Sends every piece, checking the whole's SHA-256 on another thread before the last goes out.
fn send_checked<'scope>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    pieces: &mut dyn Iterator<Item = Result<Bytes, VaultError>>,
    expected: [u8; 32],
    sink: &mut dyn Sink,
) -> Result<(), VaultError> {
    let (queue, hashing_queue) = sync_channel::<Bytes>(HASH_QUEUE);
    let hashing = scope.spawn(move || {
        let mut hasher = Sha256::new();
        for piece in hashing_queue {
            hasher.update(&piece);
        }
        <[u8; 32]>::from(hasher.finalize())
    });
    let held = match send(pieces, Some(queue), sink)? {
        Sent::Stopped => return Ok(()),
        Sent::HeldBack(held) => held,
    };
    let actual = hashing
        .join()
        .map_err(|_| VaultError::Crypto("the hashing thread failed".to_owned()))?;
    if actual != expected {
        return Err(VaultError::Corrupt {
            problem: "the content does not match the hash registered when it was stored".to_owned(),
        });
    }
    if let Some(last) = held {
        sink.send(last);
    }
    Ok(())
}

/// How sending ended: the client left, or everything but the last piece went out.
enum Sent {
    Stopped,
    HeldBack(Option<Bytes>),
}

/// Sends pieces to `sink`, each also queued for hashing when a queue is given, in which case the
/// last piece is held back for the caller to send once the hash matches.
fn send(
    pieces: &mut dyn Iterator<Item = Result<Bytes, VaultError>>,
    hashing: Option<SyncSender<Bytes>>,
    sink: &mut dyn Sink,
) -> Result<Sent, VaultError> {
    let mut held: Option<Bytes> = None;
    for piece in pieces {
        let piece = piece?;
        let Some(queue) = &hashing else {
            if !sink.send(piece) {
                return Ok(Sent::Stopped);
            }
            continue;
        };
        if queue.send(piece.clone()).is_err() {
            return Err(VaultError::Crypto("the hashing thread stopped".to_owned()));
        }
        if let Some(previous) = held.replace(piece)
            && !sink.send(previous)
        {
            return Ok(Sent::Stopped);
        }
    }
    Ok(Sent::HeldBack(held))
}

/// Opens the object's plaintext positioned at `start`.
fn open_at(
    storage: &dyn Storage,
    object_key: &str,
    key: &ContentKey,
    start: u64,
) -> Result<impl Read + Seek, VaultError> {
    let object = storage.open(object_key)?;
    // age reads whole 64 KiB chunks, so a buffer in between would only add a copy.
    let decryptor = age::Decryptor::new(object).map_err(|e| VaultError::Corrupt {
        problem: format!("the object's header cannot be read: {e}"),
    })?;
    let mut plaintext = decryptor
        .decrypt(std::iter::once(key.identity() as &dyn age::Identity))
        .map_err(|e| VaultError::Corrupt {
            problem: format!("the object does not open with its content key: {e}"),
        })?;
    plaintext
        .seek(SeekFrom::Start(start))
        .map_err(corrupt_or_io)?;
    Ok(plaintext)
}

/// Reads `span` of `plaintext` (already positioned at its start) in pieces.
fn in_pieces(
    plaintext: &mut impl Read,
    span: Range<u64>,
) -> impl Iterator<Item = Result<Bytes, VaultError>> + '_ {
    let mut remaining = span.end.saturating_sub(span.start);
    std::iter::from_fn(move || {
        if remaining == 0 {
            return None;
        }
        let want = usize::try_from(remaining.min(PIECE as u64)).unwrap_or(PIECE);
        remaining -= want as u64;
        Some(read_piece(plaintext, want))
    })
    .scan(false, |failed, piece| {
        // After an error there is nothing more to read.
        if *failed {
            return None;
        }
        *failed = piece.is_err();
        Some(piece)
    })
}

fn read_piece(plaintext: &mut impl Read, want: usize) -> Result<Bytes, VaultError> {
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
    Ok(Bytes::from(buffer))
}

/// Decrypts `range` with `decrypters` threads, thread `n` taking segments `n`, `n + decrypters`, …
/// each a segment ahead at most; yields the pieces in order.
fn in_parallel<'scope>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    storage: &'scope dyn Storage,
    object_key: &'scope str,
    key: &'scope ContentKey,
    range: &Range<u64>,
    decrypters: usize,
) -> InOrder {
    let segments = Segments {
        range: range.clone(),
    };
    let ahead = usize::try_from(SEGMENT).unwrap_or(usize::MAX) / PIECE / 2;
    let receivers = (0..decrypters as u64)
        .map(|first| {
            let (sender, receiver) = sync_channel(ahead);
            let mine: Vec<Range<u64>> = (first..segments.count())
                .step_by(decrypters)
                .map(|index| segments.get(index))
                .collect();
            scope.spawn(move || decrypt_segments(storage, object_key, key, &mine, &sender));
            receiver
        })
        .collect();
    InOrder {
        receivers,
        segments,
        next_segment: 0,
        from: 0,
        left_in_segment: 0,
        failed: false,
    }
}

/// A range cut into segments.
struct Segments {
    range: Range<u64>,
}

impl Segments {
    fn count(&self) -> u64 {
        self.range
            .end
            .saturating_sub(self.range.start)
            .div_ceil(SEGMENT)
    }

    fn get(&self, index: u64) -> Range<u64> {
        let start = self.range.start + index * SEGMENT;
        start..(start + SEGMENT).min(self.range.end)
    }
}

/// The decrypting threads' pieces, taken from each in turn, a segment at a time.
struct InOrder {
    receivers: Vec<Receiver<Result<Bytes, VaultError>>>,
    segments: Segments,
    next_segment: u64,
    /// Which thread the current segment comes from.
    from: usize,
    left_in_segment: u64,
    failed: bool,
}

impl Iterator for InOrder {
    type Item = Result<Bytes, VaultError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        while self.left_in_segment == 0 {
            if self.next_segment >= self.segments.count() {
                return None;
            }
            let span = self.segments.get(self.next_segment);
            self.left_in_segment = span.end.saturating_sub(span.start).div_ceil(PIECE as u64);
            self.from =
                usize::try_from(self.next_segment).unwrap_or(0) % self.receivers.len().max(1);
            self.next_segment += 1;
        }
        self.left_in_segment -= 1;
        let piece = self
            .receivers
            .get(self.from)
            .and_then(|receiver| receiver.recv().ok())
            .unwrap_or_else(|| {
                Err(VaultError::Crypto(
                    "a decrypting thread stopped early".to_owned(),
                ))
            });
        self.failed = piece.is_err();
        Some(piece)
    }
}

/// One decrypting thread's work: its segments, in order, piece by piece, into `sender`.
fn decrypt_segments(
    storage: &dyn Storage,
    object_key: &str,
    key: &ContentKey,
    segments: &[Range<u64>],
    sender: &SyncSender<Result<Bytes, VaultError>>,
) {
    let Some(first) = segments.first() else {
        return;
    };
    let mut plaintext = match open_at(storage, object_key, key, first.start) {
        Ok(plaintext) => plaintext,
        Err(error) => {
            let _ = sender.send(Err(error));
            return;
        }
    };
    for span in segments {
        if let Err(error) = plaintext
            .seek(SeekFrom::Start(span.start))
            .map_err(corrupt_or_io)
        {
            let _ = sender.send(Err(error));
            return;
        }
        for piece in in_pieces(&mut plaintext, span.clone()) {
            let failed = piece.is_err();
            // The reader has gone (the client left, or another thread failed): stop.
            if sender.send(piece).is_err() || failed {
                return;
            }
        }
    }
}

/// Decrypts the whole object and returns its plaintext's SHA-256 and size, for verification.
pub fn fingerprint(
    storage: &dyn Storage,
    object_key: &str,
    key: &ContentKey,
) -> Result<([u8; 32], u64), VaultError> {
    let mut plaintext = open_at(storage, object_key, key, 0)?;
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
