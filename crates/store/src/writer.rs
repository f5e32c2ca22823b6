//! Group commit for SQLite: one writer task owns the only write connection and commits the work
//! of many concurrent requests in one transaction, each request inside its own savepoint.
//!
//! SQLite serialises writers, and with `synchronous = FULL` every commit waits for the disk. One
//! transaction per request would make throughput the number of disk syncs per second; batching
//! the requests that arrive while the previous commit is syncing makes it one sync per batch. No
//! request is answered before the commit that holds its work has returned, so an acknowledged
//! write is on disk. A request whose work fails is rolled back to its savepoint alone; the others
//! in the batch still commit.

use std::future::Future;
use std::pin::Pin;

use sqlx::{Connection, SqliteConnection};
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

type Job = Box<dyn for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Completion> + Send>;

/// The most requests committed together.
const MAX_BATCH: usize = 256;

/// A handle to the writer task; cheap to clone.
#[derive(Debug, Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer task on a dedicated connection.
    pub fn start(connection: SqliteConnection) -> Writer {
        let (jobs, receiver) = mpsc::channel::<Job>(4096);
        tokio::spawn(run(connection, receiver));
        Writer { jobs }
    }

    /// Runs `work` in the next batch and answers after that batch is committed.
    pub async fn write<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Result<T, StoreError>>
            + Send
            + 'static,
    {
        let (answer, answered) = oneshot::channel::<Result<T, StoreError>>();
        let job: Job = Box::new(move |connection| {
            Box::pin(async move {
                let result = work(connection).await;
                Completion {
                    ok: result.is_ok(),
                    finish: Box::new(move |commit_error| {
                        let reply = match (result, commit_error) {
                            (Ok(_), Some(error)) => Err(StoreError::CommitFailed(error)),
                            (result, _) => result,
                        };
                        // The caller may have gone away (a cancelled request); nothing to do then.
                        let _ = answer.send(reply);
                    }),
                }
            })
        });
        self.jobs
            .send(job)
            .await
            .map_err(|_| StoreError::CommitFailed("the writer has stopped".into()))?;
        answered
            .await
            .map_err(|_| StoreError::CommitFailed("the writer dropped the request".into()))?
    }
}

async fn run(mut connection: SqliteConnection, mut receiver: mpsc::Receiver<Job>) {
    while let Some(first) = receiver.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let completions = run_batch(&mut connection, batch).await;
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

async fn run_batch(connection: &mut SqliteConnection, batch: Vec<Job>) -> BatchResult {
    let mut completions = Vec::with_capacity(batch.len());
    let mut transaction = match connection.begin().await {
        Ok(transaction) => transaction,
        Err(error) => {
            // Nothing ran. Dropping the jobs answers their callers with an error.
            tracing::error!(error = %error, "cannot begin a batch");
            return Err((Vec::new(), error.to_string()));
        }
    };
    for job in batch {
        let savepoint = transaction.begin().await;
        let mut savepoint = match savepoint {
            Ok(savepoint) => savepoint,
            Err(error) => {
                // The job is dropped unrun; its caller is answered with an error.
                tracing::error!(error = %error, "cannot open a savepoint");
                continue;
            }
        };
        let completion = job(&mut savepoint).await;
        let closed = if completion.ok {
            savepoint.commit().await
        } else {
            savepoint.rollback().await
        };
        if let Err(error) = closed {
            tracing::error!(error = %error, "closing a savepoint failed");
        }
        completions.push(completion);
    }
    match transaction.commit().await {
        Ok(()) => Ok(completions),
        Err(error) => Err((completions, error.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use sqlx::Connection;

    use super::*;

    async fn writer_with_table() -> Result<(Writer, tempfile::TempDir), Box<dyn std::error::Error>>
    {
        let folder = tempfile::tempdir()?;
        let url = format!(
            "sqlite://{}?mode=rwc",
            folder.path().join("w.sqlite3").display()
        );
        let mut connection = SqliteConnection::connect(&url).await?;
        sqlx::query("CREATE TABLE t (x INTEGER PRIMARY KEY)")
            .execute(&mut connection)
            .await?;
        Ok((Writer::start(connection), folder))
    }

    fn insert(writer: &Writer, x: i64) -> impl Future<Output = Result<i64, StoreError>> + use<> {
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
}
