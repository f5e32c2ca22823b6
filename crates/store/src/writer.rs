//! Group commit: one writer task owns the write path and commits the work of many concurrent
//! requests in one transaction, each request inside its own savepoint.
//!
//! SQLite serialises writers, and with `synchronous = FULL` every commit waits for the disk. One
//! transaction per request would make throughput the number of disk syncs per second; batching
//! the requests that arrive while the previous commit is syncing makes it one sync per batch.
//! PostgreSQL is no different in that respect: a commit waits for its WAL flush, and a request's
//! statements each cost a round trip while its row locks are held. Its writer takes a pooled
//! connection per batch (the pool reconnects after a failure) and runs as a task on the
//! application's runtime, where the connection's socket is registered.
//!
//! No request is answered before the commit that holds its work has returned, so an acknowledged
//! write is on disk. A request whose work fails is rolled back to its savepoint alone; the others
//! in the batch still commit.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::{Connection, Database, Executor, Pool, Transaction};
use tokio::sync::{mpsc, oneshot};

use crate::error::StoreError;

/// A boxed future borrowing the connection.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a request's work reports back: whether it succeeded (else its savepoint is rolled back),
/// and how to answer the request once the batch's commit is known.
struct Completion {
    ok: bool,
    finish: Box<dyn FnOnce(Option<String>) + Send>,
}

/// A request's work as the writer runs it. A repeatable job can be run again after its first run
/// was rolled back (it holds what it writes, not a one-shot future), so a batch of repeatable
/// jobs can first run without savepoints (see [`run_batch`]).
struct Job<DB: Database> {
    run: Run<DB>,
    repeatable: bool,
}

type Run<DB> = Box<
    dyn for<'c> FnMut(&'c mut <DB as Database>::Connection) -> BoxFuture<'c, Completion> + Send,
>;

/// Where a job's answer goes: taken by the completion of the run that counts, so a run that is
/// rolled back and run again answers nothing.
type AnswerSlot<T> = Arc<std::sync::Mutex<Option<oneshot::Sender<Result<T, StoreError>>>>>;

fn completion<T: Send + 'static>(
    slot: &AnswerSlot<T>,
    result: Result<T, StoreError>,
) -> Completion {
    let slot = slot.clone();
    Completion {
        ok: result.is_ok(),
        finish: Box::new(move |commit_error| {
            let reply = match (result, commit_error) {
                (Ok(_), Some(error)) => Err(StoreError::CommitFailed(error)),
                (result, _) => result,
            };
            let sender = slot.lock().ok().and_then(|mut sender| sender.take());
            // The caller may have gone away (a cancelled request); nothing to do then.
            if let Some(sender) = sender {
                let _ = sender.send(reply);
            }
        }),
    }
}

/// The most requests committed together.
const MAX_BATCH: usize = 256;

/// A handle to the writer's lanes; cheap to clone.
///
/// SQLite has one lane: it serialises writers anyway. PostgreSQL has several, each a task
/// committing its own batches on its own connection, so that one batch's round trips and WAL
/// flush overlap with another's. Unkeyed writes all go to the first lane; writes to one existing
/// case ([`Writer::write_keyed`]) go to one of the other lanes, chosen by the case's id. So two
/// lanes never wait for each other's locks on the same case; the rows every new case locks (the
/// 办件编号 counters) and the shared rollup rows that ratings and tickets move are only ever
/// locked by the first lane, in whatever order its batch meets them; and the rollup folder,
/// which runs outside the lanes, waits only for the first lane, while only the other lanes wait
/// for it (for the pending marks of their cases). No wait can go round in a circle.
pub struct Writer<DB: Database> {
    lanes: Arc<[mpsc::Sender<Job<DB>>]>,
    counters: Arc<Counters>,
}

impl<DB: Database> Clone for Writer<DB> {
    fn clone(&self) -> Self {
        Writer {
            lanes: self.lanes.clone(),
            counters: self.counters.clone(),
        }
    }
}

