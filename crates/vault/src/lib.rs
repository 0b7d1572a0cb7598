//! Custodian's media vault: every recording encrypted with its own key (age, X25519), the key
//! wrapped by a key-encryption key kept outside the database, integrity checked on every read,
//! objects kept in local files or an S3-compatible store, and signed destruction certificates.

pub mod certificate;
pub mod ingest;
pub mod keys;
pub mod read;
pub mod sniff;
pub mod storage;

use std::path::PathBuf;

/// Why a vault operation failed.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("the key file `{}` cannot be used: {source}", path.display())]
    KeyFile {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("{origin} does not hold an age identity (a line starting `AGE-SECRET-KEY-1`)")]
    BadKey { origin: String },

    #[error(
        "the key-encryption key does not open this key: it is not the key the register was set up with"
    )]
    WrongKey,

    #[error("the file is empty")]
    Empty,

    #[error("more bytes arrived than the {declared} declared")]
    LongerThanDeclared { declared: u64 },

    #[error("the upload ended after {received} of the {declared} bytes declared")]
    ShorterThanDeclared { declared: u64, received: u64 },

    #[error("the file is {detected}, not a photograph, audio or video recording")]
    NotMedia { detected: String },

    #[error("the upload is already finished")]
    Finished,

    #[error("the stored media failed its integrity check: {problem}")]
    Corrupt { problem: String },

    #[error("the object `{key}` is missing from storage")]
    Missing { key: String },

    #[error("`{key}` is not a valid object key")]
    BadObjectKey { key: String },

    #[error("an object is already stored at `{key}`; objects are never overwritten")]
    AlreadyStored { key: String },

    #[error("the certificate is not valid: {problem}")]
    BadCertificate { problem: String },

    #[error("{doing}: {source}")]
    Io {
        doing: &'static str,
        source: std::io::Error,
    },

    #[error("{doing}: {message}")]
    Remote {
        doing: &'static str,
        message: String,
    },

    #[error("cryptography failed: {0}")]
    Crypto(String),
}

impl From<std::io::Error> for VaultError {
    fn from(source: std::io::Error) -> Self {
        Self::Io {
            doing: "encrypting",
            source,
        }
    }
}

impl VaultError {
    /// A stable code for clients.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Empty => "media.empty",
            Self::LongerThanDeclared { .. } => "media.longer_than_declared",
            Self::ShorterThanDeclared { .. } => "media.shorter_than_declared",
            Self::NotMedia { .. } => "media.type_not_accepted",
            Self::Corrupt { .. } => "media.corrupted",
            Self::Missing { .. } => "media.missing",
            Self::BadCertificate { .. } => "certificate.invalid",
            Self::WrongKey | Self::BadKey { .. } | Self::KeyFile { .. } => "vault.key",
            _ => "vault.failure",
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::ingest::Ingest;
    use crate::read::{fingerprint, read_range};
    use crate::storage::{LocalStorage, Storage};

    /// A synthetic MP4-looking file: an `ftyp` box, then pseudo-random bytes.
    fn media(size: usize) -> Vec<u8> {
        let mut bytes = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom".to_vec();
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        while bytes.len() < size {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            bytes.extend_from_slice(&state.to_le_bytes());
        }
        bytes.truncate(size);
        bytes
    }

    async fn stored(
        size: usize,
    ) -> (
        tempfile::TempDir,
        Arc<LocalStorage>,
        crate::ingest::Staged,
        Vec<u8>,
    ) {
        let folder = tempfile::tempdir().unwrap();
        let storage = Arc::new(LocalStorage::new(folder.path().join("objects")).unwrap());
        let plain = media(size);
        let mut ingest = Ingest::start(
            &folder.path().join("staging"),
            plain.len() as u64,
            crate::sniff::Accept::Media,
        )
        .unwrap();
        for piece in plain.chunks(10_000) {
            ingest.write(piece).unwrap();
        }
        let staged = ingest.finish().unwrap();
        let staged_path = staged.path.clone();
        storage.store("r1.age", &staged_path).await.unwrap();
        (folder, storage, staged, plain)
    }

