//! `tongban bench seed`: loads a realistic history of the demo city (see `history.rs`) into a
//! fresh store — SQLite by default, PostgreSQL with `--database` — in batched transactions,
//! checks that the figures agree with the rows, then times every query behind the supervision
//! dashboard and `GET /api/v1/stats/…` through the same service functions the handlers call,
//! and the dashboard page itself over HTTP.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::Args;
use tongban_domain::calendar::Calendar;
use tongban_domain::ids::ImplementationCode;
use tongban_store::seed::{EncodedBatch, SeedBatch, SeedCounts};
use tongban_store::{StorageConfig, Store};
use tongban_web::AppState;
use tongban_web::services::stats::{self, DailyQuery, FiguresQuery};

use super::history::{History, HistoryOptions, HistoryStats, Policies, World};
use super::lifecycle::{cpu_used, print_cpu, progress_bar};
use super::stats::{Summary, cpu_time, ms};
use crate::config::Settings;

const MAX_CASES: u64 = 5_000_000;

#[derive(Debug, Args)]
pub struct SeedArgs {
    /// Cases in the history (with their ratings and rectification tasks).
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..=MAX_CASES))]
    pub cases: u64,
    /// Hotline tickets [default: one per five cases].
    #[arg(long, value_parser = clap::value_parser!(u64).range(0..=MAX_CASES))]
    pub tickets: Option<u64>,
    /// PostgreSQL database to load (postgres://…/name); it must hold no history yet. Without
    /// it, SQLite in --data.
    #[arg(long)]
    pub database: Option<String>,
    /// Folder for the SQLite file, kept afterwards (`tongban serve --data <folder>` shows the
    /// seeded dashboard) [default: a temporary folder, removed afterwards].
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Cases per transaction.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(1..=50_000))]
    pub batch: u64,
    /// Seed of the random history (the same seed gives the same history).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Timed runs of each query (after one untimed warm-up run).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub repetitions: u32,
    /// Load only; do not time the queries.
    #[arg(long, conflicts_with = "queries_only")]
    pub no_queries: bool,
    /// Time the queries of a store seeded before (--data or --database), without loading.
    #[arg(long)]
    pub queries_only: bool,
}

pub async fn run(args: SeedArgs, settings: Settings) -> anyhow::Result<()> {
    let policies = settings.policies()?;
    let (config, shown, temporary) = place(&args)?;
    let store = tongban_store::open(&config).await?;
    println!(
        "tongban bench seed: {} on {} ({shown})",
        if args.queries_only {
            "timing the queries of a seeded store".to_owned()
        } else {
            format!("{} cases", args.cases)
        },
        store.engine.name()
    );
    if !args.queries_only {
        seed(&args, &store, &policies).await?;
    }
    if !args.no_queries {
        let clock: Arc<dyn tongban_domain::clock::Clock> = Arc::new(tongban_web::SystemClock);
        let app = tongban_web::App::new(store.clone(), clock)
            .await?
            .with_policies(policies);
        check_figures(app.state()).await?;
        time_queries(&app, args.repetitions).await?;
    }
    if temporary.is_none() && store.engine == tongban_store::Engine::Sqlite {
        println!("kept {shown}: tongban serve --data {shown}");
    }
    Ok(())
}

fn place(args: &SeedArgs) -> anyhow::Result<(StorageConfig, String, Option<tempfile::TempDir>)> {
    if let Some(url) = &args.database {
        if !url.starts_with("postgres://") && !url.starts_with("postgresql://") {
            bail!("--database takes a postgres:// URL");
        }
        let shown = url
            .rsplit('/')
            .next()
            .map_or_else(|| "postgres".to_owned(), |name| format!("database {name}"));
        let config = StorageConfig::Postgres {
            url: secrecy::SecretString::from(url.clone()),
        };
        return Ok((config, shown, None));
    }
    match &args.data {
        Some(folder) => {
            if !args.queries_only && folder.join("tongban.sqlite3").exists() {
                bail!(
                    "{} already holds a database; seed a fresh folder",
                    folder.display()
                );
            }
            let config = StorageConfig::Sqlite {
                folder: folder.clone(),
            };
            Ok((config, folder.display().to_string(), None))
        }
        None => {
            if args.queries_only {
                bail!("--queries-only needs the seeded store: --data or --database");
            }
            let dir = tempfile::Builder::new()
                .prefix("tongban-seed-")
                .tempdir()
                .context("cannot create a temporary folder")?;
            let config = StorageConfig::Sqlite {
                folder: dir.path().to_owned(),
            };
            Ok((config, dir.path().display().to_string(), Some(dir)))
        }
    }
}