impl<DB: Database> std::fmt::Debug for Writer<DB> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field("engine", &DB::NAME)
            .field("lanes", &self.lanes.len())
            .field("stats", &self.stats())
            .finish()
    }
}

/// How many batches the writer has committed and how many requests they held (for
/// `tongban bench`, which sizes its raw-SQL transactions like the writer's batches).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriterStats {
    pub batches: u64,
    pub jobs: u64,
}

#[derive(Debug, Default)]
struct Counters {
    batches: AtomicU64,
    jobs: AtomicU64,
}

/// Where the writer's transactions run: a connection of its own (SQLite) or a pooled one taken
/// per batch (PostgreSQL).
enum Source<DB: Database> {
    Owned(DB::Connection),
    Pooled(Pool<DB>),
}

impl<DB: Database> Source<DB> {
    /// Begins the batch's transaction; with `savepoint`, the first job's savepoint is opened in
    /// the same round trip.
    async fn begin(&mut self, savepoint: bool) -> Result<Transaction<'_, DB>, sqlx::Error> {
        match (self, savepoint) {
            (Source::Owned(connection), false) => connection.begin().await,
            (Source::Owned(connection), true) => connection.begin_with(begin_and_open()).await,
            (Source::Pooled(pool), false) => pool.begin().await,
            (Source::Pooled(pool), true) => pool.begin_with(begin_and_open()).await,
        }
    }
}

impl Writer<sqlx::Sqlite> {
    /// Starts the writer on a dedicated connection, in a thread of its own.
    ///
    /// The writer awaits every statement of every request on SQLite's connection thread; on the
    /// application's runtime each of those wake-ups would queue behind the requests' own work.
    /// Its own thread with a small runtime without an I/O driver (parking is a plain futex)
    /// keeps the one writer moving: `tongban bench lifecycle` measured about 20% more cases per
    /// second on two cores than with a task on the shared runtime.
    pub fn start(connection: sqlx::SqliteConnection) -> Result<Self, StoreError> {
        let (jobs, receiver) = mpsc::channel(4096);
        let counters = Arc::new(Counters::default());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()?;
        let task_counters = counters.clone();
        std::thread::Builder::new()
            .name("tongban-writer".into())
            .spawn(move || {
                runtime.block_on(run(
                    Source::<sqlx::Sqlite>::Owned(connection),
                    receiver,
                    task_counters,
                ))
            })?;
        Ok(Writer {
            lanes: Arc::new([jobs]),
            counters,
        })
    }
}

impl Writer<sqlx::Postgres> {
    /// Starts `lanes` writer tasks (at least one) on the current runtime, each taking a
    /// connection from `pool` for each batch.
    pub fn start_pooled(pool: sqlx::PgPool, lanes: usize) -> Self {
        let counters = Arc::new(Counters::default());
        let senders: Vec<_> = (0..lanes.max(1))
            .map(|_| {
                let (jobs, receiver) = mpsc::channel(4096);
                tokio::spawn(run(
                    Source::<sqlx::Postgres>::Pooled(pool.clone()),
                    receiver,
                    counters.clone(),
                ));
                jobs
            })
            .collect();
        Writer {
            lanes: senders.into(),
            counters,
        }
    }
}

impl<DB: Database> Writer<DB> {
    /// Batches and requests handled so far.
    pub fn stats(&self) -> WriterStats {
        WriterStats {
            batches: self.counters.batches.load(Ordering::Relaxed),
            jobs: self.counters.jobs.load(Ordering::Relaxed),
        }
    }
}

