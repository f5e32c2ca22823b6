//! The raw storage limit for `tongban bench lifecycle`: the rows that a case lifecycle writes,
//! written again with plain SQL in batched transactions on the same engine with the same
//! durability, so that the benchmark reports a ratio rather than an absolute time.
//!
//! "Plain" means: one prepared `INSERT`/`UPDATE` per row, the JSON documents already encoded (a
//! template taken from a real case of the same run), no reads, no savepoints, no domain code.
//! A transaction holds the rows of `batch` actions, one action of each of `batch` cases, as the
//! SQLite writer's group commit does; on SQLite there is one connection (one writer), on
//! PostgreSQL `connections` connections write side by side.
//!
//! Also here: the durability settings actually in force, the SQLite writer's batch counters, and
//! fresh PostgreSQL databases for a benchmark run.

use std::sync::Arc;
use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};
use sqlx::{AssertSqlSafe, Connection, Row};

use crate::writer::WriterStats;
use crate::{Backend, StorageConfig, Store, StoreError};

/// One event of an action, as stored in `case_events`.
#[derive(Debug, Clone)]
pub struct RawEvent {
    pub kind: String,
    pub actor: String,
    pub department: Option<String>,
    pub public: bool,
    /// The event's JSON.
    pub document: String,
}

/// One outbox message of an action.
#[derive(Debug, Clone)]
pub struct RawOutbox {
    pub topic: String,
    pub department: Option<String>,
    /// The payload's JSON.
    pub payload: String,
}

/// One audit entry of an action.
#[derive(Debug, Clone)]
pub struct RawAudit {
    pub actor: String,
    pub action: String,
    pub department: Option<String>,
    pub detail: String,
}

/// The licence an action issues.
#[derive(Debug, Clone)]
pub struct RawLicence {
    pub type_key: String,
    pub holder_identifier: String,
    pub issuer: String,
    pub status: String,
    pub valid_from: String,
    pub valid_until: Option<String>,
    /// The licence's JSON; its identifier is made unique per case.
    pub document: String,
}

/// What one action (one service call, one unit of work) writes besides the case row.
#[derive(Debug, Clone)]
pub struct RawAction {
    /// The case's state after the action (the `state` column).
    pub state: String,
    pub step: Option<i32>,
    pub events: Vec<RawEvent>,
    pub outbox: Vec<RawOutbox>,
    pub audit: Vec<RawAudit>,
    pub licence: Option<RawLicence>,
}

/// A whole case lifecycle as rows: the first action inserts the case (with its number from
/// `case_counters`), every later one updates it.
#[derive(Debug, Clone)]
pub struct RawTemplate {
    pub item_code: String,
    pub item_version: i32,
    pub department: String,
    pub applicant_identifier: String,
    pub applicant_account: Option<String>,
    pub hall: Option<String>,
    pub channel: String,
    /// The case's JSON (the finished case: the largest it gets).
    pub case_document: String,
    pub actions: Vec<RawAction>,
}

impl RawTemplate {
    /// Rows written per case: the counter, the case insert and updates, events, outbox, audit
    /// entries and licences.
    pub fn rows_per_case(&self) -> u64 {
        let per_action: usize = self
            .actions
            .iter()
            .map(|a| {
                1 + a.events.len()
                    + a.outbox.len()
                    + a.audit.len()
                    + usize::from(a.licence.is_some())
            })
            .sum();
        // + the case_counters upsert.
        per_action as u64 + 1
    }
}

/// How to write.
#[derive(Debug, Clone, Copy)]
pub struct RawSettings {
    pub cases: usize,
    /// Actions per transaction.
    pub batch: usize,
    /// Connections writing side by side (SQLite: always 1).
    pub connections: usize,
}

/// What the raw run did.
#[derive(Debug, Clone)]
pub struct RawReport {
    pub cases: usize,
    pub rows: u64,
    pub transactions: u64,
    pub batch: usize,
    pub connections: usize,
    pub elapsed: Duration,
    /// The durability settings in force (see [`durability`]).
    pub durability: String,
    /// Rows in the lifecycle tables afterwards (see [`count_rows`]).
    pub counts: Vec<(String, i64)>,
}

