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
    /// The 12345 hotline's deadlines and routing (REFERENCE §6).
    #[serde(default)]
    pub hotline: HotlineSettings,
    /// Ratings: the rectification deadline (REFERENCE §3).
    #[serde(default)]
    pub feedback: FeedbackSettings,
    /// Folder of further calendar years, one `<year>.toml` per year in the format of
    /// `data/calendar/` (a new year's holiday notice, loaded without a new release; a file for
    /// an embedded year replaces it) [default: `calendar` in the data folder].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calendar_folder: Option<PathBuf>,
    /// Start the clock at this instant and let it run on from there (training and demonstration
    /// environments, tests), e.g. `2026-06-01T09:00:00+08:00`; none is the real time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock_start: Option<jiff::Timestamp>,
}

/// `[hotline]`: deadlines per type and urgency, reminders, extensions (`[hotline.deadlines]`)
/// and the routing table (`[hotline.routing]`: `categories` and `[[hotline.routing.rules]]`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HotlineSettings {
    pub deadlines: tongban_domain::hotline::DeadlinePolicy,
    /// Replaces the demo city's routing table (`data/demo/hotline.toml`) when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub routing: Option<tongban_domain::hotline::RoutingTable>,
}

/// `[feedback]`: working days a bad rating's rectification is due in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FeedbackSettings {
    pub rectification_days: u32,
}

impl Default for FeedbackSettings {
    fn default() -> Self {
        FeedbackSettings {
            rectification_days: tongban_domain::feedback::RectificationPolicy::default()
                .working_days,
        }
    }
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
            hotline: HotlineSettings::default(),
            feedback: FeedbackSettings::default(),
            calendar_folder: None,
            clock_start: None,
        }
    }
}

/// A setting that is well-formed but not acceptable (checked once at start-up).
#[derive(Debug)]
pub struct InvalidSetting(String);

impl std::fmt::Display for InvalidSetting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InvalidSetting {}

impl Settings {
    /// Layers the sources; `file` defaults to `tongban.toml` in the working folder.
    pub fn load(file: Option<&Path>) -> Result<Settings, Box<dyn std::error::Error>> {
        let settings: Settings = Self::figment(file).extract().map_err(Box::new)?;
        settings.policies()?;
        Ok(settings)
    }

    /// Nested settings come from the environment with `__` between the levels, e.g.
    /// `TONGBAN_FEEDBACK__RECTIFICATION_DAYS=7`.
    pub fn figment(file: Option<&Path>) -> Figment {
        let file = file.map_or_else(|| PathBuf::from("tongban.toml"), Path::to_owned);
        Figment::from(Serialized::defaults(Settings::default()))
            .merge(Toml::file(file))
            .merge(
                Env::prefixed("TONGBAN_")
                    .ignore(&["config", "test_pg_url"])
                    .split("__"),
            )
    }

