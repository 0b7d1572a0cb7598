//! Configuration, layered: built-in defaults, then `custodian.toml`, then `CUSTODIAN_*`
//! environment variables, then command-line flags. Secrets come only from the environment.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use custodian_store::DatabaseLocation;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

use crate::CliError;

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
            ]))
            .merge(Serialized::defaults(overrides))
            .extract()
            .map_err(|error| CliError::Settings(error.to_string()))
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
