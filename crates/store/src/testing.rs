//! Test support shared by every crate's tests: a fresh store per test, on SQLite by default or on
//! a fresh PostgreSQL database when `TONGBAN_TEST_PG_URL` is set, so the same tests run on both.

use std::path::PathBuf;

use secrecy::SecretString;
use sqlx::Connection;

use crate::files::DataSet;
use crate::{StorageConfig, Store, StoreError};

/// A store that lives as long as the test: a temporary folder or a fresh database.
#[derive(Debug)]
pub struct TestStore {
    pub store: Store,
    pub config: StorageConfig,
    _folder: Option<tempfile::TempDir>,
}

/// The PostgreSQL server URL for tests, when set.
pub fn postgres_url() -> Option<String> {
    std::env::var("TONGBAN_TEST_PG_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
}

/// Replaces the database name in a PostgreSQL URL.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_part = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{host_part}/{database}?{query}"),
        None => format!("{host_part}/{database}"),
    }
}

impl TestStore {
    /// A fresh, empty, migrated store on the engine under test.
    pub async fn new() -> Result<TestStore, StoreError> {
        match postgres_url() {
            Some(url) => TestStore::postgres(&url).await,
            None => TestStore::sqlite().await,
        }
    }

    pub async fn sqlite() -> Result<TestStore, StoreError> {
        let folder = tempfile::tempdir()?;
        let config = StorageConfig::Sqlite {
            folder: folder.path().to_owned(),
        };
        Ok(TestStore {
            store: crate::open(&config).await?,
            config,
            _folder: Some(folder),
        })
    }

    /// Creates a database named `tongban_t_<uuid>` on the server (CI drops leftovers).
    pub async fn postgres(url: &str) -> Result<TestStore, StoreError> {
        let name = format!("tongban_t_{}", uuid::Uuid::now_v7().simple());
        let mut admin = sqlx::PgConnection::connect(url).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await?;
        admin.close().await?;
        let config = StorageConfig::Postgres {
            url: SecretString::from(with_database(url, &name)),
        };
        Ok(TestStore {
            store: crate::open(&config).await?,
            config,
            _folder: None,
        })
    }

    /// A fresh store with the demo data imported.
    pub async fn with_demo() -> Result<TestStore, StoreError> {
        let test = TestStore::new().await?;
        test.store.catalog.import(&demo_data(), test_time()).await?;
        Ok(test)
    }
}

/// The repository's demo data folder.
pub fn demo_folder() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/demo")
}

/// The demo data set; panics with every problem when it is broken (tests only).
pub fn demo_data() -> DataSet {
    match crate::files::load_folder(&demo_folder()) {
        Ok(data) => data,
        Err(errors) => {
            let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
            panic!("the demo data does not load:\n{}", text.join("\n"))
        }
    }
}

/// A fixed instant for tests: 2026-03-02 09:00 in Shanghai.
pub fn test_time() -> jiff::Timestamp {
    jiff::Timestamp::from_second(1_772_413_200).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

/// Writes outbox messages as a case change would, without the case (for the webhook tests).
pub async fn insert_outbox(
    store: &Store,
    messages: Vec<crate::model::OutboxMessage>,
) -> Result<(), StoreError> {
    match &store.backend {
        crate::Backend::Sqlite(adapter) => adapter.insert_outbox_for_tests(messages).await,
        crate::Backend::Postgres(adapter) => adapter.insert_outbox_for_tests(messages).await,
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn the_database_name_is_replaced_and_the_rest_kept() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
            "postgres://postgres@127.0.0.1:5432/t1"
        );
        assert_eq!(
            with_database("postgres://u@h/db?sslmode=disable", "t2"),
            "postgres://u@h/t2?sslmode=disable"
        );
        assert_eq!(with_database("postgres://u@h", "t3"), "postgres://u@h/t3");
    }
}
