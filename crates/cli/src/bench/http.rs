//! `tongban bench http`: concurrent applications against a running server on this machine
//! (loopback only), bounded in count and time: sign in, upload one PDF, then POST applications.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use super::lifecycle::{application_json, sample_pdf};
use super::stats::{Summary, ms};

/// Hard bounds: the benchmark is a measuring tool, not a load generator for other machines.
const MAX_REQUESTS: u64 = 50_000;
const MAX_CONCURRENCY: u64 = 256;
const MAX_SECONDS: u64 = 120;

#[derive(Debug, Args)]
pub struct HttpArgs {
    /// The server, e.g. http://127.0.0.1:8080 (loopback addresses only); it must hold the demo
    /// data (`tongban serve --demo`).
    #[arg(long)]
    pub url: String,
    /// Applications to submit (at most 50000).
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(1..=MAX_REQUESTS))]
    pub requests: u64,
    /// Requests in flight at once (at most 256).
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..=MAX_CONCURRENCY))]
    pub concurrency: u64,
    /// Stop sending after this many seconds (at most 120).
    #[arg(long, default_value_t = MAX_SECONDS, value_parser = clap::value_parser!(u64).range(1..=MAX_SECONDS))]
    pub duration_secs: u64,
    /// The citizen account that applies.
    #[arg(long, default_value = "citizen")]
    pub account: String,
    /// Its password (the demo password by default).
    #[arg(long, env = "TONGBAN_BENCH_PASSWORD", default_value = tongban_web::auth::DEMO_PASSWORD, hide_default_value = true, hide_env_values = true)]
    pub password: String,
}

