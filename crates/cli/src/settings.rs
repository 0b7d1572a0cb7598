//! Configuration, layered: built-in defaults, then `custodian.toml`, then `CUSTODIAN_*`
//! environment variables, then command-line flags. Secrets come only from the environment.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use custodian_app::vault::{KeySource, StorageChoice, VaultSettings};
use custodian_store::DatabaseLocation;
use custodian_vault::storage::S3Settings;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

use crate::CliError;
use crate::oidc::OidcSettings;

/// Settings after every layer is applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// Where the SQLite register (and, later, the media vault) live.
    pub data_dir: PathBuf,
    /// The address to listen on.
    pub listen: SocketAddr,
    /// A PostgreSQL (or SQLite) URL; by default the SQLite file in the data folder.
    pub database_url: Option<String>,
    /// `pretty` for people, `json` for log collectors.
    pub log_format: LogFormat,
    /// Where media is kept: `local` (in the data folder) or `s3`.
    pub storage: StorageKind,
    /// For S3 storage: the endpoint, such as `https://s3.eu-west-2.amazonaws.com`.
    pub s3_endpoint: Option<String>,
    pub s3_region: String,
    pub s3_bucket: Option<String>,
    pub s3_access_key_id: Option<String>,
    /// The largest upload accepted, in bytes.
    pub max_upload_bytes: u64,
    /// The key-encryption key file (default `keys/kek.txt` in the data folder).
    pub kek_file: Option<PathBuf>,
    /// Sign-in attempts (passwords and codes) one client address may make in a minute.
    pub sign_in_attempts_per_minute: u32,
    /// Whether the last address in `X-Forwarded-For` is the client's: only behind a proxy that sets it.
    pub trust_forwarded_for: bool,
    /// Single sign-on with OpenID Connect; off when absent.
    pub oidc: Option<OidcSettings>,
}

/// Where media is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageKind {
    Local,
    S3,
}

/// How logs are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("custodian-data"),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: None,
            log_format: LogFormat::Pretty,
            storage: StorageKind::Local,
            s3_endpoint: None,
            s3_region: "us-east-1".to_owned(),
            s3_bucket: None,
            s3_access_key_id: None,
            max_upload_bytes: 16 * 1024 * 1024 * 1024,
            kek_file: None,
            sign_in_attempts_per_minute: 20,
            trust_forwarded_for: false,
            oidc: None,
        }
    }
}

/// Values given on the command line, which override everything else.
#[derive(Debug, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format: Option<LogFormat>,
}

impl Settings {
    /// Applies the layers. `config` is a file the user named (it must exist); otherwise
    /// `custodian.toml` in the working folder is read if present.
    pub fn load(config: Option<&Path>, overrides: &Overrides) -> Result<Self, CliError> {
        let file = match config {
            Some(path) if !path.exists() => {
                return Err(CliError::Settings(format!(
                    "the configuration file `{}` does not exist",
                    path.display()
                )));
            }
            Some(path) => path.to_path_buf(),
            None => PathBuf::from("custodian.toml"),
        };
        Figment::from(Serialized::defaults(Settings::default()))
            .merge(Toml::file(file))
            .merge(Env::prefixed("CUSTODIAN_").only(&[
                "data_dir",
                "listen",
                "database_url",
                "log_format",
                "storage",
                "s3_endpoint",
                "s3_region",
                "s3_bucket",
                "s3_access_key_id",
                "max_upload_bytes",
                "kek_file",
                "sign_in_attempts_per_minute",
                "trust_forwarded_for",
            ]))
            .merge(
                Env::prefixed("CUSTODIAN_OIDC_")
                    .only(&["issuer", "client_id", "public_url", "label"])
                    .map(|key| format!("oidc.{}", key.as_str()).into()),
            )
            .merge(Serialized::defaults(overrides))
            .extract()
            .map_err(|error| CliError::Settings(error.to_string()))
    }

    /// How the media vault is set up. Secrets come from the environment only: the key-encryption
    /// key as `CUSTODIAN_KEK` (instead of the key file) and `CUSTODIAN_S3_SECRET_ACCESS_KEY`.
    pub fn vault(&self) -> Result<VaultSettings, CliError> {
        let key = match std::env::var("CUSTODIAN_KEK")
            .ok()
            .filter(|k| !k.trim().is_empty())
        {
            Some(text) => KeySource::Given(text),
            None => KeySource::File(
                self.kek_file
                    .clone()
                    .unwrap_or_else(|| self.data_dir.join("keys").join("kek.txt")),
            ),
        };
        let storage = match self.storage {
            StorageKind::Local => StorageChoice::Local,
            StorageKind::S3 => {
                let missing = |what: &str| CliError::Settings(format!("S3 storage needs {what}"));
                StorageChoice::S3(S3Settings {
                    endpoint: self
                        .s3_endpoint
                        .clone()
                        .ok_or_else(|| missing("s3_endpoint (CUSTODIAN_S3_ENDPOINT)"))?,
                    region: self.s3_region.clone(),
                    bucket: self
                        .s3_bucket
                        .clone()
                        .ok_or_else(|| missing("s3_bucket (CUSTODIAN_S3_BUCKET)"))?,
                    access_key_id: self
                        .s3_access_key_id
                        .clone()
                        .ok_or_else(|| missing("s3_access_key_id (CUSTODIAN_S3_ACCESS_KEY_ID)"))?,
                    secret_access_key: std::env::var("CUSTODIAN_S3_SECRET_ACCESS_KEY")
                        .map_err(|_| missing("its secret key in CUSTODIAN_S3_SECRET_ACCESS_KEY"))?,
                })
            }
        };
        Ok(VaultSettings {
            data_dir: self.data_dir.clone(),
            key,
            storage,
            max_upload_bytes: self.max_upload_bytes,
        })
    }

