//! `tongban bench ask`: the one-sentence assistant on a query set (development set by default):
//! top-1 and top-3 accuracy, p50/p99 latency of one question, and the questions it missed. The
//! assistant is built over the embedded demo catalog, exactly as `tongban serve --demo` builds it.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use tongban_search::Assistant;
use tongban_search::eval::{Report, parse_query_set, record};

use super::stats::Summary;

#[derive(Debug, Args)]
pub struct AskArgs {
    /// The query set: a TSV file with the columns `query` and `expected` (a regular expression that
    /// the name of a correct answer matches). Relative paths start in the current directory.
    #[arg(long, default_value = "../shared/ask-dev-queries.tsv")]
    pub file: PathBuf,
    /// Times each question is asked (for the latency figures; accuracy uses the first round).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub rounds: u64,
}

pub fn run(args: AskArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read the query set {}", args.file.display()))?;
    let cases = parse_query_set(&text).with_context(|| format!("{}", args.file.display()))?;
    anyhow::ensure!(
        !cases.is_empty(),
        "{} holds no questions",
        args.file.display()
    );
    let data = crate::catalog_cmd::demo_data()?;
    let started = Instant::now();
    let assistant = Assistant::build(&data.catalog)?;
    let build_time = started.elapsed();

    let rounds = usize::try_from(args.rounds)?;
    let bar = ProgressBar::new((cases.len() * rounds) as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} questions {per_sec} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut report = Report::default();
    let mut latencies: Vec<Duration> = Vec::with_capacity(cases.len() * rounds);
    for round in 0..rounds {
        for case in &cases {
            let asked = Instant::now();
            let answers = assistant.ask(&case.query, 3);
            latencies.push(asked.elapsed());
            if round == 0 {
                record(&mut report, case, &answers);
            }
            bar.inc(1);
        }
    }
    bar.finish_and_clear();
    let summary = Summary::of(&latencies);
    // The slowest question by its median over the rounds: the assistant's own worst case, free of
    // the odd pre-emption that a busy machine adds to the overall p99.
    let mut slowest = Duration::ZERO;
    for question in 0..cases.len() {
        let own: Vec<Duration> = latencies
            .iter()
            .skip(question)
            .step_by(cases.len())
            .copied()
            .collect();
        slowest = slowest.max(Summary::of(&own).p50);
    }

    println!(
        "one-sentence assistant on {} ({} questions, {} entries indexed in {:.0} ms)",
        args.file.display(),
        report.total,
        assistant.len(),
        build_time.as_secs_f64() * 1000.0
    );
    println!(
        "top-1 accuracy  {:>6.1}%  ({}/{})",
        report.top1_rate() * 100.0,
        report.top1,
        report.total
    );
    println!(
        "top-3 accuracy  {:>6.1}%  ({}/{})",
        report.top3_rate() * 100.0,
        report.top3,
        report.total
    );
    println!(
        "latency         p50 {:.3} ms · p99 {:.3} ms · max {:.3} ms ({} questions asked)",
        summary.p50.as_secs_f64() * 1000.0,
        summary.p99.as_secs_f64() * 1000.0,
        summary.max.as_secs_f64() * 1000.0,
        summary.count
    );
    println!(
        "slowest question {:.3} ms (its median over {} rounds)",
        slowest.as_secs_f64() * 1000.0,
        rounds
    );
    if report.misses.is_empty() {
        println!("misses          none");
    } else {
        println!("misses (the correct answer was not first):");
        for (case, rank, names) in &report.misses {
            let rank = rank.map_or_else(|| "not in top 3".to_owned(), |r| format!("rank {r}"));
            println!(
                "  line {:>3}  {}  → expected /{}/, {rank}; answered: {}",
                case.line,
                case.query,
                case.expected.as_str(),
                if names.is_empty() {
                    "nothing".to_owned()
                } else {
                    names.join(" | ")
                }
            );
        }
    }
    Ok(())
}