/// Accepts only http(s) URLs whose host is a loopback address or `localhost`.
pub fn loopback_base(url: &str) -> anyhow::Result<reqwest::Url> {
    let parsed = reqwest::Url::parse(url).with_context(|| format!("{url:?} is not a URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        bail!("--url must be http:// or https://");
    }
    let host = parsed.host_str().unwrap_or_default();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = match host.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => host.eq_ignore_ascii_case("localhost"),
    };
    if !loopback {
        bail!(
            "the HTTP benchmark only targets a server on this machine (127.0.0.1, ::1 or localhost)"
        );
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::loopback_base;

    #[test]
    fn only_loopback_servers_are_targets() {
        assert!(loopback_base("http://127.0.0.1:8080").is_ok());
        assert!(loopback_base("http://localhost:8080/").is_ok());
        assert!(loopback_base("http://[::1]:8080").is_ok());
        assert!(
            loopback_base("http://127.0.0.2:8080").is_ok(),
            "all of 127/8 is loopback"
        );
        assert!(loopback_base("http://10.0.0.1:8080").is_err());
        assert!(loopback_base("http://example.com").is_err());
        assert!(loopback_base("http://127.0.0.1.example.com").is_err());
        assert!(loopback_base("ftp://127.0.0.1").is_err());
        assert!(loopback_base("not a url").is_err());
    }
}

#[derive(Default)]
struct WorkerResult {
    latencies: Vec<Duration>,
    ok: u64,
    failures: BTreeMap<String, u64>,
    first_failure: Option<String>,
}

pub async fn run(args: HttpArgs) -> anyhow::Result<()> {
    let base = loopback_base(&args.url)?;
    let endpoint = |path: &str| {
        base.join(path)
            .with_context(|| format!("cannot join {path}"))
    };
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(usize::try_from(args.concurrency)?)
        .build()?;
    println!(
        "tongban bench http: {} applications to {base}, {} in flight, at most {} s",
        args.requests, args.concurrency, args.duration_secs
    );
    let login = client
        .post(endpoint("/api/v1/auth/login")?)
        .json(&serde_json::json!({ "account": args.account, "password": args.password }))
        .send()
        .await
        .context("cannot reach the server")?;
    if !login.status().is_success() {
        bail!("signing in as {} failed: {}", args.account, login.status());
    }
    let login: serde_json::Value = login.json().await?;
    let token = login["token"]
        .as_str()
        .context("the sign-in answer has no token")?
        .to_owned();
    let pdf = sample_pdf();
    let size = pdf.len();
    let upload = client
        .post(endpoint("/api/v1/uploads")?)
        .bearer_auth(&token)
        .header(reqwest::header::CONTENT_TYPE, "application/pdf")
        .body(pdf)
        .send()
        .await?;
    if !upload.status().is_success() {
        bail!("the upload failed: {}", upload.status());
    }
    let upload: serde_json::Value = upload.json().await?;
    let key = upload["upload"]
        .as_str()
        .context("the upload answer has no key")?
        .to_owned();
    println!(
        "signed in as {}; uploaded one {} KiB PDF",
        args.account,
        size / 1024
    );
    let body = Arc::new(serde_json::to_vec(&application_json(&key))?);
    let url = endpoint("/api/v1/applications")?;

    let bar = ProgressBar::new(args.requests);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} submissions {per_sec} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let next = Arc::new(AtomicU64::new(0));
    let deadline = Duration::from_secs(args.duration_secs);
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..args.concurrency.min(args.requests) {
        let client = client.clone();
        let url = url.clone();
        let token = token.clone();
        let body = body.clone();
        let next = next.clone();
        let bar = bar.clone();
        let total = args.requests;
        workers.spawn(async move {
            let mut result = WorkerResult::default();
            while started.elapsed() < deadline && next.fetch_add(1, Ordering::Relaxed) < total {
                let sent = Instant::now();
                let answer = client
                    .post(url.clone())
                    .bearer_auth(&token)
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.as_ref().clone())
                    .send()
                    .await;
                let failure = match answer {
                    Ok(response) if response.status().is_success() => {
                        // Read the whole answer: the latency is until the client has the case.
                        match response.bytes().await {
                            Ok(_) => None,
                            Err(error) => Some(("read".to_owned(), error.to_string())),
                        }
                    }
                    Ok(response) => {
                        let status = response.status().as_u16().to_string();
                        let text = response.text().await.unwrap_or_default();
                        Some((status, text.chars().take(300).collect()))
                    }
                    Err(error) => Some(("connection".to_owned(), error.to_string())),
                };
                match failure {
                    None => {
                        result.ok += 1;
                        result.latencies.push(sent.elapsed());
                    }
                    Some((kind, text)) => {
                        *result.failures.entry(kind).or_default() += 1;
                        result.first_failure.get_or_insert(text);
                    }
                }
                bar.inc(1);
            }
            result
        });
    }
    let mut latencies = Vec::new();
    let mut ok = 0;
    let mut failures: BTreeMap<String, u64> = BTreeMap::new();
    let mut first_failure = None;
    while let Some(joined) = workers.join_next().await {
        let result = joined.context("a benchmark worker failed")?;
        latencies.extend(result.latencies);
        ok += result.ok;
        for (kind, n) in result.failures {
            *failures.entry(kind).or_default() += n;
        }
        if first_failure.is_none() {
            first_failure = result.first_failure;
        }
    }
    let elapsed = started.elapsed();
    bar.finish_and_clear();
    let summary = Summary::of(&latencies);
    println!(
        "submissions: {ok} answered 2xx in {:.2} s = {:.1} submissions/s{}",
        elapsed.as_secs_f64(),
        ok as f64 / elapsed.as_secs_f64(),
        if elapsed >= deadline {
            " (stopped at the time limit)"
        } else {
            ""
        }
    );
    println!(
        "  latency ms: p50 {}, p99 {}, max {}, mean {}",
        ms(summary.p50),
        ms(summary.p99),
        ms(summary.max),
        ms(summary.mean)
    );
    if failures.is_empty() {
        println!("  errors: none");
    } else {
        let listed: Vec<String> = failures
            .iter()
            .map(|(kind, n)| format!("{kind} ×{n}"))
            .collect();
        println!("  errors: {}", listed.join(", "));
        if let Some(text) = first_failure {
            println!("  first error: {text}");
        }
    }
    Ok(())
}
