//! `tongban bench bundles`: bundle submissions (新生儿出生一件事: one parent case and one child
//! case per member that waits for nothing, with their events, outbox messages and log entries,
//! in one unit of work) through the service layer, then the same rows with plain batched SQL on
//! the same engine in the same run, and the ratio of the two.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Args;
use tongban_store::bench::RawSettings;
use tongban_store::bench_bundles::{RawBundleTemplate, RawChild, raw_bundles};
use tongban_web::services::bundle_plan::plan;
use tongban_web::services::bundles::{self as service, BundleApplicationRequest};

use super::lifecycle::{
    LifecycleArgs, actor, cpu_used, places, print_cpu, progress_bar, sample_pdf, writer_batches,
};
use super::stats::{Latencies, cpu_time, print_table};

/// The bundle every submission applies for.
const BUNDLE: &str = "newborn";

#[derive(Debug, Args)]
pub struct BundleArgs {
    /// Bundle submissions to make.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=200_000))]
    pub submissions: u64,
    /// Submissions in flight at once.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub concurrency: u64,
    /// PostgreSQL server URL (postgres://…): fresh databases are created there and dropped
    /// afterwards. Without it, SQLite in --data.
    #[arg(long)]
    pub database: Option<String>,
    /// Folder for the SQLite files [default: a temporary folder, removed afterwards].
    #[arg(long)]
    pub data: Option<std::path::PathBuf>,
    /// Submissions per transaction in the raw run [default: the SQLite writer's mean batch;
    /// 64 on PostgreSQL].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub raw_batch: Option<u64>,
    /// Raw runs on fresh stores; the fastest is the limit.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=10))]
    pub raw_runs: u64,
    /// Keep the PostgreSQL databases instead of dropping them.
    #[arg(long)]
    pub keep: bool,
}

/// A value of the right kind for a data element of the benchmark's form.
fn sample(kind: &str, options: &[String]) -> String {
    match kind {
        "id_number" => "990102198803150031".to_owned(),
        "credit_code" => "91990102MA3QH7N2KT".to_owned(),
        "date" => "2026-02-20".to_owned(),
        "phone" => "13800138000".to_owned(),
        "region_code" => "990102".to_owned(),
        "integer" => "2".to_owned(),
        "money" => "1000.00".to_owned(),
        "area" => "120.5".to_owned(),
        "choice" => options.first().cloned().unwrap_or_default(),
        "boolean" => "true".to_owned(),
        "email" => "zhang@example.cn".to_owned(),
        "postal_code" => "100000".to_owned(),
        "address" => "示范市东城区人民路1号".to_owned(),
        _ => "张子涵".to_owned(),
    }
}

pub async fn run(args: BundleArgs) -> anyhow::Result<()> {
    let lifecycle_args = LifecycleArgs {
        cases: args.submissions,
        concurrency: args.concurrency,
        database: args.database.clone(),
        data: args.data.clone(),
        raw_batch: args.raw_batch,
        raw_connections: None,
        raw_runs: args.raw_runs,
        keep: args.keep,
    };
    let places = places(&lifecycle_args).await?;
    let result = run_in(&args, &places).await;
    places.clean_up(args.keep).await;
    result
}

