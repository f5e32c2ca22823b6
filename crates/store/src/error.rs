//! Storage errors. Callers match on the kind; the text of a database error stays in logs and is
//! never sent to clients (the web layer maps `Database` to a plain 500).

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{what} not found")]
    NotFound { what: String },
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error(
        "the record was changed by someone else (now at version {actual}, expected {expected})"
    )]
    StaleVersion { expected: u64, actual: u64 },
    #[error("the commit failed: {0}")]
    CommitFailed(String),
    #[error("cannot prepare the data folder: {0}")]
    Io(#[from] std::io::Error),
}

impl StoreError {
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::NotFound { .. } => "not_found",
            StoreError::Conflict(_) => "conflict",
            StoreError::Corrupt(_)
            | StoreError::Database(_)
            | StoreError::Migration(_)
            | StoreError::Io(_)
            | StoreError::CommitFailed(_) => "internal_error",
            StoreError::StaleVersion { .. } => "stale_version",
        }
    }

    pub(crate) fn corrupt(what: impl std::fmt::Display) -> StoreError {
        StoreError::Corrupt(what.to_string())
    }
}