/// The durability settings in force on the store's write path, in words, e.g.
/// `journal_mode=wal synchronous=FULL`.
pub async fn durability(store: &Store) -> Result<String, StoreError> {
    match &store.backend {
        Backend::Sqlite(sqlite) => {
            sqlite
                .write(|conn| {
                    Box::pin(async move {
                        let (journal, synchronous) = sqlite_settings(conn).await?;
                        Ok(format!("journal_mode={journal} synchronous={synchronous}"))
                    })
                })
                .await
        }
        Backend::Postgres(postgres) => {
            postgres
                .write(|conn| {
                    Box::pin(async move {
                        let (commit, fsync) = postgres_settings(conn).await?;
                        Ok(format!("synchronous_commit={commit} fsync={fsync}"))
                    })
                })
                .await
        }
    }
}

async fn sqlite_settings(
    conn: &mut sqlx::SqliteConnection,
) -> Result<(String, String), StoreError> {
    let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut *conn)
        .await?;
    let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous")
        .fetch_one(&mut *conn)
        .await?;
    let synchronous = match synchronous {
        0 => "OFF".to_owned(),
        1 => "NORMAL".to_owned(),
        2 => "FULL".to_owned(),
        3 => "EXTRA".to_owned(),
        other => other.to_string(),
    };
    Ok((journal, synchronous))
}

async fn postgres_settings(conn: &mut sqlx::PgConnection) -> Result<(String, String), StoreError> {
    let commit: String = sqlx::query_scalar("SHOW synchronous_commit")
        .fetch_one(&mut *conn)
        .await?;
    let fsync: String = sqlx::query_scalar("SHOW fsync")
        .fetch_one(&mut *conn)
        .await?;
    Ok((commit, fsync))
}

/// The group-commit writer's counters (batches committed, requests in them).
pub fn writer_stats(store: &Store) -> WriterStats {
    match &store.backend {
        Backend::Sqlite(sqlite) => sqlite.writer.stats(),
        Backend::Postgres(postgres) => postgres.writer.stats(),
    }
}

/// Creates an empty database `<prefix>_<uuid>` on the server of `url` and returns its URL and
/// name. Drop it with [`drop_postgres_database`].
pub async fn create_postgres_database(
    url: &str,
    prefix: &str,
) -> Result<(SecretString, String), StoreError> {
    let name = format!("{prefix}_{}", uuid::Uuid::now_v7().simple());
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(StoreError::corrupt(
            "a database name prefix is letters, digits and _",
        ));
    }
    let mut admin = admin(url).await?;
    sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await?;
    admin.close().await?;
    Ok((SecretString::from(with_database(url, &name)), name))
}

/// Drops a database made by [`create_postgres_database`] (connections to it must be closed).
pub async fn drop_postgres_database(url: &str, name: &str) -> Result<(), StoreError> {
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(StoreError::corrupt("not a benchmark database name"));
    }
    let mut admin = sqlx::PgConnection::connect(url).await?;
    sqlx::query(AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await?;
    admin.close().await?;
    Ok(())
}

/// A connection for creating and dropping databases (slow by nature: not logged as slow).
async fn admin(url: &str) -> Result<sqlx::PgConnection, StoreError> {
    use sqlx::ConnectOptions;
    let options: sqlx::postgres::PgConnectOptions = url.parse()?;
    Ok(options.disable_statement_logging().connect().await?)
}

/// Replaces the database name in a PostgreSQL URL, keeping the query.
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

/// The statements, with the engine's JSON parameter syntax.
struct Statements {
    counter: Arc<str>,
    insert_case: Arc<str>,
    update_case: Arc<str>,
    event: Arc<str>,
    outbox: Arc<str>,
    audit: Arc<str>,
    licence: Arc<str>,
}