    /// How sign-in attempts are limited per client address.
    pub fn sign_in_limit(&self) -> Result<custodian_web::SignInLimit, CliError> {
        let attempts_per_minute = std::num::NonZeroU32::new(self.sign_in_attempts_per_minute)
            .ok_or_else(|| {
                CliError::Settings(
                    "sign_in_attempts_per_minute (CUSTODIAN_SIGN_IN_ATTEMPTS_PER_MINUTE) must be at least 1".to_owned(),
                )
            })?;
        Ok(custodian_web::SignInLimit {
            attempts_per_minute,
            trust_forwarded_for: self.trust_forwarded_for,
        })
    }

    /// Where the register lives.
    pub fn database(&self) -> Result<DatabaseLocation, CliError> {
        match &self.database_url {
            Some(url) => Ok(DatabaseLocation::parse(url)?),
            None => Ok(DatabaseLocation::in_data_dir(&self.data_dir)),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn flags_beat_the_file_which_beats_the_defaults() {
        let folder = tempfile::tempdir().unwrap();
        let file = folder.path().join("custodian.toml");
        std::fs::write(
            &file,
            "listen = \"0.0.0.0:9000\"\ndata_dir = \"/srv/custodian\"\n",
        )
        .unwrap();
        let from_file = Settings::load(Some(&file), &Overrides::default()).unwrap();
        assert_eq!(from_file.listen, "0.0.0.0:9000".parse().unwrap());
        assert_eq!(from_file.data_dir, PathBuf::from("/srv/custodian"));
        let overrides = Overrides {
            listen: Some("127.0.0.1:7000".parse().unwrap()),
            ..Overrides::default()
        };
        let flagged = Settings::load(Some(&file), &overrides).unwrap();
        assert_eq!(flagged.listen, "127.0.0.1:7000".parse().unwrap());
        assert_eq!(flagged.data_dir, PathBuf::from("/srv/custodian"));
    }

    #[test]
    fn sign_in_attempts_are_limited_per_minute_and_forwarded_addresses_untrusted_by_default() {
        let settings = Settings::default();
        let limit = settings.sign_in_limit().unwrap();
        assert_eq!(limit.attempts_per_minute.get(), 20);
        assert!(!limit.trust_forwarded_for);
        let folder = tempfile::tempdir().unwrap();
        let file = folder.path().join("custodian.toml");
        std::fs::write(
            &file,
            "sign_in_attempts_per_minute = 5\ntrust_forwarded_for = true\n",
        )
        .unwrap();
        let from_file = Settings::load(Some(&file), &Overrides::default()).unwrap();
        assert_eq!(
            from_file.sign_in_limit().unwrap().attempts_per_minute.get(),
            5
        );
        assert!(from_file.trust_forwarded_for);
        let none = Settings {
            sign_in_attempts_per_minute: 0,
            ..Settings::default()
        };
        assert!(none.sign_in_limit().is_err());
    }

    #[test]
    fn single_sign_on_is_off_unless_configured_and_its_secret_is_never_read_from_the_file() {
        let folder = tempfile::tempdir().unwrap();
        let file = folder.path().join("custodian.toml");
        std::fs::write(&file, "listen = \"127.0.0.1:9000\"\n").unwrap();
        assert_eq!(
            Settings::load(Some(&file), &Overrides::default())
                .unwrap()
                .oidc,
            None
        );
        std::fs::write(
            &file,
            "[oidc]\nissuer = \"https://login.example.invalid\"\nclient_id = \"custodian\"\npublic_url = \"https://custodian.example.invalid\"\nlabel = \"Sign in with NHS Identity\"\n",
        )
        .unwrap();
        let oidc = Settings::load(Some(&file), &Overrides::default())
            .unwrap()
            .oidc
            .unwrap();
        assert_eq!(oidc.label, "Sign in with NHS Identity");
        assert_eq!(oidc.client_id, "custodian");
        std::fs::write(
            &file,
            "[oidc]\nissuer = \"https://login.example.invalid\"\nclient_id = \"custodian\"\npublic_url = \"https://custodian.example.invalid\"\nclient_secret = \"not here\"\n",
        )
        .unwrap();
        let error = Settings::load(Some(&file), &Overrides::default()).unwrap_err();
        assert!(error.to_string().contains("client_secret"), "{error}");
    }

    #[test]
    fn a_named_file_that_is_missing_is_an_error() {
        let error = Settings::load(
            Some(Path::new("/nonexistent/custodian.toml")),
            &Overrides::default(),
        )
        .unwrap_err();
        assert!(error.to_string().contains("does not exist"));
    }

    #[test]
    fn the_default_database_is_sqlite_in_the_data_folder() {
        let settings = Settings::default();
        assert_eq!(
            settings.database().unwrap(),
            DatabaseLocation::Sqlite(PathBuf::from("custodian-data/register.db"))
        );
    }
}