    /// The configured rules for the web layer, checked: deadlines in range, a routing table
    /// whose rules name listed categories.
    pub fn policies(&self) -> Result<tongban_web::Policies, InvalidSetting> {
        let invalid = |section: &str, error: &dyn std::fmt::Display| {
            InvalidSetting(format!("[{section}] {error}"))
        };
        let deadlines = self.hotline.deadlines.clone();
        deadlines
            .check()
            .map_err(|e| invalid("hotline.deadlines", &e))?;
        let rectification = tongban_domain::feedback::RectificationPolicy {
            working_days: self.feedback.rectification_days,
        };
        rectification.check().map_err(|e| invalid("feedback", &e))?;
        let routing = match &self.hotline.routing {
            Some(table) => {
                table.check().map_err(|e| invalid("hotline.routing", &e))?;
                table.clone()
            }
            None => {
                tongban_web::Policies::demo_routing().map_err(|e| invalid("hotline.routing", &e))?
            }
        };
        Ok(tongban_web::Policies {
            deadlines,
            rectification,
            routing: std::sync::Arc::new(routing),
        })
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
            hotline: self.hotline.clone(),
            feedback: self.feedback.clone(),
            calendar_folder: self.calendar_folder.clone(),
            clock_start: self.clock_start,
        }
    }

    /// The clock: the real time, or the real time moved to start at `clock_start`.
    pub fn clock(&self) -> std::sync::Arc<dyn tongban_domain::clock::Clock> {
        match self.clock_start {
            Some(start) => std::sync::Arc::new(tongban_web::ShiftedClock::starting_at(start)),
            None => std::sync::Arc::new(tongban_web::SystemClock),
        }
    }

    /// The working-day calendar: the embedded official years and the files of the calendar
    /// folder (a missing folder adds nothing).
    pub fn calendar(&self) -> Result<tongban_domain::calendar::Calendar, InvalidSetting> {
        let folder = self
            .calendar_folder
            .clone()
            .unwrap_or_else(|| self.data.join("calendar"));
        calendar_with_folder(&folder)
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
    hotline: HotlineSettings,
    feedback: FeedbackSettings,
    #[serde(skip_serializing_if = "Option::is_none")]
    calendar_folder: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    clock_start: Option<jiff::Timestamp>,
}

