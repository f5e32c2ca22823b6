//! `tongban catalog …`: check, import and export catalog data.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use include_dir::{Dir, include_dir};
use indicatif::{ProgressBar, ProgressStyle};
use tongban_store::files::{self, DataFile, DataSet};

use crate::config::{Settings, StorageArgs};

/// The demo city and catalog (CATALOG.md), built into the binary so `serve --demo` works anywhere.
static DEMO: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../../data/demo");

#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// Load a data folder or export file and print every problem; exit 1 when there is one.
    Check(CheckArgs),
    /// Import a data folder or export file (or the built-in demo) into the database.
    Import(ImportArgs),
    /// Write everything published as one versioned JSON document.
    Export(ExportArgs),
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Data folder (with city.toml and catalog/) or an export JSON file.
    #[arg(long, default_value = "data/demo")]
    pub dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Data folder or export JSON file.
    #[arg(long, conflicts_with = "demo", required_unless_present = "demo")]
    pub from: Option<PathBuf>,
    /// Import the built-in demo city and catalog.
    #[arg(long)]
    pub demo: bool,
    #[command(flatten)]
    pub storage: StorageArgs,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Output file; `-` for standard output.
    #[arg(long, default_value = "-")]
    pub to: PathBuf,
    #[command(flatten)]
    pub storage: StorageArgs,
}

/// The built-in demo data set, validated.
pub fn demo_data() -> anyhow::Result<DataSet> {
    let mut data_files = Vec::new();
    collect(&DEMO, &mut data_files);
    let data = files::load_files(&data_files).map_err(|errors| {
        anyhow::anyhow!(
            "the built-in demo data is broken:\n{}",
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        )
    })?;
    ensure_valid(&data)?;
    Ok(data)
}

fn collect(dir: &Dir<'_>, out: &mut Vec<DataFile>) {
    for file in dir.files() {
        let path = file.path().to_string_lossy().replace('\\', "/");
        if let (true, Some(text)) = (path.ends_with(".toml"), file.contents_utf8()) {
            out.push(DataFile {
                path,
                text: text.to_owned(),
            });
        }
    }
    for sub in dir.dirs() {
        collect(sub, out);
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
}

fn ensure_valid(data: &DataSet) -> anyhow::Result<()> {
    let problems = data.problems();
    if problems.is_empty() {
        return Ok(());
    }
    anyhow::bail!(
        "the data has {} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    )
}

fn load(path: &Path) -> anyhow::Result<DataSet> {
    let data = files::load(path).map_err(|errors| {
        anyhow::anyhow!(
            "cannot load {}:\n{}",
            path.display(),
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        )
    })?;
    ensure_valid(&data)?;
    Ok(data)
}

/// `catalog check`: synchronous, no database.
pub fn check(args: &CheckArgs) -> ExitCode {
    match load(&args.dir) {
        Ok(data) => {
            println!(
                "ok: {} items, {} bundles, {} data elements, {} licence types, {} departments, {} halls",
                data.catalog.items.len(),
                data.catalog.bundles.len(),
                data.catalog.data_elements.len(),
                data.catalog.licence_types.len(),
                data.organisation.departments.len(),
                data.organisation.halls.len()
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("{error:#}");
            ExitCode::FAILURE
        }
    }
}

pub async fn run(command: CatalogCommand, settings: Settings) -> anyhow::Result<()> {
    match command {
        CatalogCommand::Check(_) => Ok(()),
        CatalogCommand::Import(args) => {
            let settings = settings.with_flags(&args.storage)?;
            let data = match &args.from {
                Some(path) => load(path)?,
                None => demo_data()?,
            };
            let store = tongban_store::open(&settings.storage()).await?;
            let bar = spinner("importing the catalog");
            let now = jiff::Timestamp::now();
            let report = store.catalog.import(&data, now).await?;
            // Accounts only for the demo: a real import brings no passwords.
            let demo_accounts = if args.demo {
                Some(tongban_web::auth::create_demo_accounts(&store, now).await?)
            } else {
                None
            };
            bar.finish_and_clear();
            if let Some(accounts) = demo_accounts {
                println!(
                    "demo accounts: {accounts} (password: {})",
                    tongban_web::auth::DEMO_PASSWORD
                );
            }
            println!(
                "imported: items {} new, {} updated, {} unchanged; bundles {} new, {} updated, {} unchanged",
                report.items_created,
                report.items_updated,
                report.items_unchanged,
                report.bundles_created,
                report.bundles_updated,
                report.bundles_unchanged
            );
            Ok(())
        }
        CatalogCommand::Export(args) => {
            let settings = settings.with_flags(&args.storage)?;
            let store = tongban_store::open(&settings.storage()).await?;
            let data = store.catalog.export().await?;
            let json = serde_json::to_string_pretty(&data)?;
            if args.to.as_os_str() == "-" {
                println!("{json}");
            } else {
                std::fs::write(&args.to, json)
                    .with_context(|| format!("cannot write {}", args.to.display()))?;
                eprintln!(
                    "exported {} items and {} bundles to {}",
                    data.catalog.items.len(),
                    data.catalog.bundles.len(),
                    args.to.display()
                );
            }
            Ok(())
        }
    }
}

/// A spinner for work whose length is not known in advance.
pub fn spinner(message: &'static str) -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_message(message);
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}