/// Loads the demo city (when the store is empty) and the history.
async fn seed(
    args: &SeedArgs,
    store: &Store,
    policies: &tongban_web::Policies,
) -> anyhow::Result<()> {
    if tongban_store::seed::has_history(store).await? {
        bail!("the store already holds cases, ratings or tickets; seed a fresh one");
    }
    let data = crate::catalog_cmd::demo_data()?;
    let calendar = Calendar::official().map_err(|e| anyhow::anyhow!("{e}"))?;
    let now = super::history::history_end(&calendar, jiff::Timestamp::now());
    if store.catalog.is_empty().await? {
        store.catalog.import(&data, now).await?;
        tongban_web::auth::create_demo_accounts(store, now).await?;
    }
    let versions = item_versions(store, &data).await?;
    let regions = tongban_store::seed::regions(store).await?;
    let history_policies = Policies {
        deadlines: policies.deadlines.clone(),
        rectification: policies.rectification,
        routing: (*policies.routing).clone(),
    };
    let options = HistoryOptions {
        cases: args.cases,
        tickets: args.tickets.unwrap_or(args.cases / 5),
        seed: args.seed,
        now,
    };
    let batch_size = usize::try_from(args.batch)?;
    let bar = progress_bar(args.cases, "cases");
    // The history is generated and encoded on a thread of its own while the previous batch is
    // written: two batches in flight at most.
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<EncodedBatch>(2);
    let generator = tokio::task::spawn_blocking(move || -> anyhow::Result<HistoryStats> {
        let calendar = Calendar::official().map_err(|e| anyhow::anyhow!("{e}"))?;
        let world = World::new(&data, &versions)?;
        let mut history = History::new(&world, &calendar, &history_policies, options);
        let plan = history.plan()?;
        let mut batch = SeedBatch::default();
        for day in plan {
            history.day(day, &mut batch);
            if batch.cases.len() >= batch_size || batch.tickets.len() >= batch_size {
                let full = std::mem::take(&mut batch);
                let encoded = EncodedBatch::new(&full, &regions, &calendar);
                drop(full);
                if sender.blocking_send(encoded).is_err() {
                    bail!("the writer stopped");
                }
            }
        }
        if !batch.cases.is_empty() || !batch.tickets.is_empty() || !batch.ratings.is_empty() {
            let encoded = EncodedBatch::new(&batch, &regions, &calendar);
            if sender.blocking_send(encoded).is_err() {
                bail!("the writer stopped");
            }
        }
        Ok(history.stats)
    });
    let cpu_before = cpu_time();
    let started = Instant::now();
    let mut counts = SeedCounts::default();
    let mut transactions = 0_u64;
    let mut write_time = Duration::ZERO;
    while let Some(encoded) = receiver.recv().await {
        let batch_counts = encoded.counts;
        let began = Instant::now();
        tongban_store::seed::write(store, encoded).await?;
        write_time += began.elapsed();
        transactions += 1;
        counts.add(&batch_counts);
        bar.inc(batch_counts.cases);
    }
    let stats = generator.await.context("the history generator failed")??;
    if store.engine == tongban_store::Engine::Postgres {
        tongban_store::seed::analyse(store).await?;
    }
    let elapsed = started.elapsed();
    let cpu = cpu_used(cpu_before);
    bar.finish_and_clear();
    let seconds = elapsed.as_secs_f64();
    println!(
        "loaded {} cases, {} tickets, {} ratings ({} rectification tasks) = {} rows in {seconds:.1} s \
         ({:.0} cases/s, {:.0} rows/s; {transactions} transactions, {:.1} s of them writing)",
        counts.cases,
        counts.tickets,
        counts.ratings,
        counts.rectifications,
        counts.rows(),
        counts.cases as f64 / seconds,
        counts.rows() as f64 / seconds,
        write_time.as_secs_f64()
    );
    if let Some(cpu) = cpu {
        print_cpu(cpu, elapsed, counts.cases);
    }
    let states: Vec<String> = stats
        .states
        .iter()
        .map(|(state, n)| format!("{state} {n}"))
        .collect();
    println!("  cases by state: {}", states.join(", "));
    println!(
        "  ratings: {} ({} bad), rectification tasks {}, tickets {}",
        stats.ratings, stats.bad_ratings, stats.rectifications, stats.tickets
    );
    if !stats.refused.is_empty() {
        let refused: Vec<String> = stats
            .refused
            .iter()
            .map(|(code, n)| format!("{code} {n}"))
            .collect();
        println!(
            "  actions the rules refused (the story stops there): {}",
            refused.join(", ")
        );
    }
    for (item, reason) in &stats.skipped_items {
        println!("  item {item} not applied for: {reason}");
    }
    let tables: Vec<String> = tongban_store::seed::table_counts(store)
        .await?
        .into_iter()
        .map(|(table, n)| format!("{table} {n}"))
        .collect();
    println!("  rows: {}", tables.join(", "));
    Ok(())
}

