//! The raw storage limit for `tongban bench bundles`: the rows one bundle submission writes (the
//! parent, one case per member opening at once with its events and outbox messages, the
//! parent's own message, the data-access entries), written again with plain SQL in batched
//! transactions on the same engine with the same durability, as [`crate::bench`] does for the
//! single-case lifecycle.

use std::sync::Arc;
use std::time::Instant;

use secrecy::ExposeSecret;
use sqlx::{AssertSqlSafe, Connection};

use crate::bench::{RawReport, RawSettings, count_rows, durability};
use crate::{StorageConfig, StoreError};

/// One child case of the submission, as rows.
#[derive(Debug, Clone)]
pub struct RawChild {
    pub item_code: String,
    pub item_version: i32,
    pub department: String,
    pub state: String,
    /// The case's JSON.
    pub document: String,
    /// (kind, actor, public, event JSON) of each event.
    pub events: Vec<(String, String, bool, String)>,
    /// (topic, payload JSON) of each outbox message.
    pub outbox: Vec<(String, String)>,
}

/// A whole bundle submission as rows, taken from a real submission of the same run.
#[derive(Debug, Clone)]
pub struct RawBundleTemplate {
    pub bundle_code: String,
    pub applicant_identifier: String,
    pub applicant_account: Option<String>,
    pub channel: String,
    /// The parent's JSON.
    pub parent_document: String,
    pub children: Vec<RawChild>,
    /// (topic, department, payload JSON) of the parent's own messages.
    pub parent_outbox: Vec<(String, Option<String>, String)>,
    /// (purpose, what) of each data-access entry.
    pub access: Vec<(String, String)>,
}

impl RawBundleTemplate {
    /// Rows per submission: the parent's counter and row, its messages and log entries, and per
    /// child its counter, row, events and messages.
    pub fn rows_per_bundle(&self) -> u64 {
        let children: usize = self
            .children
            .iter()
            .map(|c| 2 + c.events.len() + c.outbox.len())
            .sum();
        (2 + self.parent_outbox.len() + self.access.len() + children) as u64
    }
}

struct Statements {
    counter: Arc<str>,
    parent: Arc<str>,
    case: Arc<str>,
    event: Arc<str>,
    outbox: Arc<str>,
    access: Arc<str>,
}

impl Statements {
    fn new(json: &str) -> Statements {
        Statements {
            counter: "INSERT INTO case_counters (prefix, value) VALUES ($1, 1) \
                      ON CONFLICT (prefix) DO UPDATE SET value = case_counters.value + 1 RETURNING value"
                .into(),
            parent: format!(
                "INSERT INTO bundle_cases (id, number, version, bundle_code, applicant_identifier, \
                 applicant_account, state, submitted_at, promised_due, closed_at, updated_at, document) \
                 VALUES ($1, $2, 1, $3, $4, $5, 'in_progress', $6, NULL, NULL, $6, $7{json})"
            )
            .into(),
            case: format!(
                "INSERT INTO cases (id, number, version, parent_id, item_code, item_version, department, \
                 applicant_identifier, applicant_account, hall, channel, state, step, submitted_at, \
                 accepted_on, promised_due, statutory_due, closed_at, updated_at, document) \
                 VALUES ($1, $2, 1, $3, $4, $5, $6, $7, $8, NULL, $9, $10, NULL, $11, NULL, NULL, NULL, NULL, $11, $12{json})"
            )
            .into(),
            event: format!(
                "INSERT INTO case_events (case_id, seq, at, kind, actor, department, public, document) \
                 VALUES ($1, $2, $3, $4, $5, NULL, $6, $7{json})"
            )
            .into(),
            outbox: format!(
                "INSERT INTO outbox (id, topic, case_id, department, payload, created_at) \
                 VALUES ($1, $2, $3, $4, $5{json}, $6)"
            )
            .into(),
            access: "INSERT INTO data_access_log (id, at, subject, actor, actor_name, department, case_id, purpose, what) \
                     VALUES ($1, $2, $3, $4, $5, NULL, NULL, $6, $7)"
                .into(),
        }
    }
}

