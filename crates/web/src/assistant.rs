//! The one-sentence assistant held by the server (SPEC C9). It is built from the published
//! catalog at start-up and rebuilt whenever the catalog changes through this server
//! ([`crate::AppState::refresh`], called by the publish path in [`crate::services::ask`]), then
//! swapped in whole: a question never sees half an index.

use std::sync::{Arc, RwLock};

use tongban_search::Assistant;
use tongban_store::{Store, StoreError};

/// Builds an assistant over everything published in the store.
pub async fn load(store: &Store) -> Result<Assistant, StoreError> {
    let data = store.catalog.export().await?;
    // Segmenting and indexing the catalog takes tens of milliseconds: keep it off the async
    // workers.
    let built = tokio::task::spawn_blocking(move || Assistant::build(&data.catalog))
        .await
        .map_err(|e| StoreError::Corrupt(format!("building the assistant stopped: {e}")))?;
    built.map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// The shared, swappable assistant.
#[derive(Debug, Clone)]
pub struct SharedAssistant(Arc<RwLock<Arc<Assistant>>>);

impl SharedAssistant {
    pub fn new(assistant: Assistant) -> SharedAssistant {
        SharedAssistant(Arc::new(RwLock::new(Arc::new(assistant))))
    }

    /// The current assistant; cheap (one `Arc` clone).
    pub fn get(&self) -> Arc<Assistant> {
        match self.0.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub fn replace(&self, assistant: Assistant) {
        match self.0.write() {
            Ok(mut guard) => *guard = Arc::new(assistant),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(assistant),
        }
    }
}