/// The published version of each demo item in the store (cases are pinned to it).
async fn item_versions(
    store: &Store,
    data: &tongban_store::files::DataSet,
) -> anyhow::Result<HashMap<String, u32>> {
    let mut versions = HashMap::new();
    for item in &data.catalog.items {
        let code = ImplementationCode::parse(item.implementation_code.as_str())
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        if let Some(record) = store.catalog.item(&code).await? {
            versions.insert(code.to_string(), record.version.version);
        }
    }
    Ok(versions)
}

/// The whole history's figures must agree with the rows they come from.
async fn check_figures(state: &AppState) -> anyhow::Result<()> {
    let counts: HashMap<String, i64> = tongban_store::seed::table_counts(&state.store)
        .await?
        .into_iter()
        .collect();
    let query = FiguresQuery {
        from: Some(
            super::history::history_start()
                .strftime("%Y-%m")
                .to_string(),
        ),
        dimension: Some("department".into()),
        ..FiguresQuery::default()
    };
    let figures = stats::figures(state, &query).await.map_err(api)?;
    let total = &figures.total.counters;
    let cases = counts.get("cases").copied().unwrap_or(0);
    let ratings = counts.get("ratings").copied().unwrap_or(0);
    let tasks = counts.get("rectifications").copied().unwrap_or(0);
    let tickets = counts.get("hotline_tickets").copied().unwrap_or(0);
    let checks = [
        ("submitted", total.submitted, cases),
        ("ratings", total.ratings, ratings),
        ("rectifications", total.rectifications, tasks),
        ("hotline_tickets", total.tickets, tickets),
    ];
    for (what, figure, rows) in checks {
        if figure != rows {
            bail!("the figures count {figure} {what} but the tables hold {rows}");
        }
    }
    println!(
        "figures {}…{}: {} submitted, {} decided, {} ratings, {} tickets — the same as the rows",
        figures.from, figures.to, total.submitted, total.decided, total.ratings, total.tickets
    );
    Ok(())
}

fn api(error: tongban_web::error::ApiError) -> anyhow::Error {
    anyhow::anyhow!("{:?}: {}", error.code, error.message)
}

