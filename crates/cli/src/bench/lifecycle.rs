//! `tongban bench lifecycle`: single-item cases end to end through the service layer (submit →
//! accept → approve … → decide → issue → deliver), then the raw storage limit on the same engine
//! in the same run, and the ratio of the two.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use tongban_domain::cases::Actor;
use tongban_domain::cases::lifecycle::Command;
use tongban_domain::catalog::CatalogDocument;
use tongban_domain::ids::ImplementationCode;
use tongban_domain::keys::AccountName;
use tongban_domain::org::Role;
use tongban_store::bench::{
    RawAction, RawAudit, RawEvent, RawLicence, RawOutbox, RawSettings, RawTemplate,
};
use tongban_store::{StorageConfig, Store};
use tongban_web::AppState;
use tongban_web::services::cases::{self as service, ActionRequest, ApplicationRequest, CaseView};

use super::stats::{Latencies, cpu_time, print_table};

/// The item every case applies for: 出生医学证明首次签发 of city-health (workflow `standard`:
/// 承办, 审核, 批准; the department has a chief representative in the demo city).
const ITEM: &str = "11990100004213675N2000101000000";

/// Most cases in one run (the raw run writes as many again).
const MAX_CASES: u64 = 1_000_000;

#[derive(Debug, Args)]
pub struct LifecycleArgs {
    /// Cases to run end to end.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(1..=MAX_CASES))]
    pub cases: u64,
    /// Cases in flight at once (concurrent requests).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub concurrency: u64,
    /// PostgreSQL server URL (postgres://…): a fresh database is created there for each run and
    /// dropped afterwards. Without it, SQLite in --data.
    #[arg(long)]
    pub database: Option<String>,
    /// Folder for the SQLite files (`lifecycle/` and `raw-1/`, `raw-2/`, … are created in it
    /// and kept) [default: a temporary folder, removed afterwards].
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Actions per transaction in the raw run [default: the SQLite writer's mean batch in the
    /// lifecycle run; 64 on PostgreSQL].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub raw_batch: Option<u64>,
    /// Connections writing side by side in the raw run on PostgreSQL [default: 2 per core, at
    /// most 16].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub raw_connections: Option<u64>,
    /// Raw runs, each on a fresh store; the fastest is the limit (the disk's sync time varies
    /// on a shared machine, and a limit is the best the engine showed).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=10))]
    pub raw_runs: u64,
    /// Keep the PostgreSQL databases instead of dropping them.
    #[arg(long)]
    pub keep: bool,
}

/// Where the two stores of a run live, and how to clean up.
pub(super) struct Places {
    pub(super) engine: &'static str,
    pub(super) lifecycle: StorageConfig,
    /// One fresh store per raw run.
    pub(super) raw: Vec<StorageConfig>,
    /// PostgreSQL: the server URL and the databases to drop.
    postgres: Option<(String, Vec<String>)>,
    pub(super) shown: String,
    _temporary: Option<tempfile::TempDir>,
}

pub(super) async fn places(args: &LifecycleArgs) -> anyhow::Result<Places> {
    if let Some(url) = &args.database {
        if !url.starts_with("postgres://") && !url.starts_with("postgresql://") {
            bail!("--database takes a postgres:// URL");
        }
        let (lifecycle, first) =
            tongban_store::bench::create_postgres_database(url, "tongban_bench")
                .await
                .context("cannot create the benchmark database")?;
        let mut names = vec![first.clone()];
        let mut raw = Vec::new();
        for _ in 0..args.raw_runs {
            let created = tongban_store::bench::create_postgres_database(url, "tongban_bench_raw")
                .await
                .context("cannot create a raw benchmark database");
            match created {
                Ok((database, name)) => {
                    raw.push(StorageConfig::Postgres { url: database });
                    names.push(name);
                }
                Err(error) => {
                    // Drop what was made before giving up.
                    for name in &names {
                        let _ = tongban_store::bench::drop_postgres_database(url, name).await;
                    }
                    return Err(error);
                }
            }
        }
        let shown = format!(
            "database {first} and {} raw database(s) on the server of --database",
            raw.len()
        );
        return Ok(Places {
            engine: "postgres",
            lifecycle: StorageConfig::Postgres { url: lifecycle },
            raw,
            postgres: Some((url.clone(), names)),
            shown,
            _temporary: None,
        });
    }
    let (root, temporary) = match &args.data {
        Some(folder) => (folder.clone(), None),
        None => {
            let dir = tempfile::Builder::new()
                .prefix("tongban-bench-")
                .tempdir()
                .context("cannot create a temporary folder")?;
            (dir.path().to_owned(), Some(dir))
        }
    };
    let lifecycle = root.join("lifecycle");
    let raw: Vec<PathBuf> = (1..=args.raw_runs)
        .map(|run| root.join(format!("raw-{run}")))
        .collect();
    for folder in std::iter::once(&lifecycle).chain(&raw) {
        if folder.join("tongban.sqlite3").exists() {
            bail!(
                "{} already holds a database; the benchmark needs fresh folders",
                folder.display()
            );
        }
    }
    Ok(Places {
        engine: "sqlite",
        shown: format!("{}", root.display()),
        lifecycle: StorageConfig::Sqlite { folder: lifecycle },
        raw: raw
            .into_iter()
            .map(|folder| StorageConfig::Sqlite { folder })
            .collect(),
        postgres: None,
        _temporary: temporary,
    })
}

impl Places {
    pub(super) async fn clean_up(&self, keep: bool) {
        let Some((url, names)) = &self.postgres else {
            return;
        };
        if keep {
            println!("kept the databases {}", names.join(", "));
            return;
        }
        for name in names {
            if let Err(error) = tongban_store::bench::drop_postgres_database(url, name).await {
                eprintln!("warning: cannot drop the benchmark database {name}: {error}");
            }
        }
    }
}

/// The people who move a case along.
struct Actors {
    citizen: Actor,
    clerk: Actor,
    approver: Actor,
    chief: Actor,
}

pub(super) async fn actor(store: &Store, account: &str) -> anyhow::Result<Actor> {
    let name = AccountName::parse(account).map_err(|e| anyhow::anyhow!("{account}: {e}"))?;
    let record = store
        .accounts
        .find_account(&name)
        .await?
        .with_context(|| format!("the demo account {account} is missing"))?;
    Ok(tongban_web::auth::actor_of(record.profile))
}

/// The first staff member of the organisation with `role` (for `department` when given).
fn staff_with(
    organisation: &tongban_domain::org::Organisation,
    role: Role,
    department: Option<&str>,
) -> Option<String> {
    organisation
        .staff
        .iter()
        .find(|member| {
            member.roles.iter().any(|assignment| {
                assignment.role == role
                    && department.is_none_or(|d| {
                        assignment
                            .department
                            .as_ref()
                            .is_some_and(|k| k.as_str() == d)
                    })
                    && (role != Role::Clerk || assignment.hall.is_some())
            })
        })
        .map(|member| member.account.to_string())
}

/// A minimal PDF (the upload check reads the first bytes), padded to a realistic scan size.
pub fn sample_pdf() -> Vec<u8> {
    let mut pdf = b"%PDF-1.4\n% tongban benchmark material\n".to_vec();
    pdf.resize(64 * 1024, b' ');
    pdf.extend_from_slice(b"\n%%EOF\n");
    pdf
}

/// The application every case makes (the citizen applies for a birth certificate, collected at
/// the city centre).
pub fn application_json(upload: &str) -> serde_json::Value {
    serde_json::json!({
        "item": ITEM,
        "answers": { "entrusted": "parent", "father_known": "no" },
        "form": {
            "child_name": "张小明",
            "child_sex": "男",
            "child_birth_date": "2026-03-01",
            "child_birth_place": "示范市妇幼保健院",
            "child_weight_grams": "3350",
            "mother_name": "王芳",
            "mother_id_number": "990102199006200045",
            "applicant_phone": "13900000001"
        },
        "materials": [
            { "code": "mother_id_card", "provided_as": "upload", "upload": upload, "file_name": "母亲身份证.pdf" },
            { "code": "birth_certificate_registration_form", "provided_as": "upload", "upload": upload, "file_name": "登记表.pdf" },
            { "code": "delivery_record", "provided_as": "upload", "upload": upload, "file_name": "分娩记录.pdf" }
        ],
        "delivery": { "method": "collect", "hall": "city-centre" }
    })
}

/// What a worker reports.
#[derive(Default)]
struct WorkerResult {
    latencies: Latencies,
    delivered: u64,
    errors: Vec<String>,
    first_case: Option<String>,
}

/// One case end to end; returns its id.
async fn one_case(
    state: &AppState,
    actors: &Actors,
    request: &ApplicationRequest,
    latencies: &mut Latencies,
) -> Result<String, String> {
    let fail = |action: &str, e: tongban_web::error::ApiError| {
        format!("{action}: {:?} {}", e.code, e.message)
    };
    let started = Instant::now();
    let mut case = service::submit(state, &actors.citizen, request.clone())
        .await
        .map_err(|e| fail("submit", e))?;
    latencies.record("submit", started.elapsed());
    let id = case.id.clone();
    // The applicant sees their pickup code; the clerk hands the result out against it.
    let pickup_code = match &case.case.delivery {
        tongban_domain::cases::Delivery::Collect { pickup_code, .. } => pickup_code.clone(),
        tongban_domain::cases::Delivery::Post { .. } => String::new(),
    };
    case = act(
        state,
        &actors.clerk,
        &case,
        Command::Accept {
            tolerated: Vec::new(),
        },
        "accept",
        latencies,
    )
    .await
    .map_err(|e| fail("accept", e))?;
    let mut guard = 0;
    while case.state.code == "in_progress" {
        guard += 1;
        if guard > 16 {
            return Err("the workflow does not end".into());
        }
        let role = case
            .step
            .as_ref()
            .map(|s| s.role.clone())
            .unwrap_or_default();
        case = if role == "chief_representative" {
            let command = Command::Decide {
                granted: true,
                opinion: "材料齐全,准予签发".into(),
            };
            act(state, &actors.chief, &case, command, "decide", latencies)
                .await
                .map_err(|e| fail("decide", e))?
        } else {
            let command = Command::Approve {
                opinion: "同意".into(),
            };
            act(
                state,
                &actors.approver,
                &case,
                command,
                "approve",
                latencies,
            )
            .await
            .map_err(|e| fail("approve", e))?
        };
    }
    case = act(
        state,
        &actors.chief,
        &case,
        Command::Issue { licence: None },
        "issue",
        latencies,
    )
    .await
    .map_err(|e| fail("issue", e))?;
    let command = Command::Collect { pickup_code };
    case = act(state, &actors.clerk, &case, command, "deliver", latencies)
        .await
        .map_err(|e| fail("deliver", e))?;
    if case.state.code != "delivered" {
        return Err(format!("the case ended {}, not delivered", case.state.code));
    }
    Ok(id)
}

async fn act(
    state: &AppState,
    actor: &Actor,
    case: &CaseView,
    command: Command,
    name: &'static str,
    latencies: &mut Latencies,
) -> Result<CaseView, tongban_web::error::ApiError> {
    let started = Instant::now();
    let view = service::act(
        state,
        actor,
        &case.id,
        ActionRequest {
            version: case.version,
            command,
        },
    )
    .await?;
    latencies.record(name, started.elapsed());
    Ok(view)
}

/// The benchmarks' clock: it starts on Monday 2026-06-01 at 09:00 in Shanghai and runs on, so
/// that their deadlines always lie in years the official calendar holds (a deadline in a year
/// without data is an error) and runs on different dates do the same work.
pub fn bench_clock() -> anyhow::Result<Arc<dyn tongban_domain::clock::Clock>> {
    let start: jiff::Timestamp = "2026-06-01T01:00:00Z".parse()?;
    Ok(Arc::new(tongban_web::ShiftedClock::starting_at(start)))
}

/// The folded rollups count every delivered case once as submitted and once as decided.
async fn check_rollups(store: &Store, delivered: u64, now: jiff::Timestamp) -> anyhow::Result<()> {
    use tongban_domain::stats::{Month, MonthRange};
    let today = tongban_domain::calendar::shanghai_date(now);
    // Cases submitted before midnight of a month's last day count in that month.
    let yesterday = today.yesterday().unwrap_or(today);
    let range = MonthRange::new(Month::of(yesterday), Month::of(today))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let rows = store.stats.monthly(range, None).await?;
    let submitted: i64 = rows.iter().map(|row| row.counters.submitted).sum();
    let decided: i64 = rows.iter().map(|row| row.counters.decided).sum();
    let expected = i64::try_from(delivered)?;
    if submitted != expected || decided != expected {
        bail!(
            "the rollups count {submitted} submitted and {decided} decided cases, not {expected}"
        );
    }
    Ok(())
}

pub(super) fn progress_bar(length: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(length);
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{{bar:40}} {{pos}}/{{len}} {what} {{per_sec}} {{elapsed}}"
        ))
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