/// The embedded official calendar with the years of `folder` (`<year>.toml` each; other files
/// are ignored, a file whose name is not its year is refused).
pub fn calendar_with_folder(
    folder: &Path,
) -> Result<tongban_domain::calendar::Calendar, InvalidSetting> {
    use tongban_domain::calendar::{Calendar, YearData};
    let official = Calendar::official()
        .map_err(|e| InvalidSetting(format!("the embedded calendar is broken: {e}")))?;
    let entries = match std::fs::read_dir(folder) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(official),
        Err(error) => {
            return Err(InvalidSetting(format!(
                "[calendar_folder] cannot read {}: {error}",
                folder.display()
            )));
        }
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    let mut years = Vec::with_capacity(paths.len());
    for path in paths {
        let bad = |what: &dyn std::fmt::Display| {
            InvalidSetting(format!("[calendar_folder] {}: {what}", path.display()))
        };
        let text = std::fs::read_to_string(&path).map_err(|e| bad(&e))?;
        let data = YearData::parse_toml(&text).map_err(|e| bad(&e))?;
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        if stem != data.year().to_string() {
            return Err(bad(&format!(
                "the file describes {}, so it must be named {}.toml",
                data.year(),
                data.year()
            )));
        }
        years.push(data);
    }
    official
        .with_years(years)
        .map_err(|e| InvalidSetting(format!("[calendar_folder] {e}")))
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
    fn configured_rules_change_the_computed_deadlines() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "tongban.toml",
                r#"
[feedback]
rectification_days = 5

[hotline.deadlines]
complaint_days = 7

[hotline.routing]
categories = [{ code = "road", name = "道路交通" }]

[[hotline.routing.rules]]
category = "road"
area = "990102"
department = "east-approval"
"#,
            )?;
            let policies = Settings::load(None).unwrap().policies().unwrap();
            let calendar = tongban_domain::calendar::Calendar::official().unwrap();
            let monday = jiff::civil::date(2026, 3, 2);
            // Five working days after Mon 2026-03-02 is Mon 03-09 (the default 15: 03-23).
            assert_eq!(
                policies.rectification.due_on(&calendar, monday).unwrap(),
                jiff::civil::date(2026, 3, 9)
            );
            // A complaint: 7 working days → Wed 03-11 (the default 13: Thu 03-19).
            let due = policies
                .deadlines
                .due_on(
                    &calendar,
                    tongban_domain::hotline::TicketType::Complaint,
                    tongban_domain::hotline::Urgency::Normal,
                    monday,
                )
                .unwrap();
            assert_eq!(due, jiff::civil::date(2026, 3, 11));
            // What is not configured keeps its default.
            assert_eq!(policies.deadlines.consultation_days, 3);
            assert_eq!(
                policies
                    .routing
                    .route("road", "990102001000")
                    .map(|d| d.as_str()),
                Some("east-approval")
            );
            assert_eq!(policies.routing.categories.len(), 1);
            Ok(())
        });
    }

    #[test]
    fn a_year_file_in_the_data_folder_extends_the_calendar() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("TONGBAN_DATA", "data");
            let settings = Settings::load(None).unwrap();
            // No folder: the embedded years only.
            assert!(!settings.calendar().unwrap().has_year(2027));
            std::fs::create_dir_all(jail.directory().join("data/calendar"))
                .map_err(|e| e.to_string())?;
            // Test data, not a notice.
            let year_2027 = "year = 2027\nsource = \"test\"\n[[holidays]]\nname = \"元旦\"\nfrom = \"2027-01-01\"\nto = \"2027-01-01\"\n";
            jail.create_file("data/calendar/2027.toml", year_2027)?;
            jail.create_file("data/calendar/README.txt", "not a year")?;
            let calendar = settings.calendar().unwrap();
            assert_eq!(calendar.years(), vec![2025, 2026, 2027]);
            assert_eq!(
                calendar
                    .add_working_days(jiff::civil::date(2026, 12, 31), 1)
                    .unwrap(),
                jiff::civil::date(2027, 1, 4)
            );
            // A file named for another year, or one that does not parse, is refused by name.
            jail.create_file("data/calendar/2028.toml", year_2027)?;
            let error = settings.calendar().unwrap_err().to_string();
            assert!(
                error.contains("2028.toml") && error.contains("named 2027.toml"),
                "{error}"
            );
            jail.create_file("data/calendar/2028.toml", "year = \"soon\"")?;
            let error = settings.calendar().unwrap_err().to_string();
            assert!(
                error.contains("2028.toml") && error.contains("not valid"),
                "{error}"
            );
            Ok(())
        });
    }

    #[test]
    fn the_clock_starts_where_the_setting_says() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("TONGBAN_CLOCK_START", "2026-06-01T01:00:00Z");
            let settings = Settings::load(None).unwrap();
            let start: jiff::Timestamp = "2026-06-01T01:00:00Z".parse().unwrap();
            assert_eq!(settings.clock_start, Some(start));
            let now = settings.clock().now();
            assert!(now >= start && now.duration_since(start).as_secs() < 5);
            // Without the setting, the real time.
            let real = Settings::default().clock().now();
            assert!(real.duration_since(jiff::Timestamp::now()).as_secs().abs() < 5);
            jail.set_env("TONGBAN_CLOCK_START", "next tuesday");
            assert!(
                Settings::load(None).is_err(),
                "a malformed instant is refused"
            );
            Ok(())
        });
    }

    #[test]
    fn nested_rules_come_from_the_environment_too() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("TONGBAN_FEEDBACK__RECTIFICATION_DAYS", "7");
            jail.set_env("TONGBAN_HOTLINE__DEADLINES__HELP_DAYS", "2");
            let settings = Settings::load(None).unwrap();
            assert_eq!(settings.feedback.rectification_days, 7);
            assert_eq!(settings.hotline.deadlines.help_days, 2);
            let defaults = Settings::default().policies().unwrap();
            assert_eq!(defaults.rectification.working_days, 15);
            assert!(defaults.routing.categories.len() >= 8, "the demo routing");
            Ok(())
        });
    }

    #[test]
    fn unacceptable_rules_are_refused_at_start_up() {
        for text in [
            "[feedback]\nrectification_days = 0",
            "[hotline.deadlines]\ncomplaint_days = 400",
            "[hotline.deadlines]\nsame_day = true",
            "[hotline.routing]\ncategories = [{ code = \"road\", name = \"道路\" }]\n\
             [[hotline.routing.rules]]\ncategory = \"noise\"\narea = \"*\"\ndepartment = \"city-ecology\"",
        ] {
            figment::Jail::expect_with(|jail| {
                jail.create_file("tongban.toml", text)?;
                assert!(Settings::load(None).is_err(), "{text}");
                Ok(())
            });
        }
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