/// Writes `count` submissions like the template in one transaction.
macro_rules! write_bundles {
    ($conn:expr, $statements:expr, $template:expr, $count:expr) => {{
        let conn = $conn;
        let statements: &Statements = $statements;
        let template: &RawBundleTemplate = $template;
        let mut transaction = conn.begin().await?;
        for _ in 0..$count {
            let now = jiff::Timestamp::now().as_microsecond();
            let parent_id = crate::new_id(now);
            let sequence: i64 = sqlx::query_scalar(AssertSqlSafe(statements.counter.clone()))
                .bind("YJS20260101")
                .fetch_one(&mut *transaction)
                .await?;
            sqlx::query(AssertSqlSafe(statements.parent.clone()))
                .bind(parent_id)
                .bind(format!("YJS20260101{sequence:06}"))
                .bind(&template.bundle_code)
                .bind(&template.applicant_identifier)
                .bind(template.applicant_account.as_deref())
                .bind(now)
                .bind(&template.parent_document)
                .execute(&mut *transaction)
                .await?;
            for child in &template.children {
                let id = crate::new_id(now);
                let prefix = format!("{}20260101", child.item_code);
                let sequence: i64 = sqlx::query_scalar(AssertSqlSafe(statements.counter.clone()))
                    .bind(&prefix)
                    .fetch_one(&mut *transaction)
                    .await?;
                sqlx::query(AssertSqlSafe(statements.case.clone()))
                    .bind(id)
                    .bind(format!("{prefix}{sequence:06}"))
                    .bind(parent_id)
                    .bind(&child.item_code)
                    .bind(child.item_version)
                    .bind(&child.department)
                    .bind(&template.applicant_identifier)
                    .bind(template.applicant_account.as_deref())
                    .bind(&template.channel)
                    .bind(&child.state)
                    .bind(now)
                    .bind(&child.document)
                    .execute(&mut *transaction)
                    .await?;
                for (seq, (kind, actor, public, document)) in child.events.iter().enumerate() {
                    sqlx::query(AssertSqlSafe(statements.event.clone()))
                        .bind(id)
                        .bind(i32::try_from(seq).unwrap_or(0) + 1)
                        .bind(now)
                        .bind(kind)
                        .bind(actor)
                        .bind(*public)
                        .bind(document)
                        .execute(&mut *transaction)
                        .await?;
                }
                for (topic, payload) in &child.outbox {
                    sqlx::query(AssertSqlSafe(statements.outbox.clone()))
                        .bind(crate::new_id(now))
                        .bind(topic)
                        .bind(Some(id))
                        .bind(Some(child.department.as_str()))
                        .bind(payload)
                        .bind(now)
                        .execute(&mut *transaction)
                        .await?;
                }
            }
            for (topic, department, payload) in &template.parent_outbox {
                sqlx::query(AssertSqlSafe(statements.outbox.clone()))
                    .bind(crate::new_id(now))
                    .bind(topic)
                    .bind(None::<uuid::Uuid>)
                    .bind(department.as_deref())
                    .bind(payload)
                    .bind(now)
                    .execute(&mut *transaction)
                    .await?;
            }
            for (purpose, what) in &template.access {
                sqlx::query(AssertSqlSafe(statements.access.clone()))
                    .bind(crate::new_id(now))
                    .bind(now)
                    .bind(&template.applicant_identifier)
                    .bind("bench")
                    .bind("bench")
                    .bind(purpose)
                    .bind(what)
                    .execute(&mut *transaction)
                    .await?;
            }
        }
        transaction.commit().await?;
        Ok::<(), StoreError>(())
    }};
}

/// Writes `settings.cases` submissions like `template` into the fresh, migrated store at
/// `config`, `settings.batch` submissions per transaction; calls `progress` as they finish.
pub async fn raw_bundles(
    config: &StorageConfig,
    template: Arc<RawBundleTemplate>,
    settings: RawSettings,
    progress: Arc<dyn Fn(u64) + Send + Sync>,
) -> Result<RawReport, StoreError> {
    let mut store = Some(crate::open(config).await?);
    if matches!(config, StorageConfig::Sqlite { .. }) {
        store = None;
    }
    let batch = settings.batch.clamp(1, 4096);
    let connections = match config {
        StorageConfig::Sqlite { .. } => 1,
        StorageConfig::Postgres { .. } => settings.connections.clamp(1, 64),
    };
    let chunks = settings.cases.div_ceil(batch);
    let next_chunk = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let transactions = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks: tokio::task::JoinSet<Result<(), StoreError>> = tokio::task::JoinSet::new();
    for _ in 0..connections {
        let template = template.clone();
        let progress = progress.clone();
        let next_chunk = next_chunk.clone();
        let transactions = transactions.clone();
        let total = settings.cases;
        let size = move |chunk: usize| (total - chunk * batch).min(batch);
        match config {
            StorageConfig::Sqlite { folder } => {
                let options = crate::sqlite::connect_options(folder)?;
                tasks.spawn(async move {
                    use sqlx::ConnectOptions;
                    let mut conn = options.connect().await?;
                    let statements = Statements::new("");
                    loop {
                        let chunk = next_chunk.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if chunk >= chunks {
                            break;
                        }
                        write_bundles!(&mut conn, &statements, &template, size(chunk))?;
                        transactions.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        progress(size(chunk) as u64);
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
                        write_bundles!(&mut conn, &statements, &template, size(chunk))?;
                        transactions.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        progress(size(chunk) as u64);
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
        rows: template.rows_per_bundle() * settings.cases as u64,
        transactions: transactions.load(std::sync::atomic::Ordering::Relaxed),
        batch,
        connections,
        elapsed,
        durability: durability(&store).await?,
        counts: count_rows(&store).await?,
    })
}