/// A query the dashboard or `GET /api/v1/stats/…` makes.
#[derive(Debug, Clone)]
enum Query {
    /// `GET /api/v1/stats/kpis` (and the dashboard, the public rating figures): every figure
    /// per group; `from` none = the last twelve months.
    Figures {
        dimension: &'static str,
        from: Option<String>,
        department: Option<String>,
    },
    /// `GET /api/v1/stats/kpis.csv`.
    Csv { dimension: &'static str },
    /// `GET /api/v1/stats/trend` (and the dashboard).
    Trend { department: Option<String> },
    /// `GET /api/v1/stats/daily` over the last `days` days.
    Daily { days: i64 },
    /// `GET /api/v1/stats/alarms` (and the dashboard).
    Alarms,
}

/// Runs a query through the service; returns the number of rows it gave.
async fn run_query(state: &AppState, query: &Query) -> anyhow::Result<usize> {
    Ok(match query {
        Query::Figures {
            dimension,
            from,
            department,
        } => {
            let query = FiguresQuery {
                from: from.clone(),
                dimension: Some((*dimension).into()),
                department: department.clone(),
                ..FiguresQuery::default()
            };
            stats::figures(state, &query).await.map_err(api)?.rows.len()
        }
        Query::Csv { dimension } => {
            let query = FiguresQuery {
                dimension: Some((*dimension).into()),
                ..FiguresQuery::default()
            };
            let figures = stats::figures(state, &query).await.map_err(api)?;
            stats::to_csv(&figures).lines().count()
        }
        Query::Trend { department } => {
            let query = FiguresQuery {
                department: department.clone(),
                ..FiguresQuery::default()
            };
            stats::trend(state, &query).await.map_err(api)?.len()
        }
        Query::Daily { days } => {
            let today = tongban_domain::calendar::shanghai_date(state.clock.now());
            let from = today.checked_sub(jiff::Span::new().days(*days - 1))?;
            let query = DailyQuery {
                from: Some(from.to_string()),
                to: Some(today.to_string()),
                department: None,
            };
            stats::daily(state, &query).await.map_err(api)?.len()
        }
        Query::Alarms => stats::alarms(state).await.map_err(api)?.len(),
    })
}

async fn time_queries(app: &tongban_web::App, repetitions: u32) -> anyhow::Result<()> {
    let state = app.state();
    let whole = Some(
        super::history::history_start()
            .strftime("%Y-%m")
            .to_string(),
    );
    let busiest = busiest_department(state).await?;
    let figures = |dimension, from: &Option<String>, department: Option<&String>| Query::Figures {
        dimension,
        from: from.clone(),
        department: department.cloned(),
    };
    let queries = [
        (
            "kpis by department, 12 months (dashboard)",
            figures("department", &None, None),
        ),
        ("kpis by region, 12 months", figures("region", &None, None)),
        ("kpis by hall, 12 months", figures("hall", &None, None)),
        ("kpis by item, 12 months", figures("item", &None, None)),
        ("kpis by window, 12 months", figures("window", &None, None)),
        (
            "kpis by department, whole history",
            figures("department", &whole, None),
        ),
        ("kpis by item, whole history", figures("item", &whole, None)),
        (
            "kpis of the busiest department by item",
            figures("item", &None, Some(&busiest)),
        ),
        (
            "kpis.csv by item, 12 months",
            Query::Csv { dimension: "item" },
        ),
        (
            "trend, 12 months (dashboard)",
            Query::Trend { department: None },
        ),
        (
            "trend of the busiest department",
            Query::Trend {
                department: Some(busiest.clone()),
            },
        ),
        ("daily, 30 days", Query::Daily { days: 30 }),
        ("daily, 366 days", Query::Daily { days: 366 }),
        ("alarms (dashboard)", Query::Alarms),
    ];
    println!();
    println!(
        "query timings: {repetitions} timed run(s) after one warm-up, through the service functions the handlers call"
    );
    println!(
        "  {:<44} {:>7} {:>9} {:>9}",
        "query", "rows", "p50 ms", "max ms"
    );
    let mut slowest = Duration::ZERO;
    for (name, query) in &queries {
        let rows = run_query(state, query)
            .await
            .with_context(|| format!("{name} failed"))?;
        let mut samples = Vec::new();
        for _ in 0..repetitions {
            let began = Instant::now();
            run_query(state, query).await?;
            samples.push(began.elapsed());
        }
        let summary = Summary::of(&samples);
        slowest = slowest.max(summary.p50);
        println!(
            "  {:<44} {:>7} {:>9} {:>9}",
            name,
            rows,
            ms(summary.p50),
            ms(summary.max)
        );
    }
    let (page, bytes) = time_dashboard_page(app, repetitions).await?;
    println!(
        "  {:<44} {:>7} {:>9} {:>9}",
        "GET /dashboard (page over HTTP, bytes)",
        bytes,
        ms(page.p50),
        ms(page.max)
    );
    slowest = slowest.max(page.p50);
    println!(
        "slowest p50 {} ms (target: each dashboard query under 200 ms on SQLite at one million cases)",
        ms(slowest)
    );
    Ok(())
}

/// The department with the most cases decided in the last twelve months.
async fn busiest_department(state: &AppState) -> anyhow::Result<String> {
    let figures = stats::figures(state, &FiguresQuery::default())
        .await
        .map_err(api)?;
    Ok(figures
        .rows
        .iter()
        .max_by_key(|row| row.counters.decided)
        .map_or_else(|| "city-health".to_owned(), |row| row.key.clone()))
}

/// The dashboard page as a supervisor sees it: the real router on a loopback port, signed in
/// as the demo supervisor.
async fn time_dashboard_page(
    app: &tongban_web::App,
    repetitions: u32,
) -> anyhow::Result<(Summary, usize)> {
    let signed_in = tongban_web::auth::sign_in(
        app.state(),
        "supervisor",
        tongban_web::auth::DEMO_PASSWORD,
        tongban_web::auth::ClientAddress(None),
    )
    .await
    .map_err(api)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let router = app.router();
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    let client = reqwest::Client::new();
    let url = format!("http://{address}/dashboard");
    let cookie = format!("{}={}", tongban_web::auth::SESSION_COOKIE, signed_in.token);
    let fetch = || async {
        let response = client
            .get(&url)
            .header(reqwest::header::COOKIE, &cookie)
            .send()
            .await?;
        if !response.status().is_success() {
            bail!("GET /dashboard answered {}", response.status());
        }
        Ok::<usize, anyhow::Error>(response.bytes().await?.len())
    };
    let result = async {
        let bytes = fetch().await?;
        let mut samples = Vec::new();
        for _ in 0..repetitions {
            let began = Instant::now();
            fetch().await?;
            samples.push(began.elapsed());
        }
        Ok::<_, anyhow::Error>((Summary::of(&samples), bytes))
    }
    .await;
    server.abort();
    result
}

#[cfg(test)]
mod tests {
    use tongban_store::seed::{EncodedBatch, SeedBatch};
    use tongban_store::testing::TestStore;

