//! `tongban`: the one binary of the platform — the server, migrations, catalog import/export,
//! benchmarks and small tools that scripts call (calendar arithmetic, identifier validation).

mod bench_cmd;
mod calendar_cmd;
mod catalog_cmd;
mod config;
mod serve_cmd;
mod simulate_cmd;
mod validate_cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc instead of the system allocator: a request allocates and frees many small values
/// (JSON documents, rows); with glibc's malloc a sixth of the process's CPU in
/// `tongban bench lifecycle` went to `malloc`/`free` alone.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "tongban",
    version,
    about = "通办 — integrated government-services platform"
)]
struct Cli {
    /// Configuration file (TOML); default `tongban.toml` when it exists.
    #[arg(long, global = true, env = "TONGBAN_CONFIG")]
    config: Option<std::path::PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the platform (web pages and API).
    Serve(serve_cmd::ServeArgs),
    /// Apply the database migrations and exit.
    Migrate(config::StorageArgs),
    /// Import, export and check catalog data.
    #[command(subcommand)]
    Catalog(catalog_cmd::CatalogCommand),
    /// Working-day calendar arithmetic (工作日历).
    #[command(subcommand)]
    Calendar(calendar_cmd::CalendarCommand),
    /// Check identifiers: exit 0 when valid, 1 with the reason on stderr when not.
    #[command(subcommand)]
    Validate(validate_cmd::ValidateCommand),
    /// Benchmarks: the case lifecycle against the raw storage limit, HTTP load (docs/benchmarks.md).
    #[command(subcommand)]
    Bench(bench_cmd::BenchCommand),
    /// Simulations for planning: `simulate hall` (how many windows a hall needs).
    #[command(subcommand)]
    Simulate(simulate_cmd::SimulateCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Calendar(command) => calendar_cmd::run(command),
        Command::Validate(command) => validate_cmd::run(command),
        Command::Catalog(catalog_cmd::CatalogCommand::Check(args)) => catalog_cmd::check(&args),
        Command::Serve(args) => run_async(cli.config.as_deref(), |settings| {
            serve_cmd::run(args, settings)
        }),
        Command::Migrate(args) => run_async(cli.config.as_deref(), |settings| {
            serve_cmd::migrate(args, settings)
        }),
        Command::Catalog(command) => run_async(cli.config.as_deref(), |settings| {
            catalog_cmd::run(command, settings)
        }),
        Command::Bench(command) => run_async(cli.config.as_deref(), |settings| {
            bench_cmd::run(command, settings)
        }),
        Command::Simulate(command) => run_async(cli.config.as_deref(), |settings| {
            simulate_cmd::run(command, settings)
        }),
    }
}

/// Loads the configuration, sets up logging and runs an async command to completion.
fn run_async<F, Fut>(config_file: Option<&std::path::Path>, command: F) -> ExitCode
where
    F: FnOnce(config::Settings) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let settings = match config::Settings::load(config_file) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("error: invalid configuration: {error}");
            return ExitCode::from(2);
        }
    };
    config::init_tracing(&settings);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(command(settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