async fn run_in(args: &BundleArgs, places: &super::lifecycle::Places) -> anyhow::Result<()> {
    let submissions = usize::try_from(args.submissions)?;
    let concurrency = usize::try_from(args.concurrency)?.min(submissions);
    println!(
        "tongban bench bundles: {submissions} submissions of {BUNDLE}, {concurrency} in flight, on {} ({})",
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
    let clock = super::lifecycle::bench_clock()?;
    let app = tongban_web::App::new(store.clone(), clock).await?;
    let state = app.state().clone();
    let citizen = Arc::new(actor(&store, "citizen").await?);

    // The application: every question answered with its first option, every field filled,
    // every material asked uploaded once.
    let mut answers: BTreeMap<String, String> = BTreeMap::new();
    let mut planned = None;
    for _ in 0..10 {
        let current = plan(&state, &citizen, BUNDLE, &answers, &[], false)
            .await
            .map_err(|e| anyhow::anyhow!("plan: {:?} {}", e.code, e.message))?;
        let open: Vec<_> = current.questions.iter().filter(|q| !q.answered).collect();
        if open.is_empty() {
            planned = Some(current);
            break;
        }
        for question in open {
            if let Some(option) = question.options.first() {
                answers.insert(question.code.clone(), option.code.clone());
            }
        }
    }
    let planned = planned.context("the bundle's questions do not settle")?;
    let upload =
        tongban_web::services::cases::upload(&state, Some("application/pdf"), sample_pdf())
            .await
            .map_err(|e| anyhow::anyhow!("upload: {:?} {}", e.code, e.message))?;
    let form: BTreeMap<String, String> = planned
        .form
        .iter()
        .map(|f| (f.element.clone(), sample(&f.kind, &f.options)))
        .collect();
    let materials: Vec<serde_json::Value> = planned
        .materials
        .iter()
        .filter(|m| m.ask)
        .map(|m| serde_json::json!({ "code": m.code, "provided_as": "upload", "upload": upload.upload }))
        .collect();
    let request: BundleApplicationRequest = serde_json::from_value(serde_json::json!({
        "bundle": BUNDLE,
        "answers": answers,
        "form": form,
        "materials": materials,
        "delivery": { "method": "post", "recipient": "张伟", "phone": "13800138000", "address": "示范市东城区人民路1号" },
    }))?;
    let request = Arc::new(request);
    println!(
        "bundle: {} members selected, {} open at submission; {} fields, {} materials uploaded",
        planned.members.len(),
        planned
            .members
            .iter()
            .filter(|m| m.waits_for.is_empty())
            .count(),
        planned.form.len(),
        planned.materials.iter().filter(|m| m.ask).count()
    );

    let bar = progress_bar(args.submissions, "submissions");
    let next = Arc::new(AtomicU64::new(0));
    let writer_before = tongban_store::bench::writer_stats(&store);
    let cpu_before = cpu_time();
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let state = state.clone();
        let citizen = citizen.clone();
        let request = request.clone();
        let next = next.clone();
        let bar = bar.clone();
        let total = args.submissions;
        workers.spawn(async move {
            let mut latencies = Latencies::default();
            let mut done = 0_u64;
            let mut first = None;
            let mut errors = Vec::new();
            while next.fetch_add(1, Ordering::Relaxed) < total {
                let began = Instant::now();
                match service::submit(&state, &citizen, (*request).clone()).await {
                    Ok(parent) => {
                        latencies.record("submit", began.elapsed());
                        done += 1;
                        first.get_or_insert(parent.id);
                    }
                    Err(error) => errors.push(format!("{:?} {}", error.code, error.message)),
                }
                bar.inc(1);
            }
            (latencies, done, first, errors)
        });
    }
    let mut latencies = Latencies::default();
    let mut done = 0;
    let mut sample_id = None;
    let mut errors = Vec::new();
    while let Some(joined) = workers.join_next().await {
        let (worker_latencies, worker_done, first, worker_errors) =
            joined.context("a benchmark worker failed")?;
        latencies.merge(worker_latencies);
        done += worker_done;
        errors.extend(worker_errors);
        if sample_id.is_none() {
            sample_id = first;
        }
    }
    let elapsed = started.elapsed();
    let cpu = cpu_used(cpu_before);
    bar.finish_and_clear();
    if !errors.is_empty() {
        bail!(
            "{} of {submissions} submissions failed; the first: {}",
            errors.len(),
            errors[0]
        );
    }
    let rate = done as f64 / elapsed.as_secs_f64();
    println!();
    println!(
        "bundles: {done} submissions in {:.2} s = {rate:.1} submissions/s",
        elapsed.as_secs_f64()
    );
    print_table(&latencies);
    if let Some(cpu) = cpu {
        print_cpu(cpu, elapsed, done);
    }
    let writer_after = tongban_store::bench::writer_stats(&store);
    let mean_batch = writer_batches(writer_before, writer_after);

    let sample_id = sample_id.context("no submission succeeded")?;
    let template = template_of(&store, &sample_id).await?;
    let counts_service = tongban_store::bench::count_rows(&store).await?;
    drop(app);
    drop(state);
    drop(store);

    let batch = match (args.raw_batch, mean_batch) {
        (Some(batch), _) => usize::try_from(batch)?,
        // PostgreSQL's raw run keeps its own batches: more than the writer forms.
        (None, Some(mean)) if places.engine == "sqlite" => (mean.round() as usize).max(1),
        (None, _) => 64,
    };
    let connections = match places.engine {
        "sqlite" => 1,
        _ => std::thread::available_parallelism()
            .map_or(4, |n| n.get() * 2)
            .clamp(2, 16),
    };
    println!();
    println!(
        "raw limit: the same rows ({} per submission: parent, {} child cases with events and outbox, messages, log entries) \
         with plain SQL, {batch} submissions per transaction, {connections} connection(s); best of {} run(s)",
        template.rows_per_bundle(),
        template.children.len(),
        places.raw.len()
    );
    let template = Arc::new(template);
    let mut best: Option<tongban_store::bench::RawReport> = None;
    for (run, config) in places.raw.iter().enumerate() {
        let bar = progress_bar(args.submissions, "raw submissions");
        let handle = bar.clone();
        let progress: Arc<dyn Fn(u64) + Send + Sync> = Arc::new(move |n| handle.inc(n));
        let report = raw_bundles(
            config,
            template.clone(),
            RawSettings {
                cases: submissions,
                batch,
                connections,
            },
            progress,
        )
        .await?;
        bar.finish_and_clear();
        let seconds = report.elapsed.as_secs_f64();
        println!(
            "raw run {}: {} submissions = {} rows in {seconds:.2} s = {:.1} submissions/s ({} transactions, {})",
            run + 1,
            report.cases,
            report.rows,
            report.cases as f64 / seconds,
            report.transactions,
            report.durability
        );
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
    println!("  rows written, service: {}", counts(&counts_service));
    println!("  rows written, raw:     {}", counts(&report.counts));
    println!();
    println!(
        "ratio {:.2}: bundles {rate:.1} submissions/s ÷ raw {raw_rate:.1} submissions/s on {}",
        rate / raw_rate,
        places.engine
    );
    Ok(())
}

/// The rows of a real submission, read back from the store, as the raw run's template.
async fn template_of(store: &tongban_store::Store, id: &str) -> anyhow::Result<RawBundleTemplate> {
    let uuid = uuid::Uuid::parse_str(id)?;
    let parent = store
        .bundles
        .bundle_case(uuid)
        .await?
        .context("the sample submission is missing")?;
    let mut children = Vec::new();
    for case in store.bundles.bundle_children(uuid).await? {
        let events = store.cases.case_events(case.id).await?;
        let mut rows = Vec::new();
        let mut outbox = Vec::new();
        for stored in &events {
            let document = serde_json::to_string(&stored.event)?;
            outbox.push((
                format!("case.{}", stored.event.kind.name()),
                document.clone(),
            ));
            rows.push((
                stored.event.kind.name().to_owned(),
                stored.event.actor.to_string(),
                stored.public,
                document,
            ));
        }
        children.push(RawChild {
            item_code: case.item_code.to_string(),
            item_version: i32::try_from(case.item_version)?,
            department: case.department.to_string(),
            state: case.state.name().to_owned(),
            document: serde_json::to_string(&case)?,
            events: rows,
            outbox,
        });
    }
    let access = store
        .cases
        .access_log(&parent.applicant.identifier, 1000)
        .await?
        .into_iter()
        .filter(|entry| {
            entry.case_id.is_some_and(|case| {
                children
                    .iter()
                    .any(|c| c.document.contains(&case.to_string()))
            })
        })
        .map(|entry| (entry.purpose, entry.what))
        .collect();
    Ok(RawBundleTemplate {
        bundle_code: parent.bundle_code.to_string(),
        applicant_identifier: parent.applicant.identifier.clone(),
        applicant_account: parent.applicant.account.as_ref().map(ToString::to_string),
        channel: "web".to_owned(),
        parent_document: serde_json::to_string(&parent)?,
        children,
        parent_outbox: vec![(
            "bundle_case.submitted".to_owned(),
            Some("city-health".to_owned()),
            serde_json::to_string(&parent.history)?,
        )],
        access,
    })
}