    use super::*;

    /// A small history in one batch, from a fixed clock.
    fn small_history(
        data: &tongban_store::files::DataSet,
        versions: &HashMap<String, u32>,
        calendar: &Calendar,
        cases: u64,
    ) -> (SeedBatch, HistoryStats) {
        let policies = tongban_web::Policies::defaults().unwrap();
        let policies = Policies {
            deadlines: policies.deadlines.clone(),
            rectification: policies.rectification,
            routing: (*policies.routing).clone(),
        };
        let world = World::new(data, versions).unwrap();
        let options = HistoryOptions {
            cases,
            tickets: cases / 4,
            seed: 42,
            now: "2026-11-20T08:00:00Z".parse().unwrap(),
        };
        let mut history = History::new(&world, calendar, &policies, options);
        let mut batch = SeedBatch::default();
        for day in history.plan().unwrap() {
            history.day(day, &mut batch);
        }
        (batch, history.stats)
    }

    /// Replays a history through the live write path: the case, feedback and hotline ports the
    /// services call, one write at a time.
    async fn replay(store: &Store, batch: &SeedBatch) {
        for case in &batch.cases {
            let mut writes = case.writes.iter();
            let first = writes.next().unwrap().clone();
            store.cases.create_case(first).await.unwrap();
            for (version, write) in (1_u64..).zip(writes) {
                store.cases.save_case(write.clone(), version).await.unwrap();
            }
        }
        for rating in &batch.ratings {
            store
                .feedback
                .save_rating(&rating.rating, rating.task.first())
                .await
                .unwrap();
            for pair in rating.task.windows(2) {
                store
                    .feedback
                    .save_rectification(&pair[1], pair[0].version)
                    .await
                    .unwrap();
            }
        }
        for ticket in &batch.tickets {
            store
                .hotline
                .create_ticket(ticket.versions[0].clone())
                .await
                .unwrap();
            for pair in ticket.versions.windows(2) {
                store
                    .hotline
                    .save_ticket(&pair[1], pair[0].version)
                    .await
                    .unwrap();
            }
        }
    }

