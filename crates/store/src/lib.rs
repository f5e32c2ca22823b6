//! Storage for tongban: ports (traits in [`ports`]) that the rest of the platform calls, and two
//! adapters behind them — SQLite, the embedded default, and PostgreSQL for production — each with
//! its own forward-only migrations (`migrations/sqlite`, `migrations/postgres`).
//!
//! The engine is chosen at start-up from the configuration ([`StorageConfig`]); there is no
//! `sqlx::Any`. Both adapters compile the same portable SQL (`src/sql/*.rs`, included into each
//! adapter module with the engine's types), and one conformance suite (`tests/conformance.rs`)
//! runs against both.
//!
//! Every table has an explicit primary key and ids are UUIDv7 (no sequences), so that the schema
//! is ready for a distributed PostgreSQL-compatible engine; timestamps are Unix microseconds.
//!
//! ```no_run
//! # async fn demo() -> Result<(), tongban_store::StoreError> {
//! let store = tongban_store::open(&tongban_store::StorageConfig::Sqlite {
//!     folder: "tongban-data".into(),
//! })
//! .await?;
//! assert!(store.catalog.is_empty().await?);
//! # Ok(()) }
//! ```

pub mod bench;
pub mod bench_bundles;
pub mod error;
pub mod files;
pub mod model;
mod model_accounts;
mod model_agents;
mod model_bundles;
mod model_cases;
mod model_feedback;
mod model_halls;
mod model_stats;
mod model_webhooks;
pub mod ports;
pub mod postgres;
pub mod seed;
pub mod sqlite;
pub mod writer;

use std::path::PathBuf;
use std::sync::Arc;

use secrecy::SecretString;

pub use error::StoreError;
pub use ports::AccountStore;
pub use ports::AgentStore;
pub use ports::BundleCaseStore;
pub use ports::HallStore;
pub use ports::WebhookStore;
pub use ports::{CaseStore, CatalogStore};
pub use ports::{FeedbackStore, HotlineStore, StatsStore};

/// Which engine, and where.
#[derive(Debug, Clone)]
pub enum StorageConfig {
    /// `tongban.sqlite3` in this folder (created when missing).
    Sqlite { folder: PathBuf },
    /// A PostgreSQL URL; it may carry a password, so it stays secret.
    Postgres { url: SecretString },
}

/// The engine in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    pub fn name(&self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
        }
    }
}

/// The opened store: one handle per port, cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pub engine: Engine,
    pub catalog: Arc<dyn CatalogStore>,
    pub accounts: Arc<dyn AccountStore>,
    pub cases: Arc<dyn CaseStore>,
    pub webhooks: Arc<dyn WebhookStore>,
    pub bundles: Arc<dyn BundleCaseStore>,
    pub halls: Arc<dyn HallStore>,
    pub feedback: Arc<dyn FeedbackStore>,
    pub hotline: Arc<dyn HotlineStore>,
    pub stats: Arc<dyn StatsStore>,
    pub agents: Arc<dyn AgentStore>,
    backend: Backend,
}

#[derive(Debug, Clone)]
enum Backend {
    Sqlite(sqlite::SqliteStore),
    Postgres(postgres::PostgresStore),
}

/// Opens the configured engine and brings its schema up to date.
pub async fn open(config: &StorageConfig) -> Result<Store, StoreError> {
    match config {
        StorageConfig::Sqlite { folder } => {
            let store = sqlite::SqliteStore::open(folder).await?;
            Ok(Store {
                engine: Engine::Sqlite,
                catalog: Arc::new(store.clone()),
                accounts: Arc::new(store.clone()),
                cases: Arc::new(store.clone()),
                webhooks: Arc::new(store.clone()),
                bundles: Arc::new(store.clone()),
                halls: Arc::new(store.clone()),
                feedback: Arc::new(store.clone()),
                hotline: Arc::new(store.clone()),
                stats: Arc::new(store.clone()),
                agents: Arc::new(store.clone()),
                backend: Backend::Sqlite(store),
            })
        }
        StorageConfig::Postgres { url } => {
            let store = postgres::PostgresStore::open(url).await?;
            Ok(Store {
                engine: Engine::Postgres,
                catalog: Arc::new(store.clone()),
                accounts: Arc::new(store.clone()),
                cases: Arc::new(store.clone()),
                webhooks: Arc::new(store.clone()),
                bundles: Arc::new(store.clone()),
                halls: Arc::new(store.clone()),
                feedback: Arc::new(store.clone()),
                hotline: Arc::new(store.clone()),
                stats: Arc::new(store.clone()),
                agents: Arc::new(store.clone()),
                backend: Backend::Postgres(store),
            })
        }
    }
}

impl Store {
    /// Tables and their sorted columns, for checking that both engines have the same schema.
    pub async fn schema(&self) -> Result<Vec<(String, Vec<String>)>, StoreError> {
        match &self.backend {
            Backend::Sqlite(store) => store.schema().await,
            Backend::Postgres(store) => store.schema().await,
        }
    }
}

/// A new UUIDv7 whose time part is the given instant (from the injected clock).
pub(crate) fn new_id(at_micros: i64) -> uuid::Uuid {
    let seconds = u64::try_from(at_micros.div_euclid(1_000_000)).unwrap_or(0);
    let nanos = u32::try_from(at_micros.rem_euclid(1_000_000) * 1_000).unwrap_or(0);
    uuid::Uuid::new_v7(uuid::Timestamp::from_unix(uuid::NoContext, seconds, nanos))
}

pub(crate) fn to_micros(at: jiff::Timestamp) -> i64 {
    at.as_microsecond()
}

pub(crate) fn from_micros(micros: i64) -> Result<jiff::Timestamp, StoreError> {
    jiff::Timestamp::from_microsecond(micros).map_err(StoreError::corrupt)
}

#[cfg(feature = "testing")]
pub mod testing;