pub async fn run(args: LifecycleArgs) -> anyhow::Result<()> {
    let places = places(&args).await?;
    let result = run_in(&args, &places).await;
    places.clean_up(args.keep).await;
    result
}

async fn run_in(args: &LifecycleArgs, places: &Places) -> anyhow::Result<()> {
    let cases = usize::try_from(args.cases)?;
    let concurrency = usize::try_from(args.concurrency)?.min(cases);
    println!(
        "tongban bench lifecycle: {cases} cases, {concurrency} in flight, on {} ({})",
        places.engine, places.shown
    );
    let store = tongban_store::open(&places.lifecycle).await?;
    let durability = tongban_store::bench::durability(&store).await?;
    println!("engine: {} with {durability}", store.engine.name());
    let now = jiff::Timestamp::now();
    store
        .catalog
        .import(&crate::catalog_cmd::demo_data()?, now)
        .await?;
    tongban_web::auth::create_demo_accounts(&store, now).await?;
    let clock = bench_clock()?;
    let app = tongban_web::App::new(store.clone(), clock).await?;
    let state = app.state().clone();

    let code = ImplementationCode::parse(ITEM).map_err(|e| anyhow::anyhow!("{e}"))?;
    let item = store
        .catalog
        .item(&code)
        .await?
        .context("the benchmark item is not in the demo catalog")?;
    let workflow = CatalogDocument::workflow_key_of(&item.definition).to_owned();
    if workflow != "standard" {
        bail!("the benchmark item uses workflow {workflow}, not standard");
    }
    let organisation = store.catalog.organisation().await?;
    let department = item.definition.department.to_string();
    let account_of = |role: Role, department: Option<&str>| {
        staff_with(&organisation, role, department)
            .with_context(|| format!("the demo city has no {role:?} for {department:?}"))
    };
    let actors = Arc::new(Actors {
        citizen: actor(&store, "citizen").await?,
        clerk: actor(&store, &account_of(Role::Clerk, None)?).await?,
        approver: actor(&store, &account_of(Role::Approver, Some(&department))?).await?,
        chief: actor(
            &store,
            &account_of(Role::ChiefRepresentative, Some(&department))?,
        )
        .await?,
    });
    println!(
        "item: {} {} (workflow {workflow}); actors: {} submits, {} accepts and delivers, {} approves, {} decides and issues",
        ITEM,
        item.definition.name,
        actors.citizen.account,
        actors.clerk.account,
        actors.approver.account,
        actors.chief.account
    );
    let upload = service::upload(&state, Some("application/pdf"), sample_pdf())
        .await
        .map_err(|e| anyhow::anyhow!("upload: {:?} {}", e.code, e.message))?;
    let request: ApplicationRequest = serde_json::from_value(application_json(&upload.upload))?;
    let request = Arc::new(request);

    // The lifecycle run.
    let bar = progress_bar(args.cases, "cases");
    let next = Arc::new(AtomicU64::new(0));
    let writer_before = tongban_store::bench::writer_stats(&store);
    let cpu_before = cpu_time();
    let started = Instant::now();
    // The rollup folder runs as in `tongban serve`; the run ends when it has folded every case.
    let (stop_rollups, rollups_stopped) = tokio::sync::oneshot::channel::<()>();
    let rollups = tokio::spawn(tongban_web::rollups::run(store.clone(), async move {
        let _ = rollups_stopped.await;
    }));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let state = state.clone();
        let actors = actors.clone();
        let request = request.clone();
        let next = next.clone();
        let bar = bar.clone();
        let total = args.cases;
        workers.spawn(async move {
            let mut result = WorkerResult::default();
            while next.fetch_add(1, Ordering::Relaxed) < total {
                match one_case(&state, &actors, &request, &mut result.latencies).await {
                    Ok(id) => {
                        result.delivered += 1;
                        result.first_case.get_or_insert(id);
                    }
                    Err(error) => result.errors.push(error),
                }
                bar.inc(1);
            }
            result
        });
    }
    let mut latencies = Latencies::default();
    let mut delivered = 0;
    let mut errors = Vec::new();
    let mut sample_case = None;
    while let Some(joined) = workers.join_next().await {
        let result = joined.context("a benchmark worker failed")?;
        latencies.merge(result.latencies);
        delivered += result.delivered;
        errors.extend(result.errors);
        if sample_case.is_none() {
            sample_case = result.first_case;
        }
    }
    let _ = stop_rollups.send(());
    rollups.await.context("the rollup folder failed")?;
    let elapsed = started.elapsed();
    let lifecycle_cpu = cpu_used(cpu_before);
    bar.finish_and_clear();
    let writer_after = tongban_store::bench::writer_stats(&store);
    if !errors.is_empty() {
        bail!(
            "{} of {cases} cases failed; the first: {}",
            errors.len(),
            errors[0]
        );
    }
    check_rollups(&store, delivered, state.clock.now()).await?;
    let lifecycle_rate = delivered as f64 / elapsed.as_secs_f64();
    let actions = latencies.total();
    println!();
    println!(
        "lifecycle: {delivered} cases delivered in {:.2} s = {lifecycle_rate:.1} cases/s ({actions} actions, {:.0} actions/s)",
        elapsed.as_secs_f64(),
        actions as f64 / elapsed.as_secs_f64()
    );
    print_table(&latencies);
    if let Some(cpu) = lifecycle_cpu {
        print_cpu(cpu, elapsed, delivered);
    }
    let mean_batch = writer_batches(writer_before, writer_after);

    // The rows of one real case, as the template of the raw run.
    let sample_case = sample_case.context("no case was delivered")?;
    let template = template_of(&store, &sample_case).await?;
    let lifecycle_counts = tongban_store::bench::count_rows(&store).await?;
    drop(app);
    drop(state);
    drop(store);

    // The raw limit.
    let batch = match (args.raw_batch, mean_batch) {
        (Some(batch), _) => usize::try_from(batch)?,
        // PostgreSQL's raw run keeps its own batches: more than the writer forms.
        (None, Some(mean)) if places.engine == "sqlite" => (mean.round() as usize).max(1),
        (None, _) => 64,
    };
    let connections = match (places.engine, args.raw_connections) {
        ("sqlite", _) => 1,
        (_, Some(n)) => usize::try_from(n)?,
        (_, None) => std::thread::available_parallelism()
            .map_or(4, |n| n.get() * 2)
            .clamp(2, 16),
    };
    let rows_per_case = template.rows_per_case();
    println!();
    println!(
        "raw limit: the same rows ({rows_per_case} per case: counter, case insert + {} updates, events, outbox, audit, licence) \
         with plain SQL, {batch} actions per transaction, {connections} connection(s), {durability}; best of {} run(s) on fresh stores",
        template.actions.len().saturating_sub(1),
        places.raw.len()
    );
    let template = Arc::new(template);
    let mut best: Option<tongban_store::bench::RawReport> = None;
    for (run, config) in places.raw.iter().enumerate() {
        let bar = progress_bar(args.cases, "raw cases");
        let progress_bar_handle = bar.clone();
        let progress: Arc<dyn Fn(u64) + Send + Sync> =
            Arc::new(move |n| progress_bar_handle.inc(n));
        let cpu_before = cpu_time();
        let report = tongban_store::bench::raw_lifecycle(
            config,
            template.clone(),
            RawSettings {
                cases,
                batch,
                connections,
            },
            progress,
        )
        .await?;
        let raw_cpu = cpu_used(cpu_before);
        bar.finish_and_clear();
        let seconds = report.elapsed.as_secs_f64();
        println!(
            "raw run {}: {} cases = {} rows in {seconds:.2} s = {:.0} rows/s = {:.1} cases/s ({} transactions, {})",
            run + 1,
            report.cases,
            report.rows,
            report.rows as f64 / seconds,
            report.cases as f64 / seconds,
            report.transactions,
            report.durability
        );
        if let Some(cpu) = raw_cpu {
            print_cpu(cpu, report.elapsed, report.cases as u64);
        }
        if best.as_ref().is_none_or(|b| report.elapsed < b.elapsed) {
            best = Some(report);
        }
    }
    let report = best.context("no raw run")?;
    let raw_rate = report.cases as f64 / report.elapsed.as_secs_f64();
    let counts = |counts: &[(String, i64)]| {
        counts
            .iter()
            .map(|(table, n)| format!("{table} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!("  rows written, lifecycle: {}", counts(&lifecycle_counts));
    println!("  rows written, raw:       {}", counts(&report.counts));
    let ratio = lifecycle_rate / raw_rate;
    println!();
    println!(
        "ratio {ratio:.2} (target ≥ 0.50): lifecycle {lifecycle_rate:.1} cases/s ÷ raw {raw_rate:.1} cases/s on {}",
        places.engine
    );
    Ok(())
}

/// CPU time used since `before`.
pub(super) fn cpu_used(before: Option<Duration>) -> Option<Duration> {
    Some(cpu_time()?.saturating_sub(before?))
}

/// This process's CPU time in a phase: the machine has other work when it is far below the
/// cores × wall time.
pub(super) fn print_cpu(cpu: Duration, wall: Duration, cases: u64) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "  cpu: {:.2} s of this process in {:.2} s on {cores} cores ({:.0}%), {:.2} ms per case",
        cpu.as_secs_f64(),
        wall.as_secs_f64(),
        100.0 * cpu.as_secs_f64() / (wall.as_secs_f64() * cores as f64),
        cpu.as_secs_f64() * 1000.0 / cases.max(1) as f64
    );
}