    #[tokio::test]
    async fn the_seeded_rollups_and_facts_are_those_the_live_path_writes() {
        let data = crate::catalog_cmd::demo_data().unwrap();
        let calendar = Calendar::official().unwrap();
        let live = TestStore::new().await.unwrap();
        let seeded = TestStore::new().await.unwrap();
        let at = tongban_store::testing::test_time();
        live.store.catalog.import(&data, at).await.unwrap();
        seeded.store.catalog.import(&data, at).await.unwrap();
        let versions = item_versions(&seeded.store, &data).await.unwrap();
        let (batch, stats) = small_history(&data, &versions, &calendar, 300);
        assert_eq!(batch.cases.len(), 300);
        // The history has what the figures distinguish: late and refused decisions, open
        // cases, bad ratings with tasks, tickets that were reopened.
        assert!(
            stats.states.get("delivered").copied().unwrap_or(0) > 200,
            "{stats:?}"
        );
        assert!(
            stats.bad_ratings > 0 && stats.rectifications > 0,
            "{stats:?}"
        );
        let reopened = batch
            .tickets
            .iter()
            .filter(|t| t.versions.last().is_some_and(|v| v.reopened > 0))
            .count();
        assert!(reopened > 0, "some callbacks reopen a ticket");

        let regions = tongban_store::seed::regions(&seeded.store).await.unwrap();
        // Two transactions, as the bench writes them: the rollup rows add up across batches.
        let (first, second) = split(&batch);
        for part in [first, second] {
            let encoded = EncodedBatch::new(&part, &regions, &calendar);
            tongban_store::seed::write(&seeded.store, encoded)
                .await
                .unwrap();
        }
        replay(&live.store, &batch).await;
        // The live path leaves the rollups to the folder; the seed must leave nothing pending.
        while live.store.stats.fold_pending().await.unwrap() > 0 {}
        assert_eq!(seeded.store.stats.fold_pending().await.unwrap(), 0);

        let expected = tongban_store::seed::rollup_rows(&live.store).await.unwrap();
        let found = tongban_store::seed::rollup_rows(&seeded.store)
            .await
            .unwrap();
        assert!(
            expected.len() > 300,
            "facts and rollup rows: {}",
            expected.len()
        );
        let missing: Vec<_> = expected
            .iter()
            .filter(|r| !found.contains(r))
            .take(5)
            .collect();
        let extra: Vec<_> = found
            .iter()
            .filter(|r| !expected.contains(r))
            .take(5)
            .collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "live rows not seeded: {missing:#?}\nseeded rows not live: {extra:#?}"
        );
        assert_eq!(found, expected);
        // The rows beside the rollups too, table by table (counters included: live numbering
        // continues after the seeded numbers). The live path also leaves rollup rows whose
        // counters went back to zero when a contribution moved (an online case gets its hall at
        // acceptance, a ticket its department at dispatch); no figure sees them, and the
        // comparison above covers every other rollup row.
        let without_zero_rows = |counts: Vec<(String, i64)>| -> Vec<(String, i64)> {
            counts
                .into_iter()
                .filter(|(table, _)| table != "stats_monthly" && table != "stats_daily")
                .collect()
        };
        let seeded_counts = tongban_store::seed::table_counts(&seeded.store)
            .await
            .unwrap();
        let live_counts = tongban_store::seed::table_counts(&live.store)
            .await
            .unwrap();
        let posted = seeded_counts
            .iter()
            .find(|(table, _)| table == "case_shipments")
            .map_or(0, |(_, n)| *n);
        assert!(posted > 0, "some results are posted: {seeded_counts:?}");
        assert_eq!(
            without_zero_rows(seeded_counts),
            without_zero_rows(live_counts)
        );
        // And a case reads back the same from both.
        let number = &batch.cases[7]
            .writes
            .last()
            .unwrap()
            .case
            .as_ref()
            .unwrap()
            .number;
        let from_live = live.store.cases.case_by_number(number).await.unwrap();
        let from_seed = seeded.store.cases.case_by_number(number).await.unwrap();
        assert!(from_seed.is_some());
        assert_eq!(from_seed, from_live);
    }

    /// The batch in two halves by case, with the ratings that belong to each half's cases and
    /// half of the tickets each.
    fn split(batch: &SeedBatch) -> (SeedBatch, SeedBatch) {
        let half = batch.cases.len() / 2;
        let numbers: std::collections::HashSet<String> = batch.cases[..half]
            .iter()
            .filter_map(|c| c.writes.last()?.case.as_ref().map(|c| c.number.clone()))
            .collect();
        let first_hall_visits = |subject: &str| numbers.contains(subject);
        let tickets = batch.tickets.len() / 2;
        let first = SeedBatch {
            cases: batch.cases[..half].to_vec(),
            ratings: batch
                .ratings
                .iter()
                .filter(|r| first_hall_visits(&r.rating.subject))
                .cloned()
                .collect(),
            tickets: batch.tickets[..tickets].to_vec(),
            case_counters: batch.case_counters.clone(),
            ticket_counters: batch.ticket_counters.clone(),
        };
        let second = SeedBatch {
            cases: batch.cases[half..].to_vec(),
            ratings: batch
                .ratings
                .iter()
                .filter(|r| !first_hall_visits(&r.rating.subject))
                .cloned()
                .collect(),
            tickets: batch.tickets[tickets..].to_vec(),
            case_counters: batch.case_counters.clone(),
            ticket_counters: batch.ticket_counters.clone(),
        };
        (first, second)
    }
}
