//! Objects in any S3-compatible store (AWS, Garage, MinIO, Ceph) through `object_store`.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::TryStreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, WriteMultipart};
use tokio::io::AsyncReadExt;

use super::{ReadSeek, Storage, StoredObject};
use crate::VaultError;

/// Where the bucket is and how to sign in to it.
#[derive(Clone)]
pub struct S3Settings {
    /// For example `https://s3.eu-west-2.amazonaws.com` or `http://127.0.0.1:3900`.
    pub endpoint: String,
    pub region: String,
    pub bucket: String,
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl std::fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Settings")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("bucket", &self.bucket)
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// Part size for uploads: large enough for S3's 5 MiB minimum, small enough to keep memory low.
const PART: usize = 8 * 1024 * 1024;

/// How much a reader fetches at a time; age chunks are 64 KiB, so this serves many at once.
const WINDOW: u64 = 1024 * 1024;

/// Objects under `objects/` in one bucket.
#[derive(Debug, Clone)]
pub struct S3Storage {
    store: Arc<dyn ObjectStore>,
    describe: String,
}

fn s3_error(doing: &'static str) -> impl Fn(object_store::Error) -> VaultError {
    move |error| VaultError::Remote {
        doing,
        message: error.to_string(),
    }
}

impl S3Storage {
    /// Connects to the bucket described by `settings`.
    pub fn new(settings: &S3Settings) -> Result<Self, VaultError> {
        let store = AmazonS3Builder::new()
            .with_endpoint(&settings.endpoint)
            .with_region(&settings.region)
            .with_bucket_name(&settings.bucket)
            .with_access_key_id(&settings.access_key_id)
            .with_secret_access_key(&settings.secret_access_key)
            .with_allow_http(settings.endpoint.starts_with("http://"))
            .with_virtual_hosted_style_request(false)
            .build()
            .map_err(s3_error("configuring S3 storage"))?;
        Ok(Self {
            store: Arc::new(store),
            describe: format!("S3 bucket `{}` at {}", settings.bucket, settings.endpoint),
        })
    }

    fn path(key: &str) -> ObjectPath {
        ObjectPath::from(format!("objects/{key}"))
    }
}

#[async_trait::async_trait]
impl Storage for S3Storage {
    fn describe(&self) -> String {
        self.describe.clone()
    }

    async fn store(&self, key: &str, staged: &Path) -> Result<(), VaultError> {
        let io = |source| VaultError::Io {
            doing: "reading a staged upload",
            source,
        };
        let mut file = tokio::fs::File::open(staged).await.map_err(io)?;
        let upload = self
            .store
            .put_multipart(&Self::path(key))
            .await
            .map_err(s3_error("starting an upload to S3"))?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART);
        let mut buffer = vec![0u8; PART];
        loop {
            let read = file.read(&mut buffer).await.map_err(io)?;
            if read == 0 {
                break;
            }
            writer
                .wait_for_capacity(4)
                .await
                .map_err(s3_error("uploading to S3"))?;
            writer.put(Bytes::copy_from_slice(
                buffer.get(..read).unwrap_or_default(),
            ));
        }
        writer
            .finish()
            .await
            .map_err(s3_error("finishing an upload to S3"))?;
        tokio::fs::remove_file(staged).await.map_err(io)?;
        Ok(())
    }

    fn open(&self, key: &str) -> Result<Box<dyn ReadSeek>, VaultError> {
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| VaultError::Crypto("no runtime to read S3 with".to_owned()))?;
        let path = Self::path(key);
        let meta = runtime.block_on(self.store.head(&path));
        let size = match meta {
            Ok(meta) => meta.size,
            Err(object_store::Error::NotFound { .. }) => {
                return Err(VaultError::Missing {
                    key: key.to_owned(),
                });
            }
            Err(error) => return Err(s3_error("opening an object in S3")(error)),
        };
        Ok(Box::new(RangeReader {
            store: Arc::clone(&self.store),
            path,
            size,
            position: 0,
            window: Bytes::new(),
            window_start: 0,
            runtime,
        }))
    }

    async fn delete(&self, key: &str) -> Result<(), VaultError> {
        match self.store.delete(&Self::path(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(error) => Err(s3_error("deleting an object in S3")(error)),
        }
    }

    async fn list(&self) -> Result<Vec<StoredObject>, VaultError> {
        let prefix = ObjectPath::from("objects");
        let mut objects: Vec<StoredObject> = self
            .store
            .list(Some(&prefix))
            .map_ok(|meta| StoredObject {
                key: meta.location.filename().unwrap_or_default().to_owned(),
                size: meta.size,
                modified: Some(meta.last_modified.into()),
            })
            .try_collect()
            .await
            .map_err(s3_error("listing S3"))?;
        objects.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(objects)
    }

    async fn size(&self, key: &str) -> Result<Option<u64>, VaultError> {
        match self.store.head(&Self::path(key)).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(error) => Err(s3_error("reading an object's size in S3")(error)),
        }
    }
}

/// Reads an S3 object through ranged GETs, a window at a time, so seeking in a long video never
/// downloads the whole object.
struct RangeReader {
    store: Arc<dyn ObjectStore>,
    path: ObjectPath,
    size: u64,
    position: u64,
    window: Bytes,
    window_start: u64,
    runtime: tokio::runtime::Handle,
}

impl Read for RangeReader {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        if self.position >= self.size || buffer.is_empty() {
            return Ok(0);
        }
        let window_end = self.window_start + self.window.len() as u64;
        if self.position < self.window_start || self.position >= window_end {
            let end = (self.position + WINDOW).min(self.size);
            self.window = self
                .runtime
                .block_on(self.store.get_range(&self.path, self.position..end))
                .map_err(std::io::Error::other)?;
            self.window_start = self.position;
        }
        let offset =
            usize::try_from(self.position - self.window_start).map_err(std::io::Error::other)?;
        let available = self.window.get(offset..).unwrap_or_default();
        let count = available.len().min(buffer.len());
        buffer
            .get_mut(..count)
            .unwrap_or_default()
            .copy_from_slice(available.get(..count).unwrap_or_default());
        self.position += count as u64;
        Ok(count)
    }
}

impl Seek for RangeReader {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let target = match to {
            SeekFrom::Start(offset) => Some(offset),
            SeekFrom::End(offset) => self.size.checked_add_signed(offset),
            SeekFrom::Current(offset) => self.position.checked_add_signed(offset),
        };
        self.position = target.ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "seek before the start")
        })?;
        Ok(self.position)
    }
}
