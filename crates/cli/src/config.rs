//! Configuration: defaults < `tongban.toml` < `TONGBAN_*` environment < command-line flags,
//! validated once at start-up. The database URL is a secret (it may carry a password): it is
//! held as [`SecretString`] and never logged.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::Args;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// Flags shared by every command that opens the database.
#[derive(Debug, Clone, Default, Args, Serialize)]
pub struct StorageArgs {
    /// Folder for the SQLite file and stored materials [default: ./tongban-data].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<PathBuf>,
    /// PostgreSQL URL (postgres://…); without it the embedded SQLite file in --data is used.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Settings {
    /// Address the server listens on.
    pub listen: SocketAddr,
    /// Folder for the SQLite file and stored materials.
    pub data: PathBuf,
    /// PostgreSQL URL; none means SQLite in `data`.
    #[serde(skip_serializing)]
    pub database: Option<SecretString>,
    /// Log filter, e.g. `info` or `tongban=debug,tower_http=info`.
    pub log: String,
    /// `text` for people, `json` for log collectors.
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    Text,
    Json,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data: PathBuf::from("tongban-data"),
            database: None,
            log: "info".into(),
            log_format: LogFormat::Text,
        }
    }
}

impl Settings {
    /// Layers the sources; `file` defaults to `tongban.toml` in the working folder.
    pub fn load(file: Option<&Path>) -> Result<Settings, Box<figment::Error>> {
        Self::figment(file).extract().map_err(Box::new)
    }

    pub fn figment(file: Option<&Path>) -> Figment {
        let file = file.map_or_else(|| PathBuf::from("tongban.toml"), Path::to_owned);
        Figment::from(Serialized::defaults(Settings::default()))
            .merge(Toml::file(file))
            .merge(Env::prefixed("TONGBAN_").ignore(&["config", "test_pg_url"]))
    }

    /// Applies command-line flags, the last layer.
    pub fn with_flags<T: Serialize>(self, flags: &T) -> Result<Settings, Box<figment::Error>> {
        Figment::from(Serialized::defaults(self.as_layer()))
            .merge(Serialized::defaults(flags))
            .extract()
            .map_err(Box::new)
    }

    /// The settings as a figment layer, including the secret (only ever merged, never printed).
    fn as_layer(&self) -> SettingsLayer {
        SettingsLayer {
            listen: self.listen,
            data: self.data.clone(),
            database: self.database.as_ref().map(|s| s.expose_secret().to_owned()),
            log: self.log.clone(),
            log_format: self.log_format,
        }
    }

    pub fn storage(&self) -> tongban_store::StorageConfig {
        match &self.database {
            Some(url) => tongban_store::StorageConfig::Postgres { url: url.clone() },
            None => tongban_store::StorageConfig::Sqlite {
                folder: self.data.clone(),
            },
        }
    }
}

#[derive(Serialize)]
struct SettingsLayer {
    listen: SocketAddr,
    data: PathBuf,
    #[serde(skip_serializing_if = "Option::is_none")]
    database: Option<String>,
    log: String,
    log_format: LogFormat,
}

/// Sets up `tracing`. Messages never carry personal data; see STYLE.md.
pub fn init_tracing(settings: &Settings) {
    let filter = tracing_subscriber::EnvFilter::try_new(&settings.log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let result = match settings.log_format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
    if let Err(error) = result {
        eprintln!("warning: logging was already set up: {error}");
    }
}

#[cfg(test)]
#[expect(
    clippy::result_large_err,
    reason = "figment::Jail fixes the closure's error type"
)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_the_environment_which_overrides_the_file() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "tongban.toml",
                "listen = \"127.0.0.1:9000\"\ndata = \"from-file\"\nlog = \"debug\"",
            )?;
            jail.set_env("TONGBAN_DATA", "from-env");
            let settings = Settings::load(None).unwrap();
            assert_eq!(settings.listen.port(), 9000, "the file sets the port");
            assert_eq!(
                settings.data,
                PathBuf::from("from-env"),
                "the environment beats the file"
            );
            assert_eq!(settings.log, "debug");
            let flags = StorageArgs {
                data: Some(PathBuf::from("from-flag")),
                database: None,
            };
            let settings = settings.with_flags(&flags).unwrap();
            assert_eq!(
                settings.data,
                PathBuf::from("from-flag"),
                "flags beat everything"
            );
            assert_eq!(
                settings.listen.port(),
                9000,
                "a flag not given changes nothing"
            );
            Ok(())
        });
    }

    #[test]
    fn a_malformed_setting_is_refused_at_start_up() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("tongban.toml", "listen = \"not an address\"")?;
            assert!(Settings::load(None).is_err());
            Ok(())
        });
    }

    #[test]
    fn the_database_url_is_never_printed() {
        let settings = Settings {
            database: Some(SecretString::from("postgres://u:hunter2@db/x")),
            ..Settings::default()
        };
        assert!(!format!("{settings:?}").contains("hunter2"));
        assert!(
            !serde_json::to_string(&settings)
                .unwrap()
                .contains("hunter2")
        );
    }
}