/// The rows of a finished case, read back from the store, as the raw run's template.
async fn template_of(store: &Store, id: &str) -> anyhow::Result<RawTemplate> {
    let uuid = uuid_of(id)?;
    let case = store
        .cases
        .case(uuid)
        .await?
        .context("the sample case is missing")?;
    let events = store.cases.case_events(uuid).await?;
    let audit = store.cases.audit_log(&case.number).await?;
    let mut outbox = Vec::new();
    let mut after = None;
    loop {
        let page = store.cases.outbox_after(after, 1000).await?;
        let Some(last) = page.last() else { break };
        after = Some((last.created_at, last.id));
        outbox.extend(page.into_iter().filter(|m| m.case_id == Some(uuid)));
    }
    let licence = match &case.licence {
        Some(identifier) => store.cases.licence(identifier.as_str()).await?,
        None => None,
    };
    let mut audit_left = audit.into_iter();
    let mut outbox_left = outbox.into_iter();
    let mut actions = Vec::new();
    for stored in &events {
        let kind = stored.event.kind.name().to_owned();
        let message = outbox_left.next();
        let state = message
            .as_ref()
            .and_then(|m| m.payload.get("state"))
            .and_then(|s| s.as_str())
            .unwrap_or("in_progress")
            .to_owned();
        let staff = case.applicant.account.as_ref() != Some(&stored.event.actor);
        let audit = if staff { audit_left.next() } else { None };
        let issues = kind == "issued";
        actions.push(RawAction {
            state,
            step: None,
            events: vec![RawEvent {
                kind,
                actor: stored.event.actor.to_string(),
                department: stored.event.department.as_ref().map(ToString::to_string),
                public: stored.public,
                document: serde_json::to_string(&stored.event)?,
            }],
            outbox: message
                .map(|m| -> anyhow::Result<RawOutbox> {
                    Ok(RawOutbox {
                        topic: m.topic,
                        department: m.department.map(|d| d.to_string()),
                        payload: serde_json::to_string(&m.payload)?,
                    })
                })
                .transpose()?
                .into_iter()
                .collect(),
            audit: audit
                .map(|a| RawAudit {
                    actor: a.actor,
                    action: a.action,
                    department: a.department.map(|d| d.to_string()),
                    detail: a.detail,
                })
                .into_iter()
                .collect(),
            licence: match (&licence, issues) {
                (Some(licence), true) => Some(RawLicence {
                    type_key: licence.type_key.to_string(),
                    holder_identifier: licence.holder.identifier.clone(),
                    issuer: licence.issuer.to_string(),
                    status: licence.status.code().to_owned(),
                    valid_from: licence.valid_from.to_string(),
                    valid_until: licence.valid_until.map(|d| d.to_string()),
                    document: serde_json::to_string(licence)?,
                }),
                _ => None,
            },
        });
    }
    if actions.is_empty() {
        bail!("the sample case has no events");
    }
    Ok(RawTemplate {
        item_code: case.item_code.to_string(),
        item_version: i32::try_from(case.item_version)?,
        department: case.department.to_string(),
        applicant_identifier: case.applicant.identifier.clone(),
        applicant_account: case.applicant.account.as_ref().map(ToString::to_string),
        hall: case.hall.as_ref().map(ToString::to_string),
        channel: "web".into(),
        case_document: serde_json::to_string(&case)?,
        actions,
    })
}

fn uuid_of(id: &str) -> anyhow::Result<uuid::Uuid> {
    uuid::Uuid::parse_str(id).map_err(|e| anyhow::anyhow!("{id}: {e}"))
}

/// Prints and returns the mean number of writes per commit of the group-commit writer between
/// two readings of its counters.
pub(super) fn writer_batches(
    before: tongban_store::writer::WriterStats,
    after: tongban_store::writer::WriterStats,
) -> Option<f64> {
    let batches = after
        .batches
        .checked_sub(before.batches)
        .filter(|b| *b > 0)?;
    let jobs = after.jobs - before.jobs;
    let mean = jobs as f64 / batches as f64;
    println!("  writer: {jobs} writes in {batches} commits, {mean:.1} writes per commit");
    Some(mean)
}