impl Statements {
    fn new(json: &str) -> Statements {
        Statements {
            counter: "INSERT INTO case_counters (prefix, value) VALUES ($1, 1) \
                      ON CONFLICT (prefix) DO UPDATE SET value = case_counters.value + 1 RETURNING value"
                .into(),
            insert_case: format!(
                "INSERT INTO cases (id, number, version, parent_id, item_code, item_version, department, \
                 applicant_identifier, applicant_account, hall, channel, state, step, submitted_at, \
                 accepted_on, promised_due, statutory_due, closed_at, updated_at, document) \
                 VALUES ($1, $2, $3, NULL, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19{json})"
            )
            .into(),
            update_case: format!(
                "UPDATE cases SET version = $1, department = $2, hall = $3, state = $4, step = $5, \
                 accepted_on = $6, promised_due = $7, statutory_due = $8, closed_at = $9, updated_at = $10, \
                 document = $11{json} WHERE id = $12 AND version = $13"
            )
            .into(),
            event: format!(
                "INSERT INTO case_events (case_id, seq, at, kind, actor, department, public, document) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8{json})"
            )
            .into(),
            outbox: format!(
                "INSERT INTO outbox (id, topic, case_id, department, payload, created_at) \
                 VALUES ($1, $2, $3, $4, $5{json}, $6)"
            )
            .into(),
            audit: "INSERT INTO audit_log (id, at, actor, action, target, department, detail) \
                    VALUES ($1, $2, $3, $4, $5, $6, $7)"
                .into(),
            licence: format!(
                "INSERT INTO licences (id, identifier, type_key, holder_identifier, issuer, case_id, version, \
                 status, valid_from, valid_until, issued_at, document) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12{json})"
            )
            .into(),
        }
    }
}

/// A case being written: its id and number, and the next event sequence.
#[derive(Debug, Clone)]
struct RawCase {
    id: uuid::Uuid,
    number: String,
    seq: i32,
}