impl<DB: Database> Writer<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    /// Runs `work` in the first lane's next batch and answers after that batch is committed.
    pub async fn write<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut DB::Connection) -> BoxFuture<'c, Result<T, StoreError>>
            + Send
            + 'static,
    {
        self.write_in(0, work).await
    }

    /// Runs `work`, which writes to the one existing row `key` (a case) and to nothing the other
    /// lanes lock, in the next batch of the lane of `key`.
    pub async fn write_keyed<T, F>(&self, key: uuid::Uuid, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut DB::Connection) -> BoxFuture<'c, Result<T, StoreError>>
            + Send
            + 'static,
    {
        self.write_in(self.lane_of(key), work).await
    }

    /// Like [`Writer::write_keyed`] for work that may run twice: the writer first runs a batch
    /// of such work without savepoints and, if one of them fails, rolls the batch back and runs
    /// it again with a savepoint per request. `work` must write the same thing each time.
    pub async fn write_keyed_repeatable<T, F>(
        &self,
        key: uuid::Uuid,
        work: F,
    ) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> Fn(&'c mut DB::Connection) -> BoxFuture<'c, Result<T, StoreError>>
            + Send
            + 'static,
    {
        self.write_repeatable_in(self.lane_of(key), work).await
    }

    /// Like [`Writer::write`] for work that may run twice (see
    /// [`Writer::write_keyed_repeatable`]).
    pub async fn write_repeatable<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> Fn(&'c mut DB::Connection) -> BoxFuture<'c, Result<T, StoreError>>
            + Send
            + 'static,
    {
        self.write_repeatable_in(0, work).await
    }

    /// The lane of writes to the existing row `key`: one of the lanes after the first.
    fn lane_of(&self, key: uuid::Uuid) -> usize {
        // Version-7 ids begin with a timestamp; their last bytes are random.
        match self.lanes.len() {
            0 | 1 => 0,
            lanes => 1 + usize::try_from(key.as_u128() % (lanes as u128 - 1)).unwrap_or(0),
        }
    }

    async fn write_repeatable_in<T, F>(&self, lane: usize, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> Fn(&'c mut DB::Connection) -> BoxFuture<'c, Result<T, StoreError>>
            + Send
            + 'static,
    {
        let (answer, answered) = oneshot::channel::<Result<T, StoreError>>();
        let slot: AnswerSlot<T> = Arc::new(std::sync::Mutex::new(Some(answer)));
        let job = Job {
            run: Box::new(move |connection| {
                let slot = slot.clone();
                let work = work(connection);
                Box::pin(async move { completion(&slot, work.await) })
            }),
            repeatable: true,
        };
        self.send(lane, job, answered).await
    }

    async fn write_in<T, F>(&self, lane: usize, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut DB::Connection) -> BoxFuture<'c, Result<T, StoreError>>
            + Send
            + 'static,
    {
        let (answer, answered) = oneshot::channel::<Result<T, StoreError>>();
        let slot: AnswerSlot<T> = Arc::new(std::sync::Mutex::new(Some(answer)));
        let mut work = Some(work);
        let job = Job {
            run: Box::new(move |connection| {
                let slot = slot.clone();
                // A job that is not repeatable is run once only.
                let work = work.take().map(|work| work(connection));
                Box::pin(async move {
                    let result = match work {
                        Some(work) => work.await,
                        None => Err(StoreError::CommitFailed("the work was run twice".into())),
                    };
                    completion(&slot, result)
                })
            }),
            repeatable: false,
        };
        self.send(lane, job, answered).await
    }

    async fn send<T>(
        &self,
        lane: usize,
        job: Job<DB>,
        answered: oneshot::Receiver<Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        let Some(jobs) = self.lanes.get(lane) else {
            return Err(StoreError::CommitFailed("no such writer lane".into()));
        };
        jobs.send(job)
            .await
            .map_err(|_| StoreError::CommitFailed("the writer has stopped".into()))?;
        answered
            .await
            .map_err(|_| StoreError::CommitFailed("the writer dropped the request".into()))?
    }
}

async fn run<DB: Database>(
    mut source: Source<DB>,
    mut receiver: mpsc::Receiver<Job<DB>>,
    counters: Arc<Counters>,
) where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    while let Some(first) = receiver.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        counters.batches.fetch_add(1, Ordering::Relaxed);
        counters
            .jobs
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        let completions = run_batch(&mut source, batch).await;
        let (completions, commit_error) = match completions {
            Ok(completions) => (completions, None),
            Err((completions, error)) => (completions, Some(error)),
        };
        if let Some(error) = &commit_error {
            tracing::error!(error = %error, "a batch commit failed");
        }
        for completion in completions {
            (completion.finish)(commit_error.clone());
        }
    }
}

type BatchResult = Result<Vec<Completion>, (Vec<Completion>, String)>;

async fn run_batch<DB: Database>(source: &mut Source<DB>, mut batch: Vec<Job<DB>>) -> BatchResult
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    // Repeatable jobs first run without savepoints: one round trip less per job, and no
    // subtransaction. If one fails, the transaction is rolled back and the batch runs again,
    // each job in its savepoint, so the failure stays its own.
    if batch.len() > 1 && batch.iter().all(|job| job.repeatable) {
        match run_plain(source, &mut batch).await {
            Plain::Done(result) => return result,
            Plain::JobFailed => {}
        }
    }
    run_with_savepoints(source, batch).await
}

