//! The SQLite adapter, the embedded default: one file in the data folder, WAL journal, foreign
//! keys on, one writer connection owned by a group-commit task ([`crate::writer`]: SQLite allows
//! one writer at a time, so the task batches concurrent requests into one durable commit) and a
//! pool of readers that never block it.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, SqliteConnection};

use crate::writer::{BoxFuture, Writer};

type Db = sqlx::Sqlite;

/// SQLite storage with a single-connection write pool and a read pool.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pub(crate) writer: Writer<Db>,
    read: sqlx::SqlitePool,
}

type Adapter = SqliteStore;

/// Folding the rollups needs no lock of its own: the writer runs one request at a time.
const FOLD_LOCK: Option<&'static str> = None;

/// What a seed runs after loading, outside any transaction: SQLite reuses the pages of deleted rows, and a `VACUUM` would rewrite the whole file.
const SEED_VACUUM: Option<&str> = None;

/// Whether a case change and its events, messages and log entries go as one statement
/// (`sql/cases.rs`): SQLite has no data-modifying `WITH` clauses, and its statements cost no round trip.
const CASE_WRITE_IN_ONE_STATEMENT: bool = false;

/// No row locks in SQLite: the writer runs one request at a time.
const SKIP_LOCKED: &str = "";

/// The options of every connection to the database in `folder` (the raw-SQL benchmark in
/// [`crate::bench`] uses them too, so that it writes with the same durability).
pub(crate) fn connect_options(folder: &Path) -> Result<SqliteConnectOptions, StoreError> {
    Ok(SqliteConnectOptions::from_str("sqlite://")?
        .filename(folder.join("tongban.sqlite3"))
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // FULL: a commit is on disk before it is acknowledged (no acknowledged write lost).
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10)))
}

impl SqliteStore {
    /// Opens (creating when missing) `tongban.sqlite3` in the folder and migrates it.
    pub async fn open(folder: &Path) -> Result<SqliteStore, StoreError> {
        std::fs::create_dir_all(folder)?;
        let options = connect_options(folder)?;
        let mut write = options.connect().await?;
        sqlx::migrate!("migrations/sqlite").run(&mut write).await?;
        // One reader per core: each reader is a thread that SQLite work hops to, and more
        // readers than cores only add context switches (`tongban bench lifecycle` measured it).
        let readers = std::thread::available_parallelism().map_or(4, |n| n.get().max(2));
        let read = SqlitePoolOptions::new()
            .max_connections(u32::try_from(readers).unwrap_or(4))
            // A local read-only connection does not go stale; the ping before every acquire
            // would be one more round trip to the connection's thread per query.
            .test_before_acquire(false)
            .connect_with(options.read_only(true))
            .await?;
        Ok(SqliteStore {
            writer: Writer::start(write)?,
            read,
        })
    }

    /// Runs `work` on the write connection inside the next group commit.
    pub async fn write<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Result<T, StoreError>>
            + Send
            + 'static,
    {
        self.writer.write(work).await
    }

    /// Runs `work`, which changes the existing case `case` and rows of that case only, inside a
    /// group commit of the case's writer lane.
    pub async fn write_case<T, F>(&self, case: uuid::Uuid, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Result<T, StoreError>>
            + Send
            + 'static,
    {
        self.writer.write_keyed(case, work).await
    }

    /// Like [`Self::write`] for work that may run twice: the writer may run a batch of such work
    /// without savepoints, roll it back when one fails and run it again (see
    /// [`Writer::write_keyed_repeatable`]).
    pub async fn write_repeatable<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> Fn(&'c mut SqliteConnection) -> BoxFuture<'c, Result<T, StoreError>>
            + Send
            + 'static,
    {
        self.writer.write_repeatable(work).await
    }

    /// Like [`Self::write_case`] for work that may run twice.
    pub async fn write_case_repeatable<T, F>(
        &self,
        case: uuid::Uuid,
        work: F,
    ) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> Fn(&'c mut SqliteConnection) -> BoxFuture<'c, Result<T, StoreError>>
            + Send
            + 'static,
    {
        self.writer.write_keyed_repeatable(case, work).await
    }

    /// One round of the rollup folder, inside a group commit.
    async fn fold_round(&self) -> Result<usize, StoreError> {
        self.write(|conn| Box::pin(stats_sql::fold_pending(conn)))
            .await
    }

    /// Tables and their columns, for the schema-parity test.
    pub async fn schema(&self) -> Result<Vec<(String, Vec<String>)>, StoreError> {
        use sqlx::Row;
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
             AND name NOT LIKE '_sqlx_%' ORDER BY name",
        )
        .fetch_all(&self.read)
        .await?;
        let mut schema = Vec::new();
        for table in tables {
            let rows = sqlx::query("SELECT name FROM pragma_table_info($1) ORDER BY name")
                .bind(&table)
                .fetch_all(&self.read)
                .await?;
            let columns = rows
                .iter()
                .map(|r| r.try_get::<String, _>("name"))
                .collect::<Result<Vec<_>, _>>()?;
            schema.push((table, columns));
        }
        Ok(schema)
    }
}

include!("sql/catalog.rs");
include!("sql/accounts.rs");
include!("sql/cases.rs");
include!("sql/documents.rs");
include!("sql/webhooks.rs");
include!("sql/bundles.rs");
include!("sql/halls.rs");
include!("sql/stats.rs");
include!("sql/feedback.rs");
include!("sql/hotline.rs");
include!("sql/agents.rs");
include!("sql/seed.rs");