/// Writes one action of each case in `cases` in one transaction. The macro body is the same
/// for both engines; only the connection type differs.
macro_rules! write_batch {
    ($conn:expr, $statements:expr, $template:expr, $action_index:expr, $cases:expr, $counter:expr) => {{
        let conn = $conn;
        let statements: &Statements = $statements;
        let template: &RawTemplate = $template;
        let index: usize = $action_index;
        let cases: &mut Vec<RawCase> = $cases;
        let counter: &std::sync::atomic::AtomicU64 = $counter;
        let action = &template.actions[index];
        let mut transaction = conn.begin().await?;
        for case in cases.iter_mut() {
            let now = jiff::Timestamp::now().as_microsecond();
            let version = i64::try_from(index).unwrap_or(0) + 1;
            if index == 0 {
                let prefix = format!("{}{}", template.item_code, "20260101");
                let sequence: i64 = sqlx::query_scalar(AssertSqlSafe(statements.counter.clone()))
                    .bind(&prefix)
                    .fetch_one(&mut *transaction)
                    .await?;
                case.number = format!("{prefix}{sequence:06}");
                sqlx::query(AssertSqlSafe(statements.insert_case.clone()))
                    .bind(case.id)
                    .bind(&case.number)
                    .bind(version)
                    .bind(&template.item_code)
                    .bind(template.item_version)
                    .bind(&template.department)
                    .bind(&template.applicant_identifier)
                    .bind(template.applicant_account.as_deref())
                    .bind(template.hall.as_deref())
                    .bind(&template.channel)
                    .bind(&action.state)
                    .bind(action.step)
                    .bind(now)
                    .bind(None::<String>)
                    .bind(None::<String>)
                    .bind(None::<String>)
                    .bind(None::<i64>)
                    .bind(now)
                    .bind(&template.case_document)
                    .execute(&mut *transaction)
                    .await?;
            } else {
                let result = sqlx::query(AssertSqlSafe(statements.update_case.clone()))
                    .bind(version)
                    .bind(&template.department)
                    .bind(template.hall.as_deref())
                    .bind(&action.state)
                    .bind(action.step)
                    .bind(Some("2026-03-02"))
                    .bind(Some("2026-03-03"))
                    .bind(Some("2026-03-30"))
                    .bind(None::<i64>)
                    .bind(now)
                    .bind(&template.case_document)
                    .bind(case.id)
                    .bind(version - 1)
                    .execute(&mut *transaction)
                    .await?;
                if result.rows_affected() != 1 {
                    return Err(StoreError::corrupt("a raw case update found no row"));
                }
            }
            for event in &action.events {
                case.seq += 1;
                sqlx::query(AssertSqlSafe(statements.event.clone()))
                    .bind(case.id)
                    .bind(case.seq)
                    .bind(now)
                    .bind(&event.kind)
                    .bind(&event.actor)
                    .bind(event.department.as_deref())
                    .bind(event.public)
                    .bind(&event.document)
                    .execute(&mut *transaction)
                    .await?;
            }
            for message in &action.outbox {
                sqlx::query(AssertSqlSafe(statements.outbox.clone()))
                    .bind(crate::new_id(now))
                    .bind(&message.topic)
                    .bind(case.id)
                    .bind(message.department.as_deref())
                    .bind(&message.payload)
                    .bind(now)
                    .execute(&mut *transaction)
                    .await?;
            }
            for entry in &action.audit {
                sqlx::query(AssertSqlSafe(statements.audit.clone()))
                    .bind(crate::new_id(now))
                    .bind(now)
                    .bind(&entry.actor)
                    .bind(&entry.action)
                    .bind(&case.number)
                    .bind(entry.department.as_deref())
                    .bind(&entry.detail)
                    .execute(&mut *transaction)
                    .await?;
            }
            if let Some(licence) = &action.licence {
                sqlx::query(AssertSqlSafe(statements.licence.clone()))
                    .bind(crate::new_id(now))
                    .bind(format!("RAW-{}", case.id.simple()))
                    .bind(&licence.type_key)
                    .bind(&licence.holder_identifier)
                    .bind(&licence.issuer)
                    .bind(case.id)
                    .bind(1_i32)
                    .bind(&licence.status)
                    .bind(&licence.valid_from)
                    .bind(licence.valid_until.as_deref())
                    .bind(now)
                    .bind(&licence.document)
                    .execute(&mut *transaction)
                    .await?;
            }
        }
        transaction.commit().await?;
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok::<(), StoreError>(())
    }};
}