enum Plain {
    Done(BatchResult),
    /// A job failed and the transaction was rolled back: nothing of the batch was written and
    /// nobody was answered.
    JobFailed,
}

async fn run_plain<DB: Database>(source: &mut Source<DB>, batch: &mut [Job<DB>]) -> Plain
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    let mut transaction = match source.begin(false).await {
        Ok(transaction) => transaction,
        // The savepoint path begins again and reports the error.
        Err(_) => return Plain::JobFailed,
    };
    let mut completions = Vec::with_capacity(batch.len());
    for job in batch.iter_mut() {
        let completion = (job.run)(&mut transaction).await;
        if !completion.ok {
            // Its completion and the others' are dropped unanswered; the jobs run again.
            if let Err(error) = transaction.rollback().await {
                tracing::error!(error = %error, "rolling back a batch failed");
            }
            return Plain::JobFailed;
        }
        completions.push(completion);
    }
    Plain::Done(match transaction.commit().await {
        Ok(()) => Ok(completions),
        Err(error) => Err((completions, error.to_string())),
    })
}

async fn run_with_savepoints<DB: Database>(
    source: &mut Source<DB>,
    batch: Vec<Job<DB>>,
) -> BatchResult
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    let jobs = batch.len();
    // A lone job needs no savepoint: if it fails, the whole transaction is rolled back. Each job
    // of a larger batch runs inside the savepoint `tongban_job`; closing one job's savepoint and
    // opening the next one's go to the database as one statement list (one round trip per
    // job), the first one opens with `BEGIN`, and the last one is committed with the rest.
    let savepoints = jobs > 1;
    let mut transaction = match source.begin(savepoints).await {
        Ok(transaction) => transaction,
        Err(error) => {
            // Nothing ran. Dropping the jobs answers their callers with an error.
            tracing::error!(error = %error, "cannot begin a batch");
            return Err((Vec::new(), error.to_string()));
        }
    };
    let mut completions = Vec::with_capacity(jobs);
    for (index, mut job) in batch.into_iter().enumerate() {
        let completion = (job.run)(&mut transaction).await;
        let last = index + 1 == jobs;
        let close = match (savepoints, completion.ok, last) {
            (false, _, _) | (true, true, true) => None,
            (true, true, false) => Some(RELEASE_AND_OPEN),
            (true, false, false) => Some(ROLLBACK_AND_OPEN),
            (true, false, true) => Some(ROLLBACK),
        };
        let lone_failure = !savepoints && !completion.ok;
        completions.push(completion);
        if lone_failure {
            // Its caller gets its own error; nothing else is in the transaction.
            return match transaction.rollback().await {
                Ok(()) => Ok(completions),
                Err(error) => {
                    tracing::error!(error = %error, "rolling back a batch failed");
                    Ok(completions)
                }
            };
        }
        let Some(close) = close else { continue };
        if let Err(error) = sqlx::raw_sql(close).execute(&mut *transaction).await {
            // The transaction is in an unknown state: the jobs not run yet are dropped (their
            // callers are answered with an error) and the commit decides for the others.
            tracing::error!(error = %error, "closing a savepoint failed");
            break;
        }
    }
    match transaction.commit().await {
        Ok(()) => Ok(completions),
        Err(error) => Err((completions, error.to_string())),
    }
}

