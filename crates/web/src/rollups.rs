//! The rollup folder: a background task of `tongban serve` that folds changed cases into the
//! supervision rollups every moment ([`tongban_store::StatsStore::fold_pending`]). Case writes
//! only mark a case as pending, so busy rollup rows change once per round instead of once per
//! action; every rollup query folds what is left first, so figures never miss a committed change.

use std::future::Future;
use std::time::Duration;

use tongban_store::Store;

/// Time between rounds. Shorter rounds fold fewer cases each; longer ones leave more for the
/// queries to fold.
pub const ROUND: Duration = Duration::from_millis(200);

/// Folds pending cases every [`ROUND`] until `shutdown` completes, then once more.
pub async fn run(store: Store, shutdown: impl Future<Output = ()> + Send) {
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            () = tokio::time::sleep(ROUND) => {}
        }
        if let Err(error) = store.stats.fold_pending().await {
            tracing::error!(error = %error, "folding the rollups failed");
        }
    }
    if let Err(error) = store.stats.fold_pending().await {
        tracing::error!(error = %error, "folding the rollups failed");
    }
}