    fn read(
        storage: &dyn Storage,
        staged: &crate::ingest::Staged,
        range: std::ops::Range<u64>,
        whole: bool,
    ) -> Result<Vec<u8>, VaultError> {
        let mut out = Vec::new();
        let mut sink = |piece: bytes::Bytes| {
            out.extend_from_slice(&piece);
            true
        };
        read_range(
            storage,
            "r1.age",
            &staged.key,
            range,
            whole.then_some(staged.sha256),
            &mut sink,
        )?;
        Ok(out)
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn s1_what_is_stored_is_ciphertext_and_reads_back_exactly() {
        let (folder, storage, staged, plain) = stored(300_000).await;
        let on_disk = std::fs::read(folder.path().join("objects/r1/r1.age")).unwrap();
        assert!(on_disk.starts_with(b"age-encryption.org/v1"));
        assert!(
            !on_disk
                .windows(64)
                .any(|w| plain.windows(64).take(64).any(|p| p == w)),
            "no plaintext on disk"
        );
        let storage = storage.clone();
        tokio::task::spawn_blocking(move || {
            assert_eq!(
                read(storage.as_ref(), &staged, 0..300_000, true).unwrap(),
                plain
            );
            assert_eq!(
                fingerprint(storage.as_ref(), "r1.age", &staged.key).unwrap(),
                (staged.sha256, 300_000)
            );
        })
        .await
        .unwrap();
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn ranges_across_chunk_boundaries_read_exactly() {
        let (_folder, storage, staged, plain) = stored(200_000).await;
        tokio::task::spawn_blocking(move || {
            let chunk = 64 * 1024u64;
            for range in [
                0..1,
                chunk - 1..chunk + 1,
                chunk - 10..2 * chunk + 10,
                2 * chunk..2 * chunk + 1,
                199_990..200_000,
                5..130_000,
            ] {
                let expected = plain
                    .get(range.start as usize..range.end as usize)
                    .unwrap()
                    .to_vec();
                assert_eq!(
                    read(storage.as_ref(), &staged, range.clone(), false).unwrap(),
                    expected,
                    "{range:?}"
                );
            }
        })
        .await
        .unwrap();
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn r6_altered_ciphertext_is_refused_not_served() {
        let (folder, storage, staged, _plain) = stored(200_000).await;
        let path = folder.path().join("objects/r1/r1.age");
        let mut bytes = std::fs::read(&path).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0x01;
        std::fs::write(&path, &bytes).unwrap();
        tokio::task::spawn_blocking(move || {
            let error = read(storage.as_ref(), &staged, 0..200_000, true).unwrap_err();
            assert!(matches!(error, VaultError::Corrupt { .. }), "{error}");
            assert!(
                read(storage.as_ref(), &staged, 0..10, false).is_ok(),
                "chunks before the damage still read"
            );
            bytes.truncate(bytes.len() - 100);
            std::fs::write(&path, &bytes).unwrap();
            // Chunks before the cut are still authentic; the cut shows where the final chunk was.
            assert!(read(storage.as_ref(), &staged, 150_000..160_000, false).is_ok());
            assert!(matches!(
                read(storage.as_ref(), &staged, 190_000..200_000, false),
                Err(VaultError::Corrupt { .. })
            ));
        })
        .await
        .unwrap();
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn long_reads_are_decrypted_in_parallel_and_arrive_whole_and_in_order() {
        let mib = 1024 * 1024u64;
        let size = 13 * mib + 12_345;
        let folder = tempfile::tempdir().unwrap();
        let storage = Arc::new(LocalStorage::new(folder.path().join("objects")).unwrap());
        let plain = media(size as usize);
        let mut ingest = Ingest::start(
            &folder.path().join("staging"),
            size,
            crate::sniff::Accept::Media,
        )
        .unwrap();
        // Frames of uneven sizes, hashed on one thread while encrypted on another.
        let frames = plain
            .chunks(100_003)
            .map(bytes::Bytes::copy_from_slice)
            .collect::<Vec<_>>();
        ingest.write_frames(frames.into_iter()).unwrap();
        let staged = ingest.finish().unwrap();
        let expected_hash: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(&plain).into();
        assert_eq!(staged.sha256, expected_hash);
        storage.store("r1.age", &staged.path).await.unwrap();
        let object = folder.path().join("objects/r1/r1.age");
        tokio::task::spawn_blocking(move || {
            assert_eq!(
                read(storage.as_ref(), &staged, 0..size, true).unwrap(),
                plain
            );
            for range in [
                4 * mib - 10..8 * mib + 10,
                1..size - 1,
                12 * mib..size,
                3 * mib..3 * mib + 5,
            ] {
                let expected = plain.get(range.start as usize..range.end as usize).unwrap();
                assert_eq!(
                    read(storage.as_ref(), &staged, range.clone(), false).unwrap(),
                    expected,
                    "{range:?}"
                );
            }
            // Damage in the third segment: the read fails there, having sent only what came before.
            let mut bytes = std::fs::read(&object).unwrap();
            let damaged = 9 * mib as usize;
            bytes[damaged] ^= 0x80;
            std::fs::write(&object, &bytes).unwrap();
            let mut received = 0u64;
            let mut sink = |piece: bytes::Bytes| {
                received += piece.len() as u64;
                true
            };
            let error = read_range(
                storage.as_ref(),
                "r1.age",
                &staged.key,
                0..size,
                Some(staged.sha256),
                &mut sink,
            )
            .unwrap_err();
            assert!(matches!(error, VaultError::Corrupt { .. }), "{error}");
            assert!(
                received <= damaged as u64,
                "nothing after the damage was sent"
            );
        })
        .await
        .unwrap();
    }

    #[test]
    fn uploads_that_break_their_declared_length_or_are_not_media_leave_nothing() {
        let folder = tempfile::tempdir().unwrap();
        let staging = folder.path().join("staging");
        assert!(matches!(
            Ingest::start(&staging, 0, crate::sniff::Accept::Media),
            Err(VaultError::Empty)
        ));
        let mut long = Ingest::start(&staging, 10, crate::sniff::Accept::Media).unwrap();
        assert!(matches!(
            long.write(&media(11)),
            Err(VaultError::LongerThanDeclared { .. })
        ));
        drop(long);
        let mut short = Ingest::start(&staging, 100_000, crate::sniff::Accept::Media).unwrap();
        short.write(&media(50_000)).unwrap();
        assert!(matches!(
            short.finish(),
            Err(VaultError::ShorterThanDeclared { .. })
        ));
        let mut html = Ingest::start(&staging, 20_000, crate::sniff::Accept::Media).unwrap();
        let mut page = b"<!DOCTYPE html><html><body><script>alert(1)</script>".to_vec();
        page.resize(20_000, b' ');
        assert!(matches!(
            html.write(&page),
            Err(VaultError::NotMedia { .. })
        ));
        drop(html);
        assert_eq!(
            std::fs::read_dir(&staging).unwrap().count(),
            0,
            "nothing is left in staging"
        );
    }
}