/// The savepoint around each request's work (the name is reused: it is released first). The
/// commit releases the last one.
const BEGIN_AND_OPEN: &str = "BEGIN; SAVEPOINT tongban_job";
/// [`BEGIN_AND_OPEN`] as an owned statement (the writer's futures must not hold a borrowed
/// one).
fn begin_and_open() -> sqlx::SqlStr {
    sqlx::SqlSafeStr::into_sql_str(BEGIN_AND_OPEN)
}
const RELEASE_AND_OPEN: &str = "RELEASE SAVEPOINT tongban_job; SAVEPOINT tongban_job";
const ROLLBACK: &str = "ROLLBACK TO SAVEPOINT tongban_job";
const ROLLBACK_AND_OPEN: &str =
    "ROLLBACK TO SAVEPOINT tongban_job; RELEASE SAVEPOINT tongban_job; SAVEPOINT tongban_job";

#[cfg(test)]
mod tests {
    use sqlx::{Connection, SqliteConnection};

    use super::*;

    async fn writer_with_table()
    -> Result<(Writer<sqlx::Sqlite>, tempfile::TempDir), Box<dyn std::error::Error>> {
        let folder = tempfile::tempdir()?;
        let url = format!(
            "sqlite://{}?mode=rwc",
            folder.path().join("w.sqlite3").display()
        );
        let mut connection = SqliteConnection::connect(&url).await?;
        sqlx::query("CREATE TABLE t (x INTEGER PRIMARY KEY)")
            .execute(&mut connection)
            .await?;
        Ok((Writer::start(connection)?, folder))
    }

