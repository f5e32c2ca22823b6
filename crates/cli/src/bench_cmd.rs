//! `tongban bench …`: throughput and latency, measured against the raw storage limit of the same
//! engine in the same run (`lifecycle`), an HTTP load mode against a server on this machine
//! (`http`), and the supervision dashboard's queries on a seeded history (`seed`). See
//! docs/benchmarks.md.

#[path = "bench/ask.rs"]
mod ask;
#[path = "bench/bundles.rs"]
mod bundles;
#[path = "bench/history.rs"]
mod history;
#[path = "bench/http.rs"]
mod http;
#[path = "bench/lifecycle.rs"]
mod lifecycle;
#[path = "bench/seed.rs"]
mod seed;
#[path = "bench/stats.rs"]
mod stats;

use clap::Subcommand;

use crate::config::Settings;

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Single-item cases end to end through the service layer (submit → accept → approve →
    /// decide → issue → deliver), then the same rows with plain batched SQL: the ratio.
    Lifecycle(lifecycle::LifecycleArgs),
    /// Concurrent applications over HTTP against a running `tongban serve --demo` on this
    /// machine (loopback only; bounded in count and time).
    Http(http::HttpArgs),
    /// Bundle submissions (新生儿出生一件事: a parent and its child cases in one unit of work)
    /// through the service layer, then the same rows with plain batched SQL: the ratio.
    Bundles(bundles::BundleArgs),
    /// The one-sentence assistant on a query set (`../shared/ask-dev-queries.tsv` by default):
    /// top-1 and top-3 accuracy, p50/p99 latency and the misses.
    Ask(ask::AskArgs),
    /// A realistic history of the demo city (cases, ratings, rectification, hotline tickets,
    /// the rollups) loaded in batched transactions, then the dashboard's and
    /// `/api/v1/stats/…` queries timed on it.
    Seed(seed::SeedArgs),
}

/// Runs a benchmark. It opens its own fresh stores (never the configured database); the
/// settings set up logging and, for `seed`, the configured hotline and rating rules.
pub async fn run(command: BenchCommand, settings: Settings) -> anyhow::Result<()> {
    match command {
        BenchCommand::Lifecycle(args) => lifecycle::run(args).await,
        BenchCommand::Http(args) => http::run(args).await,
        BenchCommand::Bundles(args) => bundles::run(args).await,
        BenchCommand::Ask(args) => ask::run(args),
        BenchCommand::Seed(args) => seed::run(args, settings).await,
    }
}
