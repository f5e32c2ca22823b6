//! The PostgreSQL adapter, for production: a pool for reads, a group-commit writer for writes
//! ([`crate::writer`]: concurrent requests share one transaction and one WAL flush, each inside
//! its own savepoint), migrations from `migrations/postgres`.

use secrecy::{ExposeSecret, SecretString};
use sqlx::PgConnection;
use sqlx::postgres::PgPoolOptions;

use crate::writer::{BoxFuture, Writer};

type Db = sqlx::Postgres;

#[derive(Debug, Clone)]
pub struct PostgresStore {
    pub(crate) writer: Writer<Db>,
    read: sqlx::PgPool,
}

type Adapter = PostgresStore;

/// One fold of the rollups at a time, also across processes on the same database (the key is
/// arbitrary and used for nothing else); released at the end of the fold's transaction.
const FOLD_LOCK: Option<&'static str> = Some("SELECT pg_advisory_xact_lock(7242046)");

/// What a seed runs after loading, outside any transaction: each seeded batch marks its cases pending and deletes the marks again: the
/// dead rows left behind would make every rollup query's look for pending cases a scan of a
/// million of them (64 ms at one million cases) until autovacuum came.
const SEED_VACUUM: Option<&str> = Some("VACUUM (ANALYZE) stats_pending");

/// Whether a case change and its events, messages and log entries go as one statement
/// (`sql/cases.rs`): each statement is a network round trip: a case change is one statement of
/// data-modifying `WITH` clauses.
const CASE_WRITE_IN_ONE_STATEMENT: bool = true;

/// The rollup folder deletes only the pending marks that no case write holds, so it never
/// waits for a writer lane (see [`Writer`]).
const SKIP_LOCKED: &str = " FOR UPDATE SKIP LOCKED";

impl PostgresStore {
    /// Connects and migrates. Must be called on the runtime that will serve requests: the
    /// writer runs as a task on it.
    pub async fn open(url: &SecretString) -> Result<PostgresStore, StoreError> {
        let pool = PgPoolOptions::new()
            // The readers' connections and one per writer lane.
            .max_connections(16 + WRITER_LANES as u32)
            // No ping before each query (one round trip more per query); a connection that broke
            // fails its query, is dropped, and the next acquire opens a new one.
            .test_before_acquire(false)
            .connect(url.expose_secret())
            .await?;
        sqlx::migrate!("migrations/postgres").run(&pool).await?;
        Ok(PostgresStore {
            writer: Writer::start_pooled(pool.clone(), WRITER_LANES),
            read: pool,
        })
    }

    /// Runs `work` on the write connection inside the next group commit.
    pub async fn write<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut PgConnection) -> BoxFuture<'c, Result<T, StoreError>>
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
        F: for<'c> FnOnce(&'c mut PgConnection) -> BoxFuture<'c, Result<T, StoreError>>
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
        F: for<'c> Fn(&'c mut PgConnection) -> BoxFuture<'c, Result<T, StoreError>>
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
        F: for<'c> Fn(&'c mut PgConnection) -> BoxFuture<'c, Result<T, StoreError>>
            + Send
            + 'static,
    {
        self.writer.write_keyed_repeatable(case, work).await
    }

    /// One round of the rollup folder, in a transaction of its own outside the writer lanes
    /// (see [`Writer`] for why no wait can then go round in a circle).
    async fn fold_round(&self) -> Result<usize, StoreError> {
        let mut transaction = self.read.begin().await?;
        let folded = stats_sql::fold_pending(&mut transaction).await?;
        transaction.commit().await?;
        Ok(folded)
    }

    /// Tables and their columns, for the schema-parity test.
    pub async fn schema(&self) -> Result<Vec<(String, Vec<String>)>, StoreError> {
        use sqlx::Row;
        let rows = sqlx::query(
            "SELECT table_name::text AS table_name, column_name::text AS column_name \
             FROM information_schema.columns WHERE table_schema = current_schema() \
             AND table_name NOT LIKE '_sqlx_%' ORDER BY table_name, column_name",
        )
        .fetch_all(&self.read)
        .await?;
        let mut schema: Vec<(String, Vec<String>)> = Vec::new();
        for row in rows {
            let table: String = row.try_get("table_name")?;
            let column: String = row.try_get("column_name")?;
            match schema.last_mut() {
                Some((last, columns)) if *last == table => columns.push(column),
                _ => schema.push((table, vec![column])),
            }
        }
        Ok(schema)
    }
}

/// Writer lanes: batches committing at once, each on its own connection (see [`Writer`]). One
/// lane spends most of its time waiting for round trips and its commit's WAL flush; on two
/// cores `tongban bench lifecycle` rose from 116 cases/s with one lane to about 175 with four
/// to eight, where the server's CPU is the limit.
const WRITER_LANES: usize = 6;

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
