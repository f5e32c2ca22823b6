//! `tongban bench seed` at a small size: the history lands in full (counts), and the figures
//! computed on it by the stats service agree with the rows and with each other. No timing is
//! asserted; the run only has to print its timing table.
//!
//! SQLite by default; on a fresh PostgreSQL database when `TONGBAN_TEST_PG_URL` is set.

use std::collections::HashMap;
use std::process::Command;
use std::sync::Arc;

use tongban_domain::stats::Counters;
use tongban_web::services::stats::{self, FiguresQuery};

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

const CASES: i64 = 2000;

fn seed(args: &[&str]) -> TestResult<String> {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tongban"));
    command.args(["bench", "seed", "--cases", "2000", "--repetitions", "1"]);
    command.args(args);
    for (name, _) in std::env::vars() {
        if name.starts_with("TONGBAN_") {
            command.env_remove(name);
        }
    }
    let output = command.output()?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        return Err(format!(
            "tongban bench seed failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    Ok(stdout)
}

fn error(e: tongban_web::error::ApiError) -> Box<dyn std::error::Error + Send + Sync> {
    format!("{:?}: {}", e.code, e.message).into()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_seeded_history_is_complete_and_its_figures_agree() -> TestResult {
    let folder = tempfile::tempdir()?;
    let pg_server = std::env::var("TONGBAN_TEST_PG_URL")
        .ok()
        .filter(|u| !u.trim().is_empty());
    let postgres = match &pg_server {
        Some(server) => {
            let (url, name) =
                tongban_store::bench::create_postgres_database(server, "tongban_t").await?;
            Some((secrecy::ExposeSecret::expose_secret(&url).to_owned(), name))
        }
        None => None,
    };
    let data = folder.path().join("seeded");
    let data_text = data.display().to_string();
    let stdout = match &postgres {
        Some((url, _)) => seed(&["--database", url])?,
        None => seed(&["--data", &data_text])?,
    };
    let result = check(
        &stdout,
        &data,
        postgres.as_ref().map(|(url, _)| url.as_str()),
    )
    .await;
    if let (Some(server), Some((_, name))) = (&pg_server, &postgres) {
        tongban_store::bench::drop_postgres_database(server, name).await?;
    }
    result
}

async fn check(stdout: &str, data: &std::path::Path, url: Option<&str>) -> TestResult {
    assert!(
        stdout.contains("loaded 2000 cases, 400 tickets"),
        "{stdout}"
    );
    assert!(stdout.contains("the same as the rows"), "{stdout}");
    assert!(stdout.contains("query timings"), "{stdout}");
    assert!(stdout.contains("GET /dashboard"), "{stdout}");
    let config = match url {
        Some(url) => tongban_store::StorageConfig::Postgres {
            url: secrecy::SecretString::from(url.to_owned()),
        },
        None => tongban_store::StorageConfig::Sqlite {
            folder: data.to_owned(),
        },
    };
    let store = tongban_store::open(&config).await?;
    let counts: HashMap<String, i64> = tongban_store::seed::table_counts(&store)
        .await?
        .into_iter()
        .collect();
    let count = |table: &str| counts.get(table).copied().unwrap_or(0);
    assert_eq!(count("cases"), CASES);
    assert_eq!(count("case_facts"), CASES, "one fact per case");
    assert_eq!(count("hotline_tickets"), CASES / 5);
    assert!(count("case_events") > CASES * 4, "{counts:?}");
    assert!(count("ratings") > CASES / 5, "{counts:?}");
    assert!(count("rectifications") > 0, "{counts:?}");
    assert!(
        count("licences") > 0 && count("audit_log") > 0,
        "{counts:?}"
    );
    assert!(count("case_counters") > 0 && count("hotline_counters") > 0);

    let clock: Arc<dyn tongban_domain::clock::Clock> = Arc::new(tongban_web::SystemClock);
    let app = tongban_web::App::new(store.clone(), clock).await?;
    let state = app.state();
    let whole = FiguresQuery {
        from: Some("2025-01".into()),
        dimension: Some("department".into()),
        ..FiguresQuery::default()
    };
    let figures = stats::figures(state, &whole).await.map_err(error)?;
    let total = figures.total.counters;
    assert_eq!(total.submitted, CASES);
    assert_eq!(total.ratings, count("ratings"));
    assert_eq!(total.rectifications, count("rectifications"));
    assert_eq!(total.tickets, count("hotline_tickets"));
    assert!(
        total.decided > CASES * 8 / 10 && total.decided <= CASES,
        "{total:?}"
    );
    assert!(total.decided_on_time <= total.decided && total.decided_on_time > total.decided / 2);
    assert!(total.ratings_bad > 0 && total.ratings_bad < total.ratings / 4);
    assert!(total.tickets_closed > 0 && total.tickets_called_back > 0);
    for kpi in &figures.total.kpis {
        if let (Some(value), tongban_domain::stats::Unit::Percent) = (kpi.value, kpi.unit) {
            assert!((0.0..=100.0).contains(&value), "{} = {value}", kpi.code);
        }
    }
    // Every grouping of the same period adds up to the same total.
    for dimension in ["region", "department", "hall", "item"] {
        let query = FiguresQuery {
            dimension: Some(dimension.into()),
            ..whole.clone()
        };
        let grouped = stats::figures(state, &query).await.map_err(error)?;
        let mut sum = Counters::default();
        for row in &grouped.rows {
            sum.add(&row.counters);
        }
        assert_eq!(sum, total, "{dimension} rows add up to the total");
        assert_eq!(grouped.total.counters, total);
    }
    // The months of the trend add up to the same total.
    let trend = stats::trend(
        state,
        &FiguresQuery {
            from: Some("2025-01".into()),
            to: Some(figures.to.clone()),
            ..FiguresQuery::default()
        },
    )
    .await
    .map_err(error)?;
    let mut by_month = Counters::default();
    for row in &trend {
        by_month.add(&row.counters);
    }
    assert_eq!(by_month, total, "the trend adds up to the total");
    // Window figures count the visit ratings (一次一评), part of all ratings.
    let windows = stats::figures(
        state,
        &FiguresQuery {
            dimension: Some("window".into()),
            ..whole.clone()
        },
    )
    .await
    .map_err(error)?;
    assert!(windows.total.counters.ratings > 0);
    assert!(windows.total.counters.ratings < total.ratings);
    // The p90 of working days is one of the days decided cases took.
    let p90 = figures
        .total
        .kpis
        .iter()
        .find(|k| k.code == "p90_working_days")
        .and_then(|k| k.value);
    assert!(p90.is_some_and(|days| days >= 0.0), "{p90:?}");
    // Overdue cases, tickets and tasks on the alarm list are all past their date.
    for alarm in stats::alarms(state).await.map_err(error)? {
        assert!(alarm.days_overdue >= 0, "{alarm:?}");
    }
    Ok(())
}