    fn insert(
        writer: &Writer<sqlx::Sqlite>,
        x: i64,
    ) -> impl Future<Output = Result<i64, StoreError>> + use<> {
        let writer = writer.clone();
        async move {
            writer
                .write(move |connection| {
                    Box::pin(async move {
                        sqlx::query("INSERT INTO t (x) VALUES ($1)")
                            .bind(x)
                            .execute(&mut *connection)
                            .await?;
                        Ok(x)
                    })
                })
                .await
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_writes_are_all_committed_and_a_failing_one_alone_is_rolled_back()
    -> Result<(), Box<dyn std::error::Error>> {
        let (writer, _folder) = writer_with_table().await?;
        let mut tasks = Vec::new();
        for x in 0..200 {
            tasks.push(tokio::spawn(insert(&writer, x)));
        }
        // A duplicate key fails inside the same batches as the others.
        tasks.push(tokio::spawn(insert(&writer, 7)));
        let mut ok = 0;
        let mut failed = 0;
        for task in tasks {
            match task.await? {
                Ok(_) => ok += 1,
                Err(_) => failed += 1,
            }
        }
        assert_eq!((ok, failed), (200, 1));
        let count: i64 = writer
            .write(|connection| {
                Box::pin(async move {
                    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM t")
                        .fetch_one(&mut *connection)
                        .await?)
                })
            })
            .await?;
        assert_eq!(
            count, 200,
            "every acknowledged write is there, the failed one is not"
        );
        Ok(())
    }

    /// Repeatable jobs run without savepoints; when one of them fails, the batch is rolled back
    /// and run again with savepoints: the failure stays its own, every other job commits once
    /// and is answered once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_repeatable_job_is_undone_alone_and_its_batch_runs_again()
    -> Result<(), Box<dyn std::error::Error>> {
        let (writer, _folder) = writer_with_table().await?;
        let runs = Arc::new(AtomicU64::new(0));
        // A slow first batch, so that the jobs below queue up and form one batch after it.
        let blocker = writer.clone();
        let blocked = tokio::spawn(async move {
            blocker
                .write(|_| {
                    Box::pin(async {
                        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
                        Ok(())
                    })
                })
                .await
        });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let mut tasks = Vec::new();
        for x in 0..120_i64 {
            let (writer, runs) = (writer.clone(), runs.clone());
            tasks.push(tokio::spawn(async move {
                writer
                    .write_repeatable(move |connection| {
                        runs.fetch_add(1, Ordering::SeqCst);
                        Box::pin(async move {
                            sqlx::query("INSERT INTO t (x) VALUES ($1)")
                                .bind(x)
                                .execute(&mut *connection)
                                .await?;
                            if x % 40 == 7 {
                                return Err(StoreError::corrupt("fails after writing"));
                            }
                            Ok(x)
                        })
                    })
                    .await
            }));
        }
        let mut answered = Vec::new();
        for task in tasks {
            if let Ok(x) = task.await? {
                answered.push(x);
            }
        }
        answered.sort_unstable();
        let expected: Vec<i64> = (0..120).filter(|x| x % 40 != 7).collect();
        assert_eq!(answered, expected);
        let rows: Vec<i64> = writer
            .write(|connection| {
                Box::pin(async move {
                    Ok(sqlx::query_scalar("SELECT x FROM t ORDER BY x")
                        .fetch_all(&mut *connection)
                        .await?)
                })
            })
            .await?;
        assert_eq!(
            rows, expected,
            "each acknowledged row once, the failed ones not"
        );
        blocked.await??;
        // The 120 jobs were one batch: run without savepoints up to the first failure, then
        // all 120 again with savepoints (and no job a third time).
        let runs = runs.load(Ordering::SeqCst);
        assert!(
            (121..=240).contains(&runs),
            "{runs} runs, {:?}",
            writer.stats()
        );
        assert_eq!(writer.stats().batches, 3, "the blocker, the 120, the read");
        Ok(())
    }

    /// A job that wrote a row and then failed: its row is rolled back, its neighbours in the
    /// batch (before and after it, and as the last job of a batch) commit.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_job_is_undone_whole_wherever_it_is_in_the_batch()
    -> Result<(), Box<dyn std::error::Error>> {
        let (writer, _folder) = writer_with_table().await?;
        let mut tasks = Vec::new();
        for x in 0..100_i64 {
            let writer = writer.clone();
            tasks.push(tokio::spawn(async move {
                writer
                    .write(move |connection| {
                        Box::pin(async move {
                            sqlx::query("INSERT INTO t (x) VALUES ($1)")
                                .bind(x)
                                .execute(&mut *connection)
                                .await?;
                            if x % 3 == 0 {
                                return Err(StoreError::corrupt("fails after writing"));
                            }
                            Ok(x)
                        })
                    })
                    .await
            }));
        }
        let mut ok = 0;
        for task in tasks {
            if task.await?.is_ok() {
                ok += 1;
            }
        }
        let rows: Vec<i64> = writer
            .write(|connection| {
                Box::pin(async move {
                    Ok(sqlx::query_scalar("SELECT x FROM t ORDER BY x")
                        .fetch_all(&mut *connection)
                        .await?)
                })
            })
            .await?;
        assert_eq!(ok, 66);
        assert_eq!(rows, (0..100).filter(|x| x % 3 != 0).collect::<Vec<_>>());
        // A lone failing job (the whole batch) leaves nothing behind either.
        let alone = writer
            .write(|connection| {
                Box::pin(async move {
                    sqlx::query("INSERT INTO t (x) VALUES (1000)")
                        .execute(&mut *connection)
                        .await?;
                    Err::<(), _>(StoreError::corrupt("fails after writing"))
                })
            })
            .await;
        assert!(alone.is_err());
        let count: i64 = writer
            .write(|connection| {
                Box::pin(async move {
                    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM t WHERE x = 1000")
                        .fetch_one(&mut *connection)
                        .await?)
                })
            })
            .await?;
        assert_eq!(count, 0);
        Ok(())
    }
}