/// Writes `settings.cases` lifecycles of rows like `template` into the (fresh, migrated) store
/// at `config`: chunks of `batch` cases, and for each chunk one transaction per action. Calls
/// `progress` with the number of cases finished. The store must not be written by anyone else
/// meanwhile.
pub async fn raw_lifecycle(
    config: &StorageConfig,
    template: Arc<RawTemplate>,
    settings: RawSettings,
    progress: Arc<dyn Fn(u64) + Send + Sync>,
) -> Result<RawReport, StoreError> {
    // Migrate with the real adapter. On SQLite it is closed while the raw connection writes (the
    // raw connection is then the only one on the file) and opened again for the counts.
    let mut store = Some(crate::open(config).await?);
    if matches!(config, StorageConfig::Sqlite { .. }) {
        store = None;
    }
    let batch = settings.batch.clamp(1, 4096);
    let connections = match config {
        StorageConfig::Sqlite { .. } => 1,
        StorageConfig::Postgres { .. } => settings.connections.clamp(1, 64),
    };
    let transactions = Arc::new(std::sync::atomic::AtomicU64::new(0));
    // Chunks of cases are handed out to the connections as they free up.
    let next_chunk = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let chunks = settings.cases.div_ceil(batch);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..connections {
        let template = template.clone();
        let progress = progress.clone();
        let transactions = transactions.clone();
        let next_chunk = next_chunk.clone();
        let total = settings.cases;
        match config {
            StorageConfig::Sqlite { folder } => {
                let options = crate::sqlite::connect_options(folder)?;
                tasks.spawn(async move {
                    use sqlx::ConnectOptions;
                    let mut conn = options.connect().await?;
                    let (_, synchronous) = sqlite_settings(&mut conn).await?;
                    if synchronous != "FULL" {
                        return Err(StoreError::corrupt(
                            "the raw connection is not synchronous=FULL",
                        ));
                    }
                    let statements = Statements::new("");
                    loop {
                        let chunk = next_chunk.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if chunk >= chunks {
                            break;
                        }
                        let mut cases = new_cases(chunk, batch, total);
                        for index in 0..template.actions.len() {
                            write_batch!(
                                &mut conn,
                                &statements,
                                &template,
                                index,
                                &mut cases,
                                &transactions
                            )?;
                        }
                        progress(cases.len() as u64);
                    }
                    conn.close().await?;
                    Ok(())
                });
            }
            StorageConfig::Postgres { url } => {
                let url = url.expose_secret().to_owned();
                tasks.spawn(async move {
                    let mut conn = sqlx::PgConnection::connect(&url).await?;
                    let statements = Statements::new("::jsonb");
                    loop {
                        let chunk = next_chunk.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if chunk >= chunks {
                            break;
                        }
                        let mut cases = new_cases(chunk, batch, total);
                        for index in 0..template.actions.len() {
                            write_batch!(
                                &mut conn,
                                &statements,
                                &template,
                                index,
                                &mut cases,
                                &transactions
                            )?;
                        }
                        progress(cases.len() as u64);
                    }
                    conn.close().await?;
                    Ok(())
                });
            }
        }
    }
    while let Some(joined) = tasks.join_next().await {
        joined.map_err(|e| StoreError::corrupt(format!("a raw writer task failed: {e}")))??;
    }
    let elapsed = started.elapsed();
    let store = match store {
        Some(store) => store,
        None => crate::open(config).await?,
    };
    Ok(RawReport {
        cases: settings.cases,
        rows: template.rows_per_case() * settings.cases as u64,
        transactions: transactions.load(std::sync::atomic::Ordering::Relaxed),
        batch,
        connections,
        elapsed,
        durability: durability(&store).await?,
        counts: count_rows(&store).await?,
    })
}

fn new_cases(chunk: usize, batch: usize, total: usize) -> Vec<RawCase> {
    let start = chunk * batch;
    let end = (start + batch).min(total);
    (start..end)
        .map(|_| RawCase {
            id: uuid::Uuid::now_v7(),
            number: String::new(),
            seq: 0,
        })
        .collect()
}

/// Counts rows of the lifecycle tables (to check that the raw run wrote what it says).
pub async fn count_rows(store: &Store) -> Result<Vec<(String, i64)>, StoreError> {
    const TABLES: [&str; 5] = ["cases", "case_events", "outbox", "audit_log", "licences"];
    let mut counts = Vec::new();
    for table in TABLES {
        let sql = format!("SELECT COUNT(*) AS n FROM {table}");
        let n: i64 = match &store.backend {
            Backend::Sqlite(sqlite) => {
                sqlite
                    .write(move |conn| {
                        Box::pin(async move {
                            let row = sqlx::query(AssertSqlSafe(sql))
                                .fetch_one(&mut *conn)
                                .await?;
                            Ok(row.try_get::<i64, _>("n")?)
                        })
                    })
                    .await?
            }
            Backend::Postgres(postgres) => {
                postgres
                    .write(move |conn| {
                        Box::pin(async move {
                            let row = sqlx::query(AssertSqlSafe(sql))
                                .fetch_one(&mut *conn)
                                .await?;
                            Ok(row.try_get::<i64, _>("n")?)
                        })
                    })
                    .await?
            }
        };
        counts.push((table.to_owned(), n));
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn the_database_name_is_replaced() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "b1"),
            "postgres://postgres@127.0.0.1:5432/b1"
        );
        assert_eq!(
            with_database("postgres://u@h/db?sslmode=disable", "b2"),
            "postgres://u@h/b2?sslmode=disable"
        );
    }
}
